"""No console noise anywhere (issue 14 point 10), not only on the workspace: every page each role uses, driven
through its actions on the demo corpus, in Chromium under the app's strict CSP.

Fails on any ``securitypolicyviolation`` event (it names the directive and the blocked sample, e.g. an inline
``style`` attribute swapped in by htmx or a ``<style>`` element a script adds), any console message about the
Content Security Policy, and any uncaught script error. Expected refusals (a 409 for a duplicate span) are not
noise: the console's "Failed to load resource" lines for 4xx answers are left out. The Django admin's own scripts
(prepopulated slug, calendar and clock, the filter_horizontal selector, collapsible fieldsets, changelist
filters and actions) run under the same policy as the app; they set styles through the CSSOM, which the CSP
allows, and this test keeps it that way.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Label, Suggestion
from articles.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  `${location.pathname}: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    return {user.username: user for user in get_user_model().objects.all()}


@pytest.fixture
def watched(browser, live_server, login):
    """``watched(user, width=1280)``: a page logged in as ``user``; at teardown, no CSP violation or script error."""
    contexts, problems = [], []

    def _open(user, width=1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(10_000)
        context.add_init_script(WATCH)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text}") if "Content Security Policy" in m.text else None,
        )
        login(page, live_server, user)
        contexts.append((context, page))
        return page

    yield _open
    for context, page in contexts:
        if not page.is_closed():
            problems.extend(page.evaluate("window.__violations || []"))
        context.close()
    assert problems == []


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def visit(page, live_server, url):
    """Each full page load starts a new document: collect the last one's violations before leaving it."""
    before = page.evaluate("window.__violations || []") if page.url.startswith("http") else []
    page.goto(live_server.url + url)
    settle(page)
    assert before == [], before


def test_queue_export_and_agreement_pages(watched, live_server, demo):
    page = watched(demo["editor"])
    visit(page, live_server, reverse("annotations:article-list"))
    page.locator("input[type=search]").first.fill("Corv")
    settle(page)
    visit(page, live_server, reverse("annotations:article-list") + "?status=bogus")
    page.locator("#theme-toggle").click()
    visit(page, live_server, reverse("annotations:article-list") + "?page=2")

    page = watched(demo["researcher"])
    visit(page, live_server, reverse("annotations:export"))
    page.locator("select").first.select_option(index=1)
    settle(page)
    visit(page, live_server, reverse("annotations:agreement"))
    visit(page, live_server, reverse("annotations:article-detail", args=[Article.objects.order_by("pk")[0].pk]))


def test_workspace_actions_at_a_small_screen_with_suggestions(watched, live_server, demo):
    """The sheet editor at 390 px, a note, a claim's speaker and verdict, accepting and rejecting suggestions."""
    pending = Suggestion.objects.filter(status=Suggestion.Status.PENDING, derived_from__isnull=True)
    article = pending.order_by("article_id")[0].article
    page = watched(demo["editor"], width=390)
    visit(page, live_server, reverse("annotations:article-annotate", args=[article.pk]))
    page.wait_for_selector("#workspace[data-ready]")
    page.locator("#theme-toggle").click()
    page.keyboard.press("t")
    page.keyboard.press("s")
    page.keyboard.press("a")
    settle(page)
    page.keyboard.press("s")
    page.keyboard.press("x")
    settle(page)
    page.keyboard.press("Control+z")
    settle(page)
    page.locator("#ws-body").focus()
    page.keyboard.press("Home")
    page.keyboard.press("Control+Shift+ArrowRight")
    claim = Label.objects.get(kind=Label.Kind.CLAIM)
    page.locator(f'.palette .label-btn[data-label="{claim.pk}"]').click()
    settle(page)
    page.keyboard.press("e")
    expect(page.locator("#span-note")).to_be_focused()
    page.locator("#span-note").fill("Checked against the press release.")
    page.locator("#span-editor input[name=verdict]").last.check()
    page.locator("#span-speaker").fill("A spokesperson")
    page.locator("#span-editor .span-details button[type=submit]").click()
    settle(page)
    page.locator("#span-editor [data-close-editor]").click()
    page.locator("#ws-help-open").click()
    page.keyboard.press("Escape")


def test_review_and_gold_pages(watched, live_server, demo):
    ready = Article.objects.filter(status=Article.Status.READY_FOR_REVIEW).order_by("pk")[0]
    reviewed = Article.objects.filter(status=Article.Status.REVIEWED).order_by("pk")[0]
    page = watched(demo["reviewer"])
    visit(page, live_server, reverse("annotations:article-review", args=[ready.pk]))
    for key in ("j", "k", "a", "u", "x", "u", "y", "u"):
        page.keyboard.press(key)
        settle(page)
    page.keyboard.press("?")
    page.keyboard.press("Escape")
    visit(page, live_server, reverse("annotations:article-gold", args=[reviewed.pk]))
    visit(page, live_server, reverse("annotations:article-annotate", args=[reviewed.pk]))
    page.wait_for_selector("#workspace[data-ready]")

    page = watched(demo["editor"])
    visit(page, live_server, reverse("annotations:article-annotate", args=[reviewed.pk]))
    page.wait_for_selector("#workspace[data-ready]")
    page.keyboard.press("d")
    page.keyboard.press("1")


def test_admin_scripts(watched, live_server, demo):
    page = watched(demo["curator"])
    visit(page, live_server, reverse("admin:index"))
    visit(page, live_server, reverse("admin:annotations_label_add"))
    page.locator("#id_name").press_sequentially("Product launch")
    visit(page, live_server, reverse("admin:articles_article_changelist"))
    page.locator("#changelist-filter details summary").first.click()
    page.locator("#action-toggle").check()
    visit(page, live_server, reverse("admin:articles_article_change", args=[Article.objects.order_by("pk")[0].pk]))
    for link in page.locator(".datetimeshortcuts a").all():
        link.click()
    page.keyboard.press("Escape")
    for summary in page.locator("fieldset details summary").all():
        summary.click()
    visit(page, live_server, reverse("admin:auth_user_change", args=[demo["editor"].pk]))
    for chooser in page.locator(".selector-chooseall").all():
        chooser.click()
    visit(page, live_server, reverse("admin:annotations_span_changelist"))
    page.locator("#searchbar").fill("Larchfield")
    page.locator("#searchbar").press("Enter")
    settle(page)


def test_the_label_slug_fills_in_from_the_name(watched, live_server, demo):
    """Issue 14 defect 9: Django's prepopulate script runs under the CSP and fills the slug as the name is typed."""
    page = watched(demo["curator"])
    visit(page, live_server, reverse("admin:annotations_label_add"))
    page.locator("#id_name").press_sequentially("Product Launch 2")
    expect(page.locator("#id_slug")).to_have_value("product-launch-2")
    page.locator("#id_slug").fill("launch")
    page.locator("#id_name").press_sequentially("!")
    expect(page.locator("#id_slug")).to_have_value("launch")  # a slug typed by hand is left alone
