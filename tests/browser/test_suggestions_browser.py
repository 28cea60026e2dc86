"""Suggestions in Debian's Chromium: labelling a name outlines its other occurrences, s / a / Enter / x answer
them, Ctrl+Z undoes, and a rejected suggestion does not come back after a reload."""

import pytest
from playwright.sync_api import expect

from annotations.models import Span
from annotations.suggestions.models import SuggestionDecision
from tests.browser.test_workspace_browser import drag, open_workspace, press, python_offsets  # noqa: F401
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BODY = (
    "👩🏽‍💻 Lisa Su opened the keynote.\n\n"
    "Later Lisa Su said the chip ships in May; Lisa Sue did not.\n\n"
    "Analysts asked Lisa Su about prices, and Lisa Su declined."
)


@pytest.fixture
def article(db):
    return ArticleFactory(title="Keynote", body=BODY)


def test_label_then_accept_reject_and_undo_suggestions_by_key(open_workspace, article, editor):  # noqa: F811
    page = open_workspace(article)
    drag(page, "Lisa Su")
    assert press(page, "1", path="/spans/") == 200
    outlined = page.locator("#ws-body .seg.sug")
    expect(outlined).to_have_count(3)  # every other whole "Lisa Su"; never "Lisa Sue"
    expect(outlined.first).to_have_attribute("data-labels", "suggested PERSON")
    expect(page.locator("#ws-panel .sug-item")).to_have_count(3)

    # s selects the next suggestion (focus on it); a accepts it as the editor's own span.
    page.locator("#ws-body").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    expect(page.locator("#ws-body .seg.sug.sel")).to_have_count(1)
    assert press(page, "a", path="/suggestions/accept/") == 200
    expect(outlined).to_have_count(2)
    second = python_offsets(BODY, "Lisa Su", 1)
    accepted = Span.objects.get(article=article, origin=Span.Origin.SUGGESTION)
    assert (accepted.start, accepted.end, accepted.annotator_id) == (*second, editor.pk)

    # x rejects the next one; Enter accepts the one after.
    page.keyboard.press("s")
    assert press(page, "x", path="/suggestions/reject/") == 200
    expect(outlined).to_have_count(1)
    rejected = python_offsets(BODY, "Lisa Su", 3)  # occurrence 2 is "Lisa Sue"
    page.keyboard.press("s")
    expect(page.locator("#ws-body .seg.sug.sel")).to_have_count(1)
    assert press(page, "Enter", path="/suggestions/accept/") == 200
    expect(outlined).to_have_count(0)

    # Undo the accept (the span goes, the suggestion is back), then the rejection (back too).
    assert press(page, "Control+z", path="/undo/") == 200
    expect(outlined).to_have_count(1)
    assert press(page, "Control+z", path="/undo/") == 200
    expect(outlined).to_have_count(2)
    assert not SuggestionDecision.objects.filter(decision="rejected").exists()

    # Reject it again: after a reload it stays away.
    page.keyboard.press("Escape")
    page.locator(f'#ws-body .seg.sug[data-start="{rejected[0]}"]').click()
    assert press(page, "x", path="/suggestions/reject/") == 200
    page.reload()
    page.wait_for_selector("#workspace[data-ready]")
    starts = page.locator("#ws-body .seg.sug").evaluate_all("els => els.map(e => Number(e.dataset.start))")
    assert rejected[0] not in starts and len(starts) == 1
    # The new keys are listed in the ? dialog.
    page.keyboard.press("?")
    expect(page.locator("#ws-help")).to_contain_text("Accept the selected suggestion")


LONG = (
    " ".join(
        f"{who} met Lisa Su on day {day} and the board agreed to ship the chip." for day, who in enumerate("ABCDEF")
    )
    + " Filler text without a name, long enough that three short stretches stay under half of it." * 3
)


def test_a_label_that_suggests_elsewhere_splices_each_changed_stretch(open_workspace, editor):  # noqa: F811
    from annotations.models import Label
    from tests.factories import SpanFactory

    article = ArticleFactory(title="Many places", body=LONG)
    person = Label.objects.get(slug="person")
    for day in range(6):  # spans between the places: the cut points that keep each stretch short
        start = LONG.index(f"day {day}")
        SpanFactory(article=article, label=person, start=start, end=start + 5, annotator=editor)
    page = open_workspace(article)
    drag(page, "Lisa Su")
    with page.expect_response(lambda r: "/spans/" in r.url and r.request.method == "POST") as response:
        page.keyboard.press("1")
    assert b"data-windows=" in response.value.body()  # several stretches, not the whole text
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    expect(page.locator("#ws-body .seg.sug")).to_have_count(5)
    spliced = page.locator("#ws-body").inner_html().replace(' sel"', '"')  # the new span is selected
    assert page.evaluate("window.__noReload") == "kept"
    page.reload()
    page.wait_for_selector("#workspace[data-ready]")
    assert page.locator("#ws-body").inner_html() == spliced
