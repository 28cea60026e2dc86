"""axe-core on every page and state the editor, reviewer and researcher meet (issue 14), in Debian's Chromium."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.spans.services import span_create
from tests.browser.test_workspace_browser import article, drag, open_workspace, press

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

__all__ = ["article", "open_workspace"]


def test_workspace_states(axe, open_workspace, article, editor, labels):
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_create(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    page = open_workspace(article)
    axe(where="workspace, loaded")
    page.locator("#ws-body .seg.hl", has_text="said the chip").click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    axe(where="workspace, claim editor open")
    drag(page, "Larchfield Systems")
    press(page, "2", path="/spans/")
    axe(where="workspace, after a label")
    page.keyboard.press("?")
    expect(page.locator("#ws-help")).to_be_visible()
    axe(where="workspace, shortcuts dialog")
    page.locator("#ws-help button", has_text="Close").click()
    page.locator("#theme-toggle").click()
    axe(where="workspace, dark mode")
    del person


MISSING_IDS = """() => [
  ...document.querySelectorAll("[aria-describedby], [aria-labelledby], [aria-controls], label[for]")
].flatMap((element) => ["aria-describedby", "aria-labelledby", "aria-controls", "for"]
    .flatMap((name) => (element.getAttribute(name) || "").split(/\\s+/).filter(Boolean)
      .filter((id) => !document.getElementById(id)).map((id) => `${name}=${id}`)))"""


@pytest.mark.parametrize("user", ["editor", "reviewer", "researcher", "curator"])
def test_pages_each_role_sees(axe, page, live_server, login, article, request, user):
    account = request.getfixturevalue(user)
    login(page, live_server, account)
    for name, args in [
        ("annotations:article-list", []),
        ("annotations:export", []),
        ("annotations:article-detail", [article.pk]),
    ]:
        response = page.goto(live_server.url + reverse(name, args=args))
        if response.status == 403:
            continue
        axe(where=f"{name} as {user}")
        # axe-core passes a reference to a missing id; a screen reader then reads nothing (the export page did).
        assert page.evaluate(MISSING_IDS) == [], f"{name} as {user}"
    page.goto(live_server.url + reverse("annotations:article-list") + "?status=nonsense")
    axe(where="queue with a bad filter")
