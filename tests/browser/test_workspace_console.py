"""No console noise on workspace actions (issue 14 point 10): the strict CSP blocked an inline style on most actions.

Every console error and every CSP violation the page reports (``securitypolicyviolation`` events, which name the
directive and the blocked sample even when the console text changes between Chromium versions) fails the test.
"""

import pytest
from django.urls import reverse

from tests.browser.test_workspace_browser import BODY, drag, press, stored
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


def test_create_relabel_delete_undo_leave_the_console_clean(page, live_server, login, editor, labels):
    article = ArticleFactory(title="Chip news", body=BODY)
    errors = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.add_init_script(WATCH)
    login(page, live_server, editor)
    page.goto(live_server.url + reverse("annotations:article-annotate", args=[article.pk]))
    page.wait_for_selector("#workspace[data-ready]")

    drag(page, "Mara Okonkwo")
    press(page, "1", path="/spans/")
    press(page, "2", path="/spans/relabel/")
    press(page, "Delete", path="/spans/delete/")
    press(page, "Control+z", path="/undo/")
    assert stored(article) == [("org", 0, 12, "Mara Okonkwo")]
    page.locator("#ws-body .seg.hl").first.click()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    # The rest of the toolbar: text size, find, mark done, the shortcuts dialog.
    page.locator("[data-text-size='1']").click()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    page.keyboard.type("Larchfield")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.locator("#ws-body").click()
    press(page, "d", path="/status/")
    page.locator("#ws-help-open").click()

    assert page.evaluate("window.__violations") == []
    assert errors == []
