"""Lost answers in Debian's Chromium: the server stored a change (or not) but the page never heard back.

Playwright's ``page.route`` lets the real request reach the server and then drops or replaces its answer, as a
killed worker or a broken connection would. The page must say what it knows, ask the server, and end up
showing exactly what the database holds.
"""

import pytest
from playwright.sync_api import expect

from annotations.spans.services import span_create
from tests.browser import test_workspace_browser as workspace
from tests.browser.test_workspace_browser import BODY, drag, python_offsets, stored

# The workspace tests' fixtures, shared as they are.
open_workspace = workspace.open_workspace
article = workspace.article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHECKING = "The server did not answer; checking what was saved…"

# Every text the error region shows, in order (its element is replaced by each out-of-band swap).
RECORD_ERRORS = """() => {
  window.__errors = [];
  new MutationObserver(() => {
    const text = document.getElementById("ws-error")?.textContent.trim();
    if (text && window.__errors.at(-1) !== text) window.__errors.push(text);
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}"""


def settle(page):
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")


def page_spans(page):
    return page.locator("#ws-body .seg.hl")


def test_a_500_after_the_delete_was_stored_reports_it_saved(open_workspace, article, editor, labels):
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    page = open_workspace(article)
    page.evaluate(RECORD_ERRORS)

    def stored_then_500(route):
        route.fetch()  # the server deletes the span and commits
        route.fulfill(status=500, body="Internal Server Error")

    page.route("**/spans/delete/", stored_then_500)
    page_spans(page).click()
    settle(page)  # the span editor's own request lands first, not after the delete (seen under load)
    with page.expect_response(lambda r: "/writes/" in r.url):
        page.keyboard.press("Delete")
    settle(page)
    expect(page.locator("#ws-message")).to_have_text("Your change was saved: Deleted PERSON “Mara Okonkwo”.")
    assert page.evaluate("window.__errors") == [CHECKING]
    expect(page.locator("#ws-error")).to_be_empty()
    assert stored(article) == []
    expect(page_spans(page)).to_have_count(0)
    assert page.evaluate("window.__noReload") == "kept"


def test_a_connection_dropped_after_the_create_was_sent_shows_the_stored_span(open_workspace, article):
    page = open_workspace(article)
    page.evaluate(RECORD_ERRORS)

    def stored_then_dropped(route):
        route.fetch()
        route.abort("connectionreset")

    page.route("**/spans/", stored_then_dropped)
    drag(page, "Larchfield Systems")
    with page.expect_response(lambda r: "/writes/" in r.url):
        page.keyboard.press("2")
    settle(page)
    start, end = python_offsets(BODY, "Larchfield Systems")
    assert stored(article) == [("org", start, end, "Larchfield Systems")]
    expect(page.locator("#ws-message")).to_have_text(
        "Your change was saved: Labelled “Larchfield Systems” ORG."
    )  # issue 14: creates say so
    expect(page_spans(page)).to_have_text("Larchfield Systems")
    assert page.evaluate("window.__errors") == [CHECKING]


def test_a_create_that_never_reached_the_server_says_nothing_was_saved(open_workspace, article):
    page = open_workspace(article)
    page.evaluate(RECORD_ERRORS)
    page.route("**/spans/", lambda route: route.abort("connectionreset"))
    drag(page, "Larchfield Systems")
    with page.expect_response(lambda r: "/writes/" in r.url):
        page.keyboard.press("2")
    settle(page)
    expect(page.locator("#ws-error")).to_have_text("Your change was not saved; nothing was changed. Try again.")
    assert page.evaluate("window.__errors") == [CHECKING, "Your change was not saved; nothing was changed. Try again."]
    assert stored(article) == []
    expect(page_spans(page)).to_have_count(0)
    page.unroute("**/spans/")
    drag(page, "Larchfield Systems")  # trying again works: a fresh key
    with page.expect_response(lambda r: r.url.endswith("/spans/") and r.request.method == "POST") as answer:
        page.keyboard.press("2")
    assert answer.value.status == 200
    settle(page)
    assert [row[0] for row in stored(article)] == ["org"]


def test_when_the_check_cannot_reach_the_server_either_the_page_says_it_does_not_know(open_workspace, article):
    page = open_workspace(article)
    page.route("**/spans/", lambda route: route.abort("connectionreset"))
    page.route("**/writes/", lambda route: route.abort("connectionreset"))
    drag(page, "Larchfield Systems")
    page.keyboard.press("2")
    expect(page.locator("#ws-error")).to_contain_text("whether your last change was saved is unknown")


def test_ctrl_z_in_another_browser_session_undoes_the_editors_last_change(
    open_workspace, browser, live_server, login, article, editor
):
    """Undo history is the editor's on the article, not the tab's: a second browser (its own session) undoes it."""
    page = open_workspace(article)
    drag(page, "Larchfield Systems")
    with page.expect_response(lambda r: r.url.endswith("/spans/") and r.request.method == "POST"):
        page.keyboard.press("2")
    settle(page)
    assert [row[0] for row in stored(article)] == ["org"]

    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    try:
        login(other, live_server, editor)
        other.goto(workspace.annotate_url(live_server, article))
        other.wait_for_selector("#workspace[data-ready]")
        other.locator("#ws-body").focus()
        with other.expect_response(lambda r: "/undo/" in r.url):
            other.keyboard.press("Control+z")
        expect(other.locator("#ws-message")).to_have_text("Removed ORG “Larchfield Systems”.")
        assert stored(article) == []
        expect(other.locator("#ws-undo button")).to_be_disabled()
    finally:
        other.context.close()
