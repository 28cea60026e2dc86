"""The editor workspace in Debian's Chromium: selections become code-point offsets, keys and clicks make htmx
round trips, and the page never reloads."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from annotations.imports.services import corpus_import
from annotations.models import Assignment, Span
from annotations.spans.services import span_create
from annotations.suggestions.models import Suggestion
from annotations.workspace.rendering import contrast_ratio
from articles.importers import txt
from articles.models import Article, body_sha256
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BODY = (
    "Mara Okonkwo of Larchfield Systems said the chip ships in May.\n\n"
    "Team 👩🏽‍💻 and 👨‍👩‍👧‍👦 met Mara again. Rene\u0301e flew to 東京 today; «مرحبا بكم»\tsaid Layla.\n\n"
    "Quillix OS is the privacy-first Linux distribution.\nTry it today."
)

# Where the nth occurrence of a string is in the rendered text, as DOM points and as on-screen boxes of its
# first and last UTF-16 unit. The test then drags the real mouse across those boxes.
LOCATE = """
([needle, which]) => {
  const root = document.getElementById("ws-body");
  let at = -1;
  for (let i = 0; i <= which; i++) at = root.textContent.indexOf(needle, at + 1);
  if (at < 0) throw new Error("not on the page: " + needle);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const wanted = [at, at + needle.length - 1];
  const points = [];
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    wanted.forEach((unit, i) => {
      if (points[i] === undefined && unit >= seen && unit < seen + node.data.length) points[i] = [node, unit - seen];
    });
    seen += node.data.length;
  }
  const box = ([node, offset]) => {
    const range = document.createRange();
    range.setStart(node, offset);
    range.setEnd(node, offset + 1);
    const rect = range.getClientRects()[0];
    return { left: rect.left, right: rect.right, y: rect.top + rect.height / 2 };
  };
  window.__points = points;
  return [box(points[0]), box(points[1])];
}
"""

SELECT = """
([needle, which]) => {
  const root = document.getElementById("ws-body");
  let at = -1;
  for (let i = 0; i <= which; i++) at = root.textContent.indexOf(needle, at + 1);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0, start, end;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!start && at < seen + node.data.length) start = [node, at - seen];
    if (!end && at + needle.length <= seen + node.data.length) end = [node, at + needle.length - seen];
    seen += node.data.length;
  }
  window.getSelection().setBaseAndExtent(start[0], start[1], end[0], end[1]);
}
"""


def annotate_url(live_server, article):
    return live_server.url + reverse("annotations:article-annotate", args=[article.pk])


@pytest.fixture
def open_workspace(page, live_server, login, editor):
    # Script errors and anything the strict CSP blocks fail the test that caused them.
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )

    def _open(article, user=editor):
        login(page, live_server, user)
        page.goto(annotate_url(live_server, article))
        page.wait_for_selector("#workspace[data-ready]")
        # Survives only if no full page load happens from here on.
        page.evaluate("window.__noReload = 'kept'")
        return page

    yield _open
    assert problems == []


@pytest.fixture
def article(db):
    return ArticleFactory(title="Chip news", body=BODY)


def drag(page, needle, which=0):
    first, last = page.evaluate(LOCATE, [needle, which])
    page.mouse.move(first["left"] + 1, first["y"])
    page.mouse.down()
    page.mouse.move(last["right"] - 1, last["y"], steps=8)
    page.mouse.up()


def press(page, key, *, path):
    """Press ``key`` and wait for the htmx POST it causes and for the page to settle."""
    with page.expect_response(lambda r: path in r.url and r.request.method == "POST") as response:
        page.keyboard.press(key)
    status = response.value.status
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    return status


def python_offsets(body, needle, which=0):
    start = -1
    for _ in range(which + 1):
        start = body.index(needle, start + 1)
    return start, start + len(needle)


def stored(article):
    return sorted(Span.objects.filter(article=article).values_list("label__slug", "start", "end", "text"))


def test_mouse_drag_and_hotkey_create_a_span_at_python_offsets(open_workspace, article):
    page = open_workspace(article)
    drag(page, "Larchfield Systems")
    assert press(page, "2", path="/spans/") == 200
    start, end = python_offsets(BODY, "Larchfield Systems")
    assert stored(article) == [("org", start, end, "Larchfield Systems")]
    segment = page.locator("#ws-body .seg.hl")
    expect(segment).to_have_text("Larchfield Systems")
    expect(segment).to_have_attribute("data-labels", "ORG")
    expect(page.locator("#ws-panel .span-item")).to_have_text(re.compile("Larchfield Systems"))
    expect(page.locator("#ws-status .status")).to_have_text("In progress")
    assert page.evaluate("window.__noReload") == "kept"


def test_offsets_after_zwj_emoji_sequences_and_skin_tones(open_workspace, article):
    page = open_workspace(article)
    drag(page, "Mara", which=1)  # the second "Mara", after 👩🏽‍💻 and 👨‍👩‍👧‍👦
    press(page, "1", path="/spans/")
    assert stored(article) == [("person", *python_offsets(BODY, "Mara", 1), "Mara")]
    # The JavaScript counted UTF-16 units on the way: the emoji before it take 7 and 11 units, 4 and 7 code points.
    assert len("👩🏽‍💻".encode("utf-16-le")) // 2 == 7 and len("👩🏽‍💻") == 4
    assert page.evaluate("window.__noReload") == "kept"


@pytest.mark.parametrize("needle", ["👨‍👩‍👧‍👦", "Rene\u0301e", "東京", "«مرحبا بكم»", "Layla"])
def test_selections_across_unicode_store_python_offsets(open_workspace, article, needle):
    page = open_workspace(article)
    page.evaluate(SELECT, [needle, 0])
    press(page, "3", path="/spans/")
    assert stored(article) == [("claim", *python_offsets(BODY, needle), needle)]


def test_a_selection_inside_an_emoji_widens_to_the_whole_emoji(open_workspace, article):
    page = open_workspace(article)
    page.locator("#ws-snap").uncheck()
    # Select only the first two code units (the woman) of the family emoji.
    page.evaluate(SELECT, ["\U0001f468", 0])
    press(page, "3", path="/spans/")
    assert stored(article) == [("claim", *python_offsets(BODY, "👨‍👩‍👧‍👦"), "👨‍👩‍👧‍👦")]


def test_crlf_imported_article(open_workspace, tmp_path, labels):
    path = Path(tmp_path) / "story.txt"
    path.write_bytes("Windows story\r\nFirst line 👍🏾 here.\r\n\r\nSecond paragraph names Mara Okonkwo.\r\n".encode())
    corpus_import(records=list(txt.read(path)))
    article = Article.objects.get(title="Windows story")
    assert "\r" not in article.body
    page = open_workspace(article)
    drag(page, "Mara Okonkwo")
    press(page, "1", path="/spans/")
    assert stored(article) == [("person", *python_offsets(article.body, "Mara Okonkwo"), "Mara Okonkwo")]
    # A selection across the blank line keeps its "\n\n" and matches the stored body exactly.
    drag(page, "here.\n\nSecond")
    press(page, "4", path="/spans/")
    assert ("sponsored", *python_offsets(article.body, "here.\n\nSecond"), "here.\n\nSecond") in stored(article)


def test_snapping_to_words_and_the_remembered_toggle(open_workspace, page, article):
    page = open_workspace(article)
    drag(page, "konkwo of Larch")
    press(page, "3", path="/spans/")
    assert stored(article) == [("claim", *python_offsets(BODY, "Okonkwo of Larchfield"), "Okonkwo of Larchfield")]
    page.keyboard.press("w")
    expect(page.locator("#ws-snap")).not_to_be_checked()
    page.reload()
    page.wait_for_selector("#workspace[data-ready]")
    expect(page.locator("#ws-snap")).not_to_be_checked()
    drag(page, "hip ships")
    press(page, "3", path="/spans/")
    assert ("claim", *python_offsets(BODY, "hip ships"), "hip ships") in stored(article)


def test_overlapping_spans_render_and_each_can_be_selected_and_deleted(open_workspace, article, editor, labels):
    claim = span_create(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    page = open_workspace(article)
    both = page.locator("#ws-body .seg.n2")
    expect(both).to_have_text("Mara Okonkwo")
    expect(both).to_have_attribute("data-spans", f"{claim.pk} {person.pk}")
    both.hover()
    assert page.evaluate("getComputedStyle(document.querySelector('.seg.n2'), '::after').content") == '"CLAIM + PERSON"'
    # Two stacked colours: the person's background and the claim's band beneath it.
    colours = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('.seg.n2'));"
        " return [s.backgroundColor, s.backgroundImage]; })()"
    )
    assert colours[0] == "rgb(255, 209, 102)" and "rgb(197, 225, 165)" in colours[1]
    ink = page.evaluate("getComputedStyle(document.querySelector('.seg.n2')).color")
    assert ink == "rgb(29, 35, 42)"
    assert contrast_ratio("#1d232a", "#ffd166") >= 4.5

    both.click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: PERSON")
    both.click()  # the same place again: the span around it
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    both.click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: PERSON")
    press(page, "Delete", path="/spans/delete/")
    assert stored(article) == [("claim", 0, 62, BODY[:62])]
    page.locator("#ws-body .seg.hl").first.click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    press(page, "Backspace", path="/spans/delete/")
    assert stored(article) == []
    expect(page.locator("#ws-body .seg.hl")).to_have_count(0)
    assert page.evaluate("window.__noReload") == "kept"


def test_relabel_with_a_hotkey_and_with_a_click(open_workspace, article, editor, labels):
    span_create(article=article, label=labels["person"], start=16, end=34, annotator=editor)
    page = open_workspace(article)
    page.locator("#ws-body .seg.hl").click()
    press(page, "2", path="/spans/relabel/")
    assert stored(article) == [("org", 16, 34, "Larchfield Systems")]
    expect(page.locator("#ws-body .seg.hl")).to_have_class(re.compile(r"\bl1-org\b"))
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: ORG")  # still selected after the swap
    with page.expect_response(lambda r: "/spans/relabel/" in r.url):
        page.locator(".palette .label-btn", has_text="SPONSORED").click()
    assert stored(article) == [("sponsored", 16, 34, "Larchfield Systems")]


def test_undo_create_delete_and_relabel(open_workspace, article):
    page = open_workspace(article)
    drag(page, "Mara Okonkwo")
    press(page, "1", path="/spans/")
    press(page, "2", path="/spans/relabel/")  # the new span is selected: relabel it
    assert stored(article) == [("org", 0, 12, "Mara Okonkwo")]
    press(page, "Delete", path="/spans/delete/")
    assert stored(article) == []
    press(page, "Control+z", path="/undo/")
    assert stored(article) == [("org", 0, 12, "Mara Okonkwo")]
    expect(page.locator("#ws-message")).to_have_text("Restored ORG “Mara Okonkwo”.")
    press(page, "Control+z", path="/undo/")
    assert stored(article) == [("person", 0, 12, "Mara Okonkwo")]
    press(page, "Control+z", path="/undo/")
    assert stored(article) == []
    expect(page.locator("#ws-undo button")).to_be_disabled()
    assert page.evaluate("window.__noReload") == "kept"


def test_keyboard_only_labels_a_span(open_workspace, article):
    page = open_workspace(article)
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "ws-body":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ws-body"
    page.keyboard.press("ArrowRight")  # the caret appears at the start of the text
    expect(page.locator("#ws-caret")).to_be_visible()
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    assert page.evaluate("window.getSelection().toString().trim()") == "Mara Okonkwo"
    press(page, "1", path="/spans/")
    assert stored(article) == [("person", 0, 12, "Mara Okonkwo")]
    # The caret stays where the label was applied (issue 14); Shift+arrows select character by character.
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    for _ in range(18):
        page.keyboard.press("Shift+ArrowRight")
    press(page, "2", path="/spans/")
    assert ("org", 16, 34, "Larchfield Systems") in stored(article)
    assert page.evaluate("window.__noReload") == "kept"


def test_tab_walks_through_spans_and_enter_cycles_overlaps(open_workspace, article, editor, labels):
    span_create(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_create(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    page = open_workspace(article)
    page.locator("#ws-body").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    expect(page.locator("#ws-body .seg.sel")).to_have_count(4)  # every piece of the claim
    page.keyboard.press("Enter")
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: PERSON")
    page.keyboard.press("Tab")
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: ORG")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_side_panel_item_selects_and_scrolls_to_the_span(open_workspace, article, editor, labels):
    start = BODY.index("Quillix")
    span_create(article=article, label=labels["sponsored"], start=start, end=len(BODY), annotator=editor)
    page = open_workspace(article)
    page.locator(".span-item", has_text="Quillix OS").click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: SPONSORED")
    expect(page.locator("#ws-body .seg.sel")).to_have_text(BODY[start:])
    expect(page.locator("#ws-body .seg.sel")).to_be_focused()


def test_note_and_claim_attributes_keep_shortcut_keys_quiet_while_typing(open_workspace, article, editor, labels):
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    claim = span_create(article=article, label=labels["claim"], start=16, end=62, annotator=editor)
    page = open_workspace(article)
    page.locator("#ws-body .seg.hl", has_text="said the chip").click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    page.keyboard.press("e")
    expect(page.locator("#span-note")).to_be_focused()
    page.keyboard.type("dates need 1 check")  # d, n and 1 are shortcuts outside fields
    page.locator("#span-speaker-span").select_option(str(person.pk))
    page.locator("input[name=verdict][value=disputed]").check()
    with page.expect_response(lambda r: "/spans/details/" in r.url):
        page.locator("#span-editor button", has_text="Save").click()
    claim.refresh_from_db()
    assert claim.note == "dates need 1 check"
    assert claim.attributes == {"speaker": "Mara Okonkwo", "speaker_span": person.pk, "verdict": "disputed"}
    article.refresh_from_db()
    assert article.status == Article.Status.NEW
    assert Span.objects.count() == 2
    expect(page.locator("#ws-message")).to_have_text("Saved.")


def test_refusal_shows_in_the_error_region(open_workspace, article, labels):
    page = open_workspace(article)
    page.evaluate(
        """(label) => {
            const form = document.getElementById("span-create");
            Object.assign(form.elements.label, {value: label});
            form.elements.start.value = "0"; form.elements.end.value = "4"; form.elements.text.value = "Nope";
            form.requestSubmit();
        }""",
        labels["person"].pk,
    )
    expect(page.locator("#ws-error")).to_contain_text("does not match the article at 0–4")
    assert stored(article) == []
    drag(page, "Mara Okonkwo")
    press(page, "1", path="/spans/")
    expect(page.locator("#ws-error")).to_be_empty()  # a success clears it
    assert page.evaluate("window.__noReload") == "kept"


def test_done_next_and_help(open_workspace, page, live_server, article):
    following = ArticleFactory(title="Next one")
    page = open_workspace(article)
    page.keyboard.press("?")
    expect(page.locator("#ws-help")).to_be_visible()
    expect(page.locator("#ws-help")).to_contain_text("Undo your last create, delete or relabel")
    page.keyboard.press("d")  # keys are quiet while the help is open
    page.keyboard.press("Escape")
    expect(page.locator("#ws-help")).to_be_hidden()
    page.evaluate("window.__segment = document.querySelector('#ws-body .seg')")
    with page.expect_response(lambda r: "/status/" in r.url and r.request.method == "POST") as response:
        page.keyboard.press("d")
    expect(page.locator("#ws-status .status")).to_have_text("Done")  # the editor's own progress
    expect(page.locator("#ws-status .article-status")).to_contain_text("1 of 2 editors done")
    # Neither the text nor the panel came again: progress shows in neither.
    assert 'id="ws-body"' not in response.value.text() and 'id="ws-panel"' not in response.value.text()
    assert page.evaluate("window.__segment.isConnected")
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION  # k = 2: one editor's Done is not the article's
    page.keyboard.press("n")
    page.wait_for_url(annotate_url(live_server, following))
    expect(page.locator("h1")).to_have_text("Next one")
    page.goto(live_server.url + "/")
    expect(page.locator("tr", has_text="Chip news").locator(".status")).to_have_text("In annotation")


def test_selection_module(open_workspace, article):
    page = open_workspace(article)
    cases = page.evaluate(
        """async () => {
            const m = await import("/static/js/selection.js");
            const r = (body, s, e, snapWords = true) => {
                const got = m.refine(body, s, e, { snapWords });
                return got && [got.start, got.end, got.text];
            };
            return {
                trim: r("  Mara Okonkwo  said", 0, 15),
                snap: r("Mara Okonkwo said", 6, 9),
                exact: r("Mara Okonkwo said", 6, 9, false),
                apostrophe: r("O'Brien's lab", 3, 5),
                zwj: r("a 👩🏽‍💻 b", 2, 3, false),
                accent: r("Rene\u0301e", 0, 4, false),
                arabic: r("قال «مرحبا بكم» أمس", 6, 8),
                tab: r("word\\tnext", 4, 9),
                space: r("a   b", 1, 3),
                cpBefore: [[1], [2], [2, true], [3]].map((args) => m.codePointsBefore("a😀b", ...args)),
                units: m.unitsBefore("a😀b", 2),
            };
        }"""
    )
    assert cases["trim"] == [2, 14, "Mara Okonkwo"]
    assert cases["snap"] == [5, 12, "Okonkwo"]
    assert cases["exact"] == [6, 9, "kon"]
    assert cases["apostrophe"] == [0, 9, "O'Brien's"]
    assert cases["zwj"] == [2, 6, "👩🏽‍💻"]
    assert cases["accent"] == [0, 5, "Rene\u0301"]
    arabic = "قال «مرحبا بكم» أمس"
    assert cases["arabic"] == [arabic.index("مرحبا"), arabic.index("مرحبا") + 5, "مرحبا"]
    assert cases["tab"] == [5, 9, "next"]
    assert cases["space"] is None
    assert cases["cpBefore"] == [1, 1, 2, 2]
    assert cases["units"] == 3


def test_a_lapsed_login_sends_the_editor_to_the_login_page(open_workspace, page, article):
    page = open_workspace(article)
    page.context.clear_cookies(name="sessionid")
    drag(page, "Mara Okonkwo")
    page.keyboard.press("1")
    page.wait_for_url(re.compile(r"/login/\?next=%2Farticles%2F\d+%2Fannotate%2F$"))
    assert stored(article) == []


# Only the changed stretch of the text is redrawn ---------------------------------------------------------------

# Every segment of the text as the page holds it; "sel" marks the selected span and is not part of the drawing.
SEGMENTS = """
() => [...document.getElementById("ws-body").children].map((element) => ({
  tag: element.tagName,
  start: element.dataset.start,
  spans: element.dataset.spans ?? null,
  opens: element.dataset.opens ?? null,
  labels: element.dataset.labels ?? null,
  // Not the selection's mark, nor htmx's own while it settles a swap (htmx-added, htmx-settling).
  classes: [...element.classList].filter((name) => name !== "sel" && !name.startsWith("htmx-")).join(" "),
  text: element.textContent,
}))
"""


# The side panel as a reader meets it: each group's heading and count, then its items' ids and texts, in order.
PANEL = """() => [...document.querySelectorAll("#ws-panel .span-group")].map((group) => ({
  id: group.id,
  heading: group.querySelector("h3").textContent,
  items: [...group.querySelectorAll("li")].map((item) => [item.id, item.querySelector(".span-item").textContent]),
}))
"""


def spliced(page, key, *, path):
    """Press ``key``; check the answer carried only a stretch of the text and the page spliced it in."""
    with page.expect_response(lambda r: path in r.url and r.request.method == "POST") as response:
        page.keyboard.press(key)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    html = response.value.text()
    assert 'data-from="' in html and 'id="ws-body" hx-swap-oob' not in html
    assert page.evaluate("document.getElementById('ws-body-patch').childElementCount") == 0


def _four_copies_with_orgs(article, editor, labels) -> str:
    """The article's text four times over, "Larchfield Systems" labelled ORG in each copy: long enough that a change
    redraws a stretch, not the whole text. Returns the new text."""
    long_body = "\n\n".join([BODY] * 4)
    Article.objects.filter(pk=article.pk).update(body=long_body, body_sha256=body_sha256(long_body))
    article.refresh_from_db()
    for which in range(4):
        start, end = python_offsets(long_body, "Larchfield Systems", which)
        span_create(article=article, label=labels["org"], start=start, end=end, annotator=editor)
    return long_body


def _drawn_as_a_fresh_load_draws(page, drawn) -> None:
    """``drawn`` (the page's segments after its changes) is what a fresh load of the page draws, and the page was
    never reloaded meanwhile."""
    fresh = page.context.new_page()
    fresh.goto(page.url)
    fresh.wait_for_selector("#workspace[data-ready]")
    assert drawn == fresh.evaluate(SEGMENTS)
    # The side panel too: answers insert single items and counts into it (a create's), or swap it whole.
    assert page.evaluate(PANEL) == fresh.evaluate(PANEL)
    assert page.evaluate("window.__noReload") == "kept"


def test_windowed_creates_relabels_and_deletes_leave_the_text_a_fresh_load_would_draw(
    open_workspace, article, editor, labels
):
    long_body = _four_copies_with_orgs(article, editor, labels)
    page = open_workspace(article)

    page.evaluate(SELECT, ["Mara Okonkwo", 2])
    # A PERSON name found elsewhere in the text becomes suggestions there (issue 12): the whole text is redrawn.
    assert press(page, "1", path="/spans/") == 200
    expect(page.locator("#ws-body .seg.sug")).to_have_count(3)
    mara = Span.objects.get(label__slug="person")
    page.evaluate(SELECT, ["Okonkwo of Larchfield Systems said", 2])
    spliced(page, "3", path="/spans/")
    claim = Span.objects.get(label__slug="claim")
    # The new span is selected and all its pieces marked, as after a full redraw.
    pieces = page.locator(f'#ws-body [data-spans~="{claim.pk}"]').count()
    assert pieces > 1
    expect(page.locator("#ws-body .seg.sel")).to_have_count(pieces)
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: CLAIM")
    page.evaluate(SELECT, ["東京", 1])
    press(page, "2", path="/spans/")  # an ORG found three more times: suggestions there, a full redraw
    spliced(page, "4", path="/spans/relabel/")  # the new span is selected: a label key relabels it
    page.evaluate(SELECT, ["Quillix OS", 3])
    press(page, "1", path="/spans/")  # suggested on the three other copies too: a full redraw
    page.locator(f'.span-item[data-span="{mara.pk}"]').click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: PERSON")
    spliced(page, "Delete", path="/spans/delete/")
    expect(page.locator("#ws-body .seg.sel")).to_have_count(0)

    assert stored(article) == sorted(
        [("org", *python_offsets(long_body, "Larchfield Systems", which), "Larchfield Systems") for which in range(4)]
        + [
            ("sponsored", *python_offsets(long_body, "東京", 1), "東京"),
            ("person", *python_offsets(long_body, "Quillix OS", 3), "Quillix OS"),
            ("claim", claim.start, claim.end, "Okonkwo of Larchfield Systems said"),
        ]
    )
    drawn = page.evaluate(SEGMENTS)
    assert "".join(segment["text"] for segment in drawn) == long_body
    _drawn_as_a_fresh_load_draws(page, drawn)


def test_a_reviewed_article_offers_an_editor_nothing_they_may_not_do(open_workspace, article, editor, labels):
    """Issue 14 defect 7: the page shows what this editor may do on a reviewed article, which is to read it."""
    span = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    Assignment.objects.create(article=article, user=editor, started_at=timezone.now(), done_at=timezone.now())
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    page = open_workspace(article)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    # Their own progress is Done, but the article is reviewed: no Reopen (the server would refuse it).
    expect(page.locator("#ws-status .status")).to_have_text("Done")
    expect(page.locator("#ws-status button")).to_have_count(0)
    expect(page.locator("#ws-status")).to_contain_text("only a reviewer can send it back")
    expect(page.locator("#ws-undo button")).to_be_disabled()
    page.keyboard.press("d")
    expect(page.locator("#ws-message")).to_contain_text("This article is reviewed")
    page.evaluate("document.getElementById('ws-message').textContent = ''")

    # Its span opens read-only: no note form, no Delete; keys that would change it say why instead.
    page.locator(f'#ws-body [data-spans~="{span.pk}"]').first.click()
    expect(page.locator("#span-editor .span-editor")).to_contain_text("Read-only")
    expect(page.locator("#span-editor form")).to_have_count(0)
    for key in ("2", "Delete", "Control+z"):
        page.keyboard.press(key)
        expect(page.locator("#ws-message")).to_contain_text("your spans here are read-only")
        page.evaluate("document.getElementById('ws-message').textContent = ''")
    page.keyboard.press("Escape")
    drag(page, "Larchfield Systems")
    page.keyboard.press("1")
    expect(page.locator("#ws-message")).to_contain_text("your spans here are read-only")

    assert posts == []
    assert stored(article) == [("person", 0, 12, "Mara Okonkwo")]
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED


def test_a_reviewer_on_a_reviewed_article_can_send_it_back(open_workspace, article, reviewer):
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    page = open_workspace(article, user=reviewer)
    expect(page.locator("#ws-status button")).to_have_text("Send back d")
    assert press(page, "d", path="/status/") == 200
    article.refresh_from_db()
    assert article.status == Article.Status.NEW


def test_undo_splices_its_stretch_and_a_note_leaves_the_text_alone(open_workspace, article, editor, labels):
    """An undo that takes away, brings back or relabels one span answers with that span's stretch, which the page
    splices in; a note answers without the text, and the page keeps the very elements it had. Either way the text
    ends as a fresh load draws it."""
    long_body = _four_copies_with_orgs(article, editor, labels)
    page = open_workspace(article)

    page.evaluate(SELECT, ["Okonkwo of Larchfield Systems said", 2])
    spliced(page, "3", path="/spans/")  # a CLAIM: suggests nothing elsewhere
    assert ("claim", *python_offsets(long_body, "Okonkwo of Larchfield Systems said", 2)) in [
        s[:3] for s in stored(article)
    ]
    spliced(page, "Control+z", path="/undo/")  # takes it away
    expect(page.locator("#ws-message")).to_contain_text("Removed CLAIM")
    assert not Span.objects.filter(label__slug="claim").exists()

    larchfield = Span.objects.filter(article=article).order_by("start")[1]
    page.locator(f'.span-item[data-span="{larchfield.pk}"]').click()
    spliced(page, "Delete", path="/spans/delete/")
    spliced(page, "Control+z", path="/undo/")  # brings it back under its own id
    expect(page.locator("#ws-message")).to_contain_text("Restored ORG")
    assert Span.objects.filter(pk=larchfield.pk).exists()

    page.locator(f'.span-item[data-span="{larchfield.pk}"]').click()
    expect(page.locator("#span-editor h2")).to_contain_text("Selected: ORG")
    page.evaluate("window.__segment = document.querySelector('#ws-body .seg')")
    page.keyboard.press("e")
    expect(page.locator("#span-note")).to_be_focused()
    page.keyboard.type("checked twice")
    with page.expect_response(lambda r: "/spans/details/" in r.url) as response:
        page.locator("#span-editor button", has_text="Save").click()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    html = response.value.text()
    assert 'id="ws-body"' not in html and "data-from" not in html
    assert page.evaluate("window.__segment.isConnected")  # the text was not redrawn
    # Nor the panel: the span's item alone, with its note.
    assert 'id="ws-panel"' not in html and html.count("<li") == 1
    expect(page.locator(f'#ws-item-{larchfield.pk} .badge[title="checked twice"]')).to_have_count(1)
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))
    expect(page.locator(f'.span-item[data-span="{larchfield.pk}"] + .badge')).to_have_text("note")
    larchfield.refresh_from_db()
    assert larchfield.note == "checked twice"

    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))


def test_a_create_into_shown_groups_inserts_its_items_where_a_fresh_load_lists_them(
    open_workspace, article, editor, labels
):
    long_body = _four_copies_with_orgs(article, editor, labels)
    page = open_workspace(article)
    page.evaluate(SELECT, ["Quillix OS", 0])
    press(page, "2", path="/spans/")  # ORG, suggested in the three other copies: a new group of suggestions
    expect(page.locator("#ws-sug-group-org li")).to_have_count(3)
    page.evaluate(SELECT, ["Quillix OS", 2])  # a suggested place, between ORG spans of the list
    with page.expect_response(lambda r: "/spans/" in r.url and r.request.method == "POST") as response:
        page.keyboard.press("2")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    answer = response.value.text()
    # Neither the panel nor a group came back: the new item, the suggestion it hid, the counts.
    assert 'id="ws-panel"' not in answer and 'class="span-group' not in answer
    assert 'hx-swap-oob="beforebegin:#ws-item-' in answer and 'hx-swap-oob="delete:#ws-sug-item-' in answer
    expect(page.locator("#ws-count-org")).to_have_text("6")
    expect(page.locator("#ws-sug-group-org li")).to_have_count(2)
    start, _ = python_offsets(long_body, "Quillix OS", 2)
    created = Span.objects.get(article=article, start=start)
    # The new item is where the list orders it (by place in the text) and selects its span like any other.
    ids = page.locator("#ws-list-org li").evaluate_all("(items) => items.map((item) => item.id)")
    in_text_order = Span.objects.filter(article=article, label=labels["org"]).order_by("start").values_list("pk")
    assert ids == [f"ws-item-{pk}" for (pk,) in in_text_order]
    assert ids.index(f"ws-item-{created.pk}") == 4  # copy 2's "Larchfield" comes before its "Quillix OS"
    page.locator(f"#ws-item-{created.pk} .span-item").click()
    expect(page.locator("#span-editor h2")).to_contain_text(f"Selected: ORG {start}")
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))


def test_suggestion_items_a_create_inserts_accept_and_reject_like_the_others(open_workspace, article, editor, labels):
    """Items put in by an answer's out-of-band insert are processed by htmx as the page's own: their Accept and
    Reject post in the background, the page is never reloaded, and the list ends as a fresh load draws it."""
    long_body = _four_copies_with_orgs(article, editor, labels)
    for which in range(4):  # boundaries near "Layla" in each copy: the stretches to redraw stay short
        start, end = python_offsets(long_body, "«مرحبا بكم»", which)
        span_create(article=article, label=labels["sponsored"], start=start, end=end, annotator=editor)
    page = open_workspace(article)
    page.evaluate(SELECT, ["Quillix OS", 0])
    press(page, "2", path="/spans/")  # ORG, suggested in the three other copies: the group of suggestions starts
    page.evaluate(SELECT, ["Layla", 0])
    with page.expect_response(lambda r: "/spans/" in r.url and r.request.method == "POST") as response:
        page.keyboard.press("2")  # ORG again, suggested in the other copies: items into the group the page shows
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    answer = response.value.text()
    assert 'id="ws-panel"' not in answer and 'class="span-group' not in answer
    assert answer.count('class="sug-row"') == 3
    expect(page.locator("#ws-sug-group-org li")).to_have_count(6)
    expect(page.locator("#ws-sug-count-org")).to_have_text("6")
    inserted = Suggestion.objects.filter(article=article, text="Layla").order_by("start")
    first, second, third = inserted[0], inserted[1], inserted[2]
    with page.expect_response(lambda r: "/suggestions/" in r.url and r.request.method == "POST") as accepted:
        page.locator(f"#ws-sug-item-{first.pk} .sug-accept").click()
    assert accepted.value.status == 200 and accepted.value.request.headers.get("hx-request") == "true"
    expect(page.locator(f"#ws-sug-item-{first.pk}")).to_have_count(0)
    with page.expect_response(lambda r: "/suggestions/" in r.url and r.request.method == "POST") as rejected:
        page.locator(f"#ws-sug-item-{second.pk} .sug-reject").click()
    assert rejected.value.request.headers.get("hx-request") == "true"
    # A rejection answers with its stretch of the text and the item it takes away, as an accept does.
    assert 'data-from="' in rejected.value.text() and 'id="ws-panel"' not in rejected.value.text()
    expect(page.locator(f"#ws-sug-item-{second.pk}")).to_have_count(0)
    expect(page.locator("#ws-sug-count-org")).to_have_text("4")
    assert Span.objects.filter(article=article, start=first.start, label__slug="org").exists()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))
    # By keyboard alone: Tab reaches an item's Reject, Enter presses it (the page's one form, in the background).
    page.locator(f"#ws-sug-item-{third.pk} .sug-accept").focus()
    page.keyboard.press("Tab")
    expect(page.locator(f"#ws-sug-item-{third.pk} .sug-reject")).to_be_focused()
    with page.expect_response(lambda r: "/suggestions/reject/" in r.url) as by_key:
        page.keyboard.press("Enter")
    assert by_key.value.status == 200 and by_key.value.request.headers.get("hx-request") == "true"
    expect(page.locator(f"#ws-sug-item-{third.pk}")).to_have_count(0)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    page.locator("#ws-body").focus()
    with page.expect_response(lambda r: "/undo/" in r.url and r.request.method == "POST"):
        page.keyboard.press("Control+z")
    expect(page.locator(f"#ws-sug-item-{third.pk}")).to_have_count(1)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    # Undoing the rejection puts the item back where it was, and its outline in the text.
    page.locator("#ws-body").focus()
    with page.expect_response(lambda r: "/undo/" in r.url and r.request.method == "POST") as undone:
        page.keyboard.press("Control+z")
    assert 'data-from="' in undone.value.text() and 'id="ws-panel"' not in undone.value.text()
    expect(page.locator(f"#ws-sug-item-{second.pk}")).to_have_count(1)
    expect(page.locator("#ws-sug-count-org")).to_have_text("5")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))


def test_groups_a_write_starts_or_empties_come_and_go_in_place(open_workspace, article, editor, labels):
    """A span of a label the panel does not list yet comes with its group, put among the others in label order
    (htmx's out-of-band ``afterend:`` and ``beforebegin:``), and the group its last span leaves goes (``delete:``);
    the answers carry no panel (the first suggestions, their own part of it), and the page ends as a fresh load
    draws it."""
    _four_copies_with_orgs(article, editor, labels)  # a text long enough that a change redraws a stretch
    page = open_workspace(article)

    def answered(key, path, *, suggestions=False):
        with page.expect_response(lambda r: path in r.url and r.request.method == "POST") as response:
            page.keyboard.press(key)
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
        assert response.value.status == 200 and 'id="ws-panel"' not in response.value.text()
        assert ('id="ws-suggestions"' in response.value.text()) == suggestions

    def groups():
        return page.locator("#ws-panel .span-group:not(.sug-group)").evaluate_all("els => els.map((e) => e.id)")

    page.evaluate(SELECT, ["Okonkwo of Larchfield Systems said", 0])
    answered("3", "/spans/")  # CLAIM: a group after ORG's
    assert groups() == ["ws-group-org", "ws-group-claim"]
    page.evaluate(SELECT, ["Team", 0])
    answered("1", "/spans/", suggestions=True)  # PERSON, suggested elsewhere: the first suggestions, their part
    expect(page.locator("#ws-suggestions h2 .count")).to_have_text("3")
    answered("Delete", "/spans/delete/")  # the new span is selected: its group goes with it
    assert groups() == ["ws-group-org", "ws-group-claim"]
    page.locator("#ws-body").focus()
    answered("Control+z", "/undo/")  # back: its group before ORG's
    assert groups() == ["ws-group-person", "ws-group-org", "ws-group-claim"]
    expect(page.locator("#ws-panel-title .count")).to_have_text("6")
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))


def test_accept_all_answers_with_the_items_and_takes_the_emptied_group_away(open_workspace, article, editor, labels):
    """ "Accept all" of a label's suggestions: the answer carries their places' stretches, the new spans' items and
    the removal of the label's group of suggestions, not the panel; the page ends as a fresh load draws it."""
    _four_copies_with_orgs(article, editor, labels)
    page = open_workspace(article)
    page.evaluate(SELECT, ["Quillix OS", 0])
    press(page, "2", path="/spans/")  # ORG, suggested in the three other copies
    page.evaluate(SELECT, ["Layla", 0])
    press(page, "1", path="/spans/")  # PERSON, suggested too: a group of suggestions that stays
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    with page.expect_response(lambda r: "/suggestions/" in r.url and r.request.method == "POST") as response:
        page.locator("#ws-sug-group-org .sug-accept-all").click()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    answer = response.value.text()
    assert 'id="ws-panel"' not in answer and 'data-windows="' in answer
    expect(page.locator("#ws-sug-group-org")).to_have_count(0)
    expect(page.locator("#ws-sug-group-person li")).to_have_count(3)
    expect(page.locator("#ws-group-org li")).to_have_count(8)  # four copies' Larchfield and Quillix OS
    assert Span.objects.filter(article=article, label__slug="org", origin=Span.Origin.SUGGESTION).count() == 3
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))
    # Undone: the three spans go, the suggestions and their group come back, in the same way.
    page.locator("#ws-body").focus()
    with page.expect_response(lambda r: "/undo/" in r.url and r.request.method == "POST") as undone:
        page.keyboard.press("Control+z")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    assert 'id="ws-panel"' not in undone.value.text() and 'data-windows="' in undone.value.text()
    expect(page.locator("#ws-sug-group-org li")).to_have_count(3)
    expect(page.locator("#ws-group-org li")).to_have_count(5)
    _drawn_as_a_fresh_load_draws(page, page.evaluate(SEGMENTS))
