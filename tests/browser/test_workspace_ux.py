"""Issue 14 in Debian's Chromium: selection over highlights, stale pages, keyboard flow, feedback where the eye is."""

import pytest
from playwright.sync_api import expect

from annotations.models import Span
from annotations.spans.services import span_create
from tests.browser.test_workspace_browser import (
    BODY,
    annotate_url,
    article,
    drag,
    open_workspace,
    press,
    python_offsets,
    stored,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

__all__ = ["article", "open_workspace"]  # fixtures shared with the workspace tests


def test_a_drag_starting_on_a_highlight_selects_the_dragged_text(open_workspace, article, editor, labels):
    """Defect 1: a drag from the first word of a claim selected nothing once the claim had been chosen (clicked or
    reached with Tab), and the next label key relabelled the claim instead."""
    claim = span_create(article=article, label=labels["claim"], start=16, end=62, annotator=editor)
    span_create(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    page = open_workspace(article)
    page.locator("#ws-body .seg.hl", has_text="Larchfield").click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    drag(page, "Larchfield Systems")
    assert page.evaluate("window.getSelection().toString()") == "Larchfield Systems"
    press(page, "2", path="/spans/")
    assert ("org", 16, 34, "Larchfield Systems") in stored(article)
    assert Span.objects.get(pk=claim.pk).label.slug == "claim"  # never relabelled behind the editor's back
    # Reached with Tab, then a drag over the nested person and on into the claim.
    page.locator("#ws-body").focus()
    page.keyboard.press("Tab")
    drag(page, "Mara Okonkwo of Larchfield")
    assert page.evaluate("window.getSelection().toString()") == "Mara Okonkwo of Larchfield"
    press(page, "3", path="/spans/")
    assert ("claim", *python_offsets(BODY, "Mara Okonkwo of Larchfield"), "Mara Okonkwo of Larchfield") in stored(
        article
    )
    assert Span.objects.get(pk=claim.pk).label.slug == "claim"


def test_a_label_key_never_acts_on_a_span_the_editor_did_not_choose(open_workspace, article, editor, labels):
    span_create(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    page = open_workspace(article)
    # A plain click on unmarked text then a label key: nothing was chosen, nothing changes.
    page.locator("#ws-body .seg:not(.hl)").first.click()
    page.keyboard.press("2")
    expect(page.locator("#ws-message")).to_contain_text("Select some text first")
    assert stored(article) == [("claim", 0, 62, BODY[:62])]


def test_a_stale_page_redraws_in_place_and_says_what_changed(open_workspace, page, article, editor, labels):
    """Defect 2: deleted in another tab, clicked here → the page went blank with a JS error."""
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_create(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    page = open_workspace(article)
    Span.objects.filter(pk=person.pk).delete()  # the other tab
    page.locator("#ws-body .seg.hl", has_text="Mara Okonkwo").click()
    expect(page.locator("#ws-error")).to_contain_text("no longer exists")
    expect(page.locator("#ws-body .seg.hl")).to_have_count(1)  # the text now shows what is stored
    expect(page.locator("#ws-body")).to_contain_text("Quillix OS")
    expect(page.locator(".palette")).to_be_visible()
    assert page.evaluate("window.__noReload") == "kept"
    # The same for a label key aimed at a span that has gone.
    org = Span.objects.get(label__slug="org")
    page.locator("#ws-body .seg.hl").click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: ORG")
    Span.objects.filter(pk=org.pk).delete()
    press(page, "1", path="/spans/relabel/")
    expect(page.locator("#ws-error")).to_contain_text("no longer exists")
    expect(page.locator("#ws-body .seg.hl")).to_have_count(0)
    expect(page.locator("#ws-body")).to_contain_text("Quillix OS")
    assert page.evaluate("window.__noReload") == "kept"


def test_text_is_one_tab_away_and_the_caret_stays_after_labelling(open_workspace, article):
    """Defect 5: fifteen Tabs from load to the text, and the caret went back to offset 0 after each label."""
    page = open_workspace(article)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the article text")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "ws-body"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    press(page, "1", path="/spans/")
    assert stored(article) == [("person", 0, 12, "Mara Okonkwo")]
    # The caret is where the label was applied, not back at the top.
    page.keyboard.press("Control+Shift+ArrowRight")
    assert page.evaluate("window.getSelection().toString()") == " of"
    # Paragraph and sentence jumps, listed in the ? dialog.
    page.keyboard.press("}")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("window.getSelection().toString()") == "Te"
    page.keyboard.press(")")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("window.getSelection().toString()") == "Re"
    # One key from anywhere back to the text.
    page.locator("#ws-find-text").focus()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "ws-body"
    page.keyboard.press("?")
    for text in ("Previous / next paragraph", "Previous / next sentence", "Find in the article"):
        expect(page.locator("#ws-help")).to_contain_text(text)


def test_small_screen_palette_leaves_the_text_and_the_editor_opens_in_view(browser, live_server, login, editor, labels):
    """Defect 3: at 390 px the sticky palette covered ~40% of the screen and the span editor landed at y≈3,500."""
    from tests.factories import ArticleFactory

    body = "\n\n".join(f"Paragraph {n} about Mara Okonkwo and the chip that ships in May." for n in range(40))
    article = ArticleFactory(title="Long news", body=body)
    start = body.index("Paragraph 20")
    span_create(article=article, label=labels["person"], start=start, end=start + 12, annotator=editor)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    login(page, live_server, editor)
    page.goto(annotate_url(live_server, article))
    page.wait_for_selector("#workspace[data-ready]")
    page.locator("#ws-body .seg.hl").scroll_into_view_if_needed()
    palette = page.locator(".palette").bounding_box()
    assert palette["height"] < 844 * 0.12
    page.locator("#ws-body .seg.hl").click()
    editor_box = page.locator("#span-editor .span-editor").bounding_box()
    assert editor_box is not None and 0 <= editor_box["y"] < 844 and editor_box["y"] + 40 < 844
    page.locator("#span-editor [data-close-editor]").click()
    expect(page.locator("#span-editor .span-editor")).to_have_count(0)
    # The queue reflows: nothing wider than the screen.
    page.goto(live_server.url + "/articles/")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    context.close()


def test_deleting_a_claims_speaker_warns_first_and_undo_brings_back_the_same_span(
    open_workspace, article, editor, labels
):
    """Defect 4: the speaker went without a word, and the claim showed "Someone not marked"."""
    from annotations.spans import claims

    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    claim = span_create(article=article, label=labels["claim"], start=16, end=62, annotator=editor)
    claims.span_set_details(span=claim, actor=editor, note="", speaker="", speaker_span=person.pk, verdict=None)
    page = open_workspace(article)
    page.locator("#ws-body .seg.hl", has_text="Mara Okonkwo").click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: PERSON")
    assert press(page, "Delete", path="/spans/delete/") == 409
    expect(page.locator("#ws-error")).to_contain_text("as its speaker")
    assert Span.objects.filter(pk=person.pk).exists()
    assert press(page, "Delete", path="/spans/delete/") == 200
    assert not Span.objects.filter(pk=person.pk).exists()
    press(page, "Control+z", path="/undo/")
    assert Span.objects.filter(pk=person.pk).exists()  # the same id: the claim's speaker is linked again
    page.locator("#ws-body .seg.hl", has_text="said the chip").click()
    expect(page.locator("#span-speaker-span")).to_have_value(str(person.pk))


def test_esc_closes_the_shortcuts_dialog_even_with_text_selected_behind_it(open_workspace, article):
    """Found hunting the console noise: with a find match (a text selection) behind it, Esc went to the workspace's
    own Esc (drop the selection) and the `?` dialog stayed open over the page."""
    page = open_workspace(article)
    page.keyboard.press("/")
    page.keyboard.type("Larchfield")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert page.evaluate("window.getSelection().toString()") == "Larchfield"
    page.keyboard.press("?")
    expect(page.locator("#ws-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#ws-help")).to_be_hidden()


def test_a_spans_edges_do_not_cover_its_first_and_last_letters(open_workspace, article, editor, labels):
    """Seen in the screenshots: the dark rule where a span begins and ends was drawn over the "L" and the "s" of
    "Larchfield Systems" (an inset shadow on a box with no room for it)."""
    span_create(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    page = open_workspace(article)
    gaps = page.evaluate(
        """() => {
          const seg = document.querySelector("#ws-body .seg.hl.open.close");
          const text = seg.firstChild;
          const range = document.createRange();
          range.setStart(text, 0); range.setEnd(text, 1);
          const first = range.getBoundingClientRect();
          range.setStart(text, text.length - 1); range.setEnd(text, text.length);
          const last = range.getBoundingClientRect();
          const box = seg.getBoundingClientRect();
          return [seg.textContent, first.left - box.left, box.right - last.right];
        }"""
    )
    text, before, after = gaps
    assert text == "Larchfield Systems"
    assert before >= 2 and after >= 2, gaps  # the rule is 2 px wide
