"""After one span's create, delete or relabel, htmx gets only the stretch of the body that changed."""

import re

import lxml.html
import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import Label, Span
from annotations.suggestions.models import Suggestion, SuggestionOrigin
from annotations.workspace.models import WorkspaceDrawing
from articles.models import Article
from tests.factories import ArticleFactory, SpanFactory
from tests.html import one, parse, segments, select, swap_out_of_band
from tests.html import text as text_of
from tests.workspace import create

pytestmark = pytest.mark.django_db

BODY = (
    "Mara Okonkwo of Larchfield Systems said the chip ships in May.\n\n"
    "Team 👩🏽‍💻 met Rene\u0301e in 東京 & then <left>.\n\n"
    "Quillix OS is the privacy-first Linux distribution."
)
HX = {"HX-Request": "true"}


@pytest.fixture
def article():
    return ArticleFactory(title="Chip news", body=BODY)


def url(name, article):
    return reverse(f"annotations:{name}", args=[article.pk])


class Page:
    """The workspace as the browser holds it: the body's segment elements and the drawing's version."""

    def __init__(self, client, article):
        self.client, self.article = client, article
        page = parse(client.get(url("article-annotate", article)).content)
        self.body = segments(one(page, "#ws-body"))
        self.version = one(page, "#ws-body-patch").get("data-version")

    def post(self, name, data):
        response = self.client.post(url(name, self.article), {**data, "body_version": self.version}, headers=HX)
        assert response.status_code == 200
        answer = self.answer = parse(response.content)
        patch = one(answer, "#ws-body-patch")
        self.version = patch.get("data-version")
        full = select(answer, "#ws-body")
        if full:
            assert full[0].get("hx-swap-oob") == "innerHTML"
            assert patch.get("data-from") is None and len(patch) == 0
            self.body = segments(full[0])
            return "full"
        if patch.get("data-windows"):
            bounds = [int(at) for at in patch.get("data-windows").split()]
            windows = list(zip(bounds[::2], bounds[1::2], strict=True))
        else:
            windows = [(int(patch.get("data-from")), int(patch.get("data-to")))]
        fresh = segments(patch)
        for lo, hi in windows:
            old = self.body
            assert [start for start, _ in old if start == lo], "the window starts at an element of the page"
            assert [start for start, _ in old if start == hi] or hi == len(self.article.body)
            inside = [e for e in fresh if lo <= e[0] < hi]
            self.body = [*(e for e in old if e[0] < lo), *inside, *(e for e in old if e[0] >= hi)]
        return windows[0] if len(windows) == 1 else windows

    def create(self, label, text):
        start = self.article.body.index(text)
        return self.post("span-create", {"label": label.pk, "start": start, "end": start + len(text), "text": text})


def fresh_body(client, article):
    return segments(one(client.get(url("article-annotate", article)).content, "#ws-body"))


def test_create_relabel_and_delete_send_only_the_changed_stretch_and_splice_into_the_stored_state(
    editor_client, editor, article, labels
):
    SpanFactory(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    for text in ["東京", "Quillix"]:
        start = BODY.index(text)
        SpanFactory(article=article, label=labels["org"], start=start, end=start + len(text), annotator=editor)
    page = Page(editor_client, article)
    assert page.create(labels["person"], "Mara Okonkwo") == (0, 16)
    assert page.body == fresh_body(editor_client, article)
    assert page.create(labels["org"], "chip") == (34, 62)
    assert page.create(labels["person"], "Team 👩🏽‍💻 met Rene\u0301e") == (62, BODY.index("東京"))
    assert page.create(labels["claim"], "& then <left>") != "full"
    assert page.body == fresh_body(editor_client, article)
    mara = Span.objects.get(text="Mara Okonkwo")
    assert page.post("span-relabel", {"span": mara.pk, "label": labels["org"].pk}) == (0, 16)
    assert page.body == fresh_body(editor_client, article)
    assert page.post("span-delete", {"span": mara.pk}) == (0, 16)
    assert page.body == fresh_body(editor_client, article)
    drawn = parse("".join(markup for _, markup in page.body))
    assert select(drawn, "[data-spans]") and select(drawn, ".l1-org")


def test_a_page_that_missed_a_change_gets_the_whole_body(editor_client, editor, article, labels):
    page = Page(editor_client, article)
    # Another tab of the same editor adds a span the page has not drawn.
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    assert page.create(labels["person"], "Mara Okonkwo") == "full"
    assert page.body == fresh_body(editor_client, article)
    assert page.create(labels["org"], "Systems") == (16, 34)  # in step again


def test_another_editors_work_on_the_article_leaves_the_page_in_step(client, editor, other_editor, article, labels):
    """Blind labelling: another editor's spans (and the suggestions they propagate, shown to them alone) change
    nothing this editor's page draws, so its next create still sends just its stretch, and its stored drawing
    stays current."""
    other = other_editor
    for user in (editor, other):
        SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=user)
    theirs = Client()
    theirs.force_login(other)
    create(theirs, article, labels["sponsored"], "Linux")  # the article is now in annotation (every page shows that)
    client.force_login(editor)
    page = Page(client, article)
    drawing = WorkspaceDrawing.objects.get(article=article, editor=editor)
    create(theirs, article, labels["org"], "Quillix")  # suggested elsewhere, to them
    create(theirs, article, labels["person"], "Mara Okonkwo")
    assert Page(client, article).version == page.version
    assert WorkspaceDrawing.objects.get(article=article, editor=editor).drawn_at == drawing.drawn_at  # served again
    assert page.create(labels["person"], "Mara Okonkwo") == (0, 16)
    assert page.body == fresh_body(client, article)


def test_a_renamed_label_redraws_the_whole_body(editor_client, editor, article, labels):
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    page = Page(editor_client, article)
    Label.objects.filter(pk=labels["org"].pk).update(name="Organisation")
    assert page.create(labels["person"], "Mara Okonkwo") == "full"
    assert select(parse("".join(markup for _, markup in page.body)), '[data-labels="Organisation"]')


def test_without_a_version_and_for_a_long_window_the_whole_body_is_sent(editor_client, article, labels):
    response = editor_client.post(
        url("span-create", article),
        {"label": labels["person"].pk, "start": 0, "end": 4, "text": "Mara"},
        headers=HX,
    )
    assert one(response.content, "#ws-body").get("hx-swap-oob") == "innerHTML"
    page = Page(editor_client, article)
    # The only other boundaries are 0 and 4, so the window runs to the body's end: more than half of it.
    assert page.create(labels["claim"], "Team") == "full"


def test_labelling_a_suggested_place_sends_only_its_stretch(editor_client, editor, labels):
    body = "Quillix ships. Analysts like Quillix. Later, Quillix said more. The end of the story is here."
    article = ArticleFactory(title="Suggested", body=body)
    page = Page(editor_client, article)
    assert page.create(labels["org"], "Quillix") == "full"  # its two other places are now suggested
    assert page.body == fresh_body(editor_client, article)
    second = body.index("Quillix", 1)
    data = {"label": labels["org"].pk, "start": second, "end": second + 7, "text": "Quillix"}
    # The suggestion there is no longer drawn (the editor's span is): only that stretch changes.
    assert page.post("span-create", data) != "full"
    assert page.body == fresh_body(editor_client, article)


def test_a_create_into_a_group_the_page_shows_answers_with_its_item_alone(editor_client, editor, article, labels):
    for text, label in (("Mara Okonkwo", "person"), ("Larchfield Systems", "org"), ("Quillix OS", "org")):
        start = BODY.index(text)
        SpanFactory(article=article, label=labels[label], start=start, end=start + len(text), annotator=editor)
    page = Page(editor_client, article)
    before = parse(editor_client.get(url("article-annotate", article)).content)
    start = BODY.index("Linux")
    data = {"label": labels["org"].pk, "start": start, "end": start + 5, "text": "Linux"}
    response = editor_client.post(url("span-create", article), {**data, "body_version": page.version}, headers=HX)
    answer = parse(response.content)
    span = Span.objects.get(text="Linux")
    assert one(answer, "#ws-body-patch").get("data-from")  # the page held the drawing just before: a stretch
    # No whole panel nor group: the selection (with the new span's editor), the counts and the new item.
    assert not select(answer, "#ws-panel") and not select(answer, ".span-group") and not select(answer, ".sug-group")
    selected = one(answer, "#span-editor")
    assert selected.get("hx-swap-oob") == "true" and selected.get("data-selected") == str(span.pk)
    assert one(answer, "#ws-panel-title").get("hx-swap-oob") == "true"
    assert one(answer, "#ws-count-org").text == "3"  # and 4 spans in all (#ws-panel-title)
    (item,) = select(answer, "li")
    assert item.get("id") == f"ws-item-{span.pk}"
    assert item.getparent().get("hx-swap-oob") == "beforeend:#ws-list-org"  # after "Quillix OS", the last ORG
    # Put in place as htmx does, the page's list and counts are the fresh page's own.
    swap_out_of_band(before, answer)
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-group-org", "#ws-panel-title"):
        assert markup(one(before, part)) == markup(one(fresh, part))


def test_a_create_inserts_its_item_where_a_fresh_page_lists_it(editor_client, editor, labels):
    body = "Quillix met Larchfield, Corvane and Quillix Labs; Larchfield Systems said Corvane agreed. " * 3
    body += "Filler words without names, long enough that a stretch stays under half the text. " * 6
    article = ArticleFactory(title="Order", body=body)
    page_html = parse(editor_client.get(url("article-annotate", article)).content)
    version = one(page_html, "#ws-body-patch").get("data-version")
    places = []
    for name in ("Larchfield", "Quillix", "Corvane"):
        at = body.index(name, len(body) // 4)
        places.append((at, at + len(name)))
    at = body.index("Larchfield Systems", len(body) // 4)
    # Same start as the ORG "Larchfield" already there, but longer: listed before it.
    places += [(at, at + len("Larchfield Systems")), (0, len("Quillix"))]
    inserted = []  # the answers that sent items, not the panel
    for start, end in places:
        data = {"label": labels["org"].pk, "start": start, "end": end, "text": body[start:end], "body_version": version}
        answer = parse(editor_client.post(url("span-create", article), data, headers=HX).content)
        version = one(answer, "#ws-body-patch").get("data-version")
        if not select(answer, "#ws-panel"):
            inserted.append(len(select(answer, "li")))
        swap_out_of_band(page_html, answer)
    # The first ORG span starts its group (the whole panel); most others insert their item, and the names not
    # labelled before their suggestions' items too (a create whose stretches pass half the text sends it all).
    assert len(inserted) >= 3 and max(inserted) > 1, inserted
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-panel-title", "#ws-group-org", "#ws-suggestions-title", "#ws-sug-group-org"):
        assert markup(one(page_html, part)) == markup(one(fresh, part)), part


def test_a_create_starting_a_group_or_without_the_pages_drawing_answers_with_the_whole_panel(
    editor_client, editor, article, labels
):
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    page = Page(editor_client, article)
    page.create(labels["person"], "Mara Okonkwo")  # the first PERSON: its group has no place on the page yet
    start = BODY.index("Quillix OS")
    data = {"label": labels["org"].pk, "start": start, "end": start + 10, "text": "Quillix OS"}
    answer = parse(editor_client.post(url("span-create", article), data, headers=HX).content)  # no body_version
    assert one(answer, "#ws-panel").get("hx-swap-oob") == "true" and len(select(answer, ".span-group")) == 2


def test_a_create_that_suggests_its_text_elsewhere_answers_with_each_stretch_it_changed(editor_client, editor, labels):
    body = " ".join(f"Quillix {word} said the chip ships, and the board agreed." for word in ("one", "two", "three"))
    body += " " + "Filler words without names, long enough that three short stretches stay under half. " * 5
    article = ArticleFactory(title="Many places", body=body)
    for word in ("one", "two", "three", "Filler"):  # the cut points that keep each stretch short
        at = body.index(word)
        SpanFactory(article=article, label=labels["person"], start=at, end=at + len(word), annotator=editor)
    page = Page(editor_client, article)
    windows = page.create(labels["org"], "Quillix")
    assert isinstance(windows, list) and len(windows) == 3  # the span's place and the two it suggested
    assert sum(hi - lo for lo, hi in windows) < len(body) / 2
    assert page.body == Page(editor_client, article).body  # spliced, the page is the fresh page
    assert len(select(parse(editor_client.get(url("article-annotate", article)).content), ".seg.sug")) == 2


def _two_names_four_days(editor, labels):
    """Four sentences naming Quillix and Larchfield, each day labelled PERSON (the cut points that keep a change's
    stretches short, and a list of spans the page shows)."""
    body = " ".join(f"Quillix and Larchfield met on day {day}; the board agreed to ship the chip." for day in range(4))
    article = ArticleFactory(title="Two names", body=body)
    for day in range(4):
        at = body.index(f"day {day}")
        SpanFactory(article=article, label=labels["person"], start=at, end=at + 5, annotator=editor)
    return article


def test_a_create_that_suggests_into_groups_the_page_shows_answers_with_their_items(editor_client, editor, labels):
    article = _two_names_four_days(editor, labels)
    body = article.body
    page = Page(editor_client, article)
    page.create(labels["org"], "Quillix")  # the first ORG span and suggestions: new groups, the whole panel
    before = parse(editor_client.get(url("article-annotate", article)).content)
    start = body.index("Larchfield")
    data = {"label": labels["org"].pk, "start": start, "end": start + 10, "text": "Larchfield"}
    answer = parse(
        editor_client.post(url("span-create", article), {**data, "body_version": page.version}, headers=HX).content
    )
    assert not select(answer, "#ws-panel") and not select(answer, ".span-group")
    # One span item, three suggestion items (the other places of "Larchfield"), no group resent.
    assert [item.get("id") for item in select(answer, "li.sug-row")] == [
        f"ws-sug-item-{pk}" for pk in sorted(pks_of_suggested(article, "Larchfield"))
    ]
    assert len(select(answer, "li:not(.sug-row)")) == 1
    swap_out_of_band(before, answer)
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-group-org", "#ws-sug-group-org", "#ws-suggestions-title", "#ws-panel-title"):
        assert markup(one(before, part)) == markup(one(fresh, part)), part
    assert one(fresh, "#ws-suggestions-title .count").text == "6"  # three more places of each name


def pks_of_suggested(article, text):
    return Suggestion.objects.filter(article=article, text=text).values_list("pk", flat=True)


def markup(element) -> bytes:
    """An element's markup without its CSRF tokens (masked afresh per response) and ``hx-swap-oob`` attributes (a
    panel swapped in whole keeps those of the parts drawn inside it, which htmx leaves alone)."""
    html = lxml.html.tostring(element, with_tail=False)
    return re.sub(rb' hx-swap-oob="[^"]*"', b"", re.sub(rb'value="[A-Za-z0-9]{64}"', b"", html))


def test_deletes_undos_and_relabels_answer_with_the_items_they_change(editor_client, editor, labels):
    """A delete, an undo and a relabel answer with the items they add and take away, and the counts, when every
    list they touch is on the page before and after. Among them the suggestion at the span's place: shown again
    when the span goes or leaves its label, hidden when an undo brings the span back (before, that answer sent the
    list of spans alone, and the page kept listing a suggestion the text no longer showed)."""
    article = _two_names_four_days(editor, labels)
    body = article.body
    page = Page(editor_client, article)
    page.create(labels["org"], "Quillix")  # the other three places are suggested
    second = body.index("Quillix", 1)
    data = {"label": labels["org"].pk, "start": second, "end": second + 7, "text": "Quillix"}
    page.post("span-create", data)  # labels a suggested place: its suggestion is no longer listed
    made = Span.objects.get(article=article, start=second)
    held = parse(editor_client.get(url("article-annotate", article)).content)
    version = one(held, "#ws-body-patch").get("data-version")
    first = Span.objects.get(article=article, start=0)
    for name, data in (
        ("span-delete", {"span": made.pk}),  # its place is suggested again
        ("article-undo", {}),  # and not once the span is back
        ("span-relabel", {"span": first.pk, "label": labels["person"].pk}),  # ORG's suggestion there shows again
    ):
        answer = parse(editor_client.post(url(name, article), {**data, "body_version": version}, headers=HX).content)
        version = one(answer, "#ws-body-patch").get("data-version")
        # Each is answered with items and counts, not the panel: every list it touches is on the page and stays.
        assert not select(answer, "#ws-panel") and not select(answer, ".span-group"), name
        swap_out_of_band(held, answer)
        fresh = parse(editor_client.get(url("article-annotate", article)).content)
        for part in ("#ws-panel-title", "#ws-group-org", "#ws-group-person", "#ws-suggestions-title"):
            assert markup(one(held, part)) == markup(one(fresh, part)), (name, part)
        assert markup(one(held, "#ws-sug-group-org")) == markup(one(fresh, "#ws-sug-group-org")), name


def test_accepting_a_suggestion_answers_with_its_stretch_and_items(editor_client, editor, labels):
    article = _two_names_four_days(editor, labels)
    page = Page(editor_client, article)
    page.create(labels["org"], "Quillix")  # the three other places are suggested
    held = parse(editor_client.get(url("article-annotate", article)).content)
    page.version = one(held, "#ws-body-patch").get("data-version")
    suggested = Suggestion.objects.filter(article=article, text="Quillix").order_by("start")[1]
    response = editor_client.post(
        url("suggestion-accept", article), {"suggestion": suggested.pk, "body_version": page.version}, headers=HX
    )
    answer = parse(response.content)
    assert one(answer, "#ws-body-patch").get("data-from")  # the stretch around the place, not the whole text
    assert not select(answer, "#ws-panel") and not select(answer, ".span-group")
    accepted = Span.objects.get(article=article, start=suggested.start, label=labels["org"])
    assert [item.get("id") for item in select(answer, "li")] == [f"ws-item-{accepted.pk}"]
    swap_out_of_band(held, answer)
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-panel-title", "#ws-group-org", "#ws-suggestions-title", "#ws-sug-group-org"):
        assert markup(one(held, part)) == markup(one(fresh, part)), part

    # Undone: the span's item goes and the suggestion's is back, with the stretch around its place.
    version = one(answer, "#ws-body-patch").get("data-version")
    response = editor_client.post(url("article-undo", article), {"body_version": version}, headers=HX)
    answer = parse(response.content)
    assert one(answer, "#ws-body-patch").get("data-from")
    assert not select(answer, "#ws-panel") and not select(answer, ".span-group")
    assert [item.get("id") for item in select(answer, "li")] == [f"ws-sug-item-{suggested.pk}"]
    swap_out_of_band(held, answer)
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-panel-title", "#ws-group-org", "#ws-suggestions-title", "#ws-sug-group-org"):
        assert markup(one(held, part)) == markup(one(fresh, part)), part


@pytest.mark.parametrize("shared", [False, True], ids=["own", "under-a-curators"])
def test_rejecting_a_suggestion_answers_with_its_stretch_and_items(editor_client, editor, curator, labels, shared):
    """A rejection answers with the stretch of the text around its place and the item it takes off the list (it
    sent the whole text and the whole panel, ~410 KiB on bench/annotate.py's article). ``shared``: a curator's
    suggestion of the same label at that place came first, so that one is what the page lists; the rejection
    answers for both (a decision is per label and place), and neither shows again."""
    article = _two_names_four_days(editor, labels)
    body = article.body
    second = body.index("Quillix", 1)
    if shared:
        Suggestion.objects.create(
            article=article,
            label=labels["org"],
            start=second,
            end=second + 7,
            text="Quillix",
            origin=SuggestionOrigin.PROPAGATION,
            created_by=curator,
        )
    page = Page(editor_client, article)
    page.create(labels["org"], "Quillix")  # the three other places are suggested
    held = parse(editor_client.get(url("article-annotate", article)).content)
    page.version = one(held, "#ws-body-patch").get("data-version")
    page.body = segments(one(held, "#ws-body"))
    shown = Suggestion.objects.filter(article=article, start=second).order_by("pk").first()
    assert one(held, f"#ws-sug-item-{shown.pk}") is not None
    window = page.post("suggestion-reject", {"suggestion": shown.pk})
    assert window != "full" and window[0] <= second and second + 7 <= window[1] < len(body)
    assert page.body == fresh_body(editor_client, article)
    answer = page.answer
    assert not select(answer, "#ws-panel") and not select(answer, ".span-group") and not select(answer, "#ws-body")
    assert not select(answer, "li")  # the item is deleted out of band; nothing else is listed in its stead
    assert one(answer, f"[hx-swap-oob='delete:#ws-sug-item-{shown.pk}']") is not None
    swap_out_of_band(held, answer)
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-panel-title", "#ws-group-org", "#ws-suggestions-title", "#ws-sug-group-org"):
        assert markup(one(held, part)) == markup(one(fresh, part)), part

    # Undone: the suggestion the page listed there is back, in its stretch and in its place on the list.
    window = page.post("article-undo", {})
    assert window != "full" and window[0] <= second and second + 7 <= window[1] < len(body)
    assert page.body == fresh_body(editor_client, article)
    answer = page.answer
    assert not select(answer, "#ws-panel") and not select(answer, ".span-group") and not select(answer, "#ws-body")
    assert [item.get("id") for item in select(answer, "li")] == [f"ws-sug-item-{shown.pk}"]
    swap_out_of_band(held, answer)
    fresh = parse(editor_client.get(url("article-annotate", article)).content)
    for part in ("#ws-panel-title", "#ws-group-org", "#ws-suggestions-title", "#ws-sug-group-org"):
        assert markup(one(held, part)) == markup(one(fresh, part)), part


def panel(page) -> list[tuple[str, bytes]]:
    """The side panel's lists as a reader meets them (not the selected span, which a fresh page has none of): the
    headings, then each group (its id and markup), in order."""
    titles = [(title.get("id"), markup(title)) for title in select(page, "#ws-panel-title, #ws-suggestions-title")]
    return titles + [(group.get("id"), markup(group)) for group in select(page, "#ws-panel section.span-group")]


def test_a_write_that_starts_or_empties_a_group_answers_with_that_group(editor_client, editor, labels):
    """A group of spans or of suggestions that a write starts comes whole, beside the groups the page shows, and
    one it empties goes; the rest of the panel is not sent (it was, ~240 KiB on bench/annotate.py's article).
    The first group of suggestions, and the last one gone, come with the suggestions' part of the panel (its
    heading and hint), not the spans'."""
    article = _two_names_four_days(editor, labels)  # PERSON spans only
    body = article.body
    page = Page(editor_client, article)
    held = parse(editor_client.get(url("article-annotate", article)).content)

    def post(name, data, *, body=False):
        page.version = one(held, "#ws-body-patch").get("data-version")
        drawn = page.post(name, data)
        assert drawn != "full" or body, name  # (the first suggestions, in every sentence, redraw the whole text)
        assert not select(page.answer, "#ws-panel"), name
        swaps = [part.get("hx-swap-oob") for part in page.answer.xpath("./*[@hx-swap-oob]")]
        groups = [group.get("id") for group in select(page.answer, "section.span-group")]
        swap_out_of_band(held, page.answer)
        assert panel(held) == panel(parse(editor_client.get(url("article-annotate", article)).content)), name
        return swaps, groups

    quillix = {"label": labels["org"].pk, "start": 0, "end": 7, "text": "Quillix"}
    swaps, _ = post("span-create", quillix, body=True)  # the first suggestions: their part of the panel, whole
    assert "true" in swaps and not select(page.answer, "#ws-group-person")
    sentence = body.index("the board")
    claim = {"label": labels["claim"].pk, "start": sentence, "end": sentence + 9, "text": "the board"}
    _, groups = post("span-create", claim)  # a group of spans the page has not shown: put in whole, in its place
    assert groups == ["ws-group-claim"]
    at = body.index("Larchfield")
    larchfield = {"label": labels["person"].pk, "start": at, "end": at + 10, "text": "Larchfield"}
    _, groups = post("span-create", larchfield)  # the first PERSON suggestions: a new group of suggestions
    assert groups == ["ws-sug-group-person"]
    made = Span.objects.get(article=article, label=labels["claim"])
    swaps, groups = post("span-delete", {"span": made.pk})  # the only CLAIM span: its group goes
    assert "delete:#ws-group-claim" in swaps and not groups
    _, groups = post("article-undo", {})  # and comes back
    assert groups == ["ws-group-claim"]
    for suggestion in Suggestion.objects.filter(article=article, label=labels["person"]):
        swaps, _ = post("suggestion-reject", {"suggestion": suggestion.pk})
    assert "delete:#ws-sug-group-person" in swaps  # the last one took its group
    for suggestion in Suggestion.objects.filter(article=article, label=labels["org"]).order_by("pk")[:2]:
        post("suggestion-reject", {"suggestion": suggestion.pk})
    last = Suggestion.objects.filter(article=article, label=labels["org"]).order_by("pk").last()
    post("suggestion-reject", {"suggestion": last.pk})  # none left: the suggestions' part goes, heading and all
    assert not select(held, "#ws-suggestions h2") and select(held, "#ws-group-person")


def test_a_note_or_a_verdict_answers_with_the_spans_item_alone(editor_client, editor, labels):
    """A note, a speaker or a verdict shows in the span's item (its badges), not in the text: the answer replaces
    that item and sends neither the text nor the panel (it sent the panel, ~240 KiB on bench/annotate.py's
    article)."""
    article = _two_names_four_days(editor, labels)
    sentence = article.body.index("the board")
    claim = SpanFactory(article=article, label=labels["claim"], start=sentence, end=sentence + 9, annotator=editor)
    held = parse(editor_client.get(url("article-annotate", article)).content)
    person = Span.objects.filter(article=article, label=labels["person"]).order_by("start")[1]
    for span, data in ((person, {"note": "checked <twice> & more"}), (claim, {"verdict": "false", "note": ""})):
        version = one(held, "#ws-body-patch").get("data-version")
        data = {"span": span.pk, "body_version": version, **data}
        answer = parse(editor_client.post(url("span-details", article), data, headers=HX).content)
        assert (
            not select(answer, "#ws-panel")
            and not select(answer, "#ws-body")
            and not select(answer, "section.span-group")
        )
        assert [item.get("id") for item in select(answer, "li")] == [f"ws-item-{span.pk}"]
        swap_out_of_band(held, answer)
        fresh = parse(editor_client.get(url("article-annotate", article)).content)
        assert panel(held) == panel(fresh)
    assert 'title="checked &lt;twice&gt; &amp; more"' in markup(one(held, f"#ws-item-{person.pk}")).decode()
    assert select(held, f"#ws-item-{claim.pk} .verdict-false")


def test_marking_done_or_reopening_leaves_the_text_and_the_lists_of_the_page(editor_client, editor, reviewer, labels):
    """An editor's Done or Reopen changes their progress, not the text or the lists: the answer sends neither (it
    sent both, ~410 KiB on bench/annotate.py's article). Sending a reviewed article back changes which
    suggestions show (those shared after review): that answer redraws everything."""
    article = _two_names_four_days(editor, labels)
    page = Page(editor_client, article)
    page.create(labels["org"], "Quillix")  # suggestions too
    held = parse(editor_client.get(url("article-annotate", article)).content)
    for status, shown in (("done", "Done"), ("reopen", "In progress")):
        version = one(held, "#ws-body-patch").get("data-version")
        data = {"status": status, "body_version": version}
        answer = parse(editor_client.post(url("article-status", article), data, headers=HX).content)
        assert not select(answer, "#ws-body") and not select(answer, "#ws-panel") and not select(answer, "li")
        swap_out_of_band(held, answer)
        fresh = parse(editor_client.get(url("article-annotate", article)).content)
        assert text_of(one(held, "#ws-status .status")) == shown == text_of(one(fresh, "#ws-status .status"))
        assert markup(one(held, "#ws-status")) == markup(one(fresh, "#ws-status"))
        assert panel(held) == panel(fresh) and segments(one(held, "#ws-body")) == segments(one(fresh, "#ws-body"))
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    theirs = Client()
    theirs.force_login(reviewer)
    version = one(parse(theirs.get(url("article-annotate", article)).content), "#ws-body-patch").get("data-version")
    data = {"status": "reopen", "body_version": version}
    answer = parse(theirs.post(url("article-status", article), data, headers=HX).content)
    assert select(answer, "#ws-body") and select(answer, "#ws-panel")  # out of review: everything is redrawn


def test_accepting_all_of_a_label_answers_with_the_items_and_groups_it_changes(editor_client, editor, labels):
    """Accepting every suggestion of a label makes a span of each: their items join the label's list, and the
    label's group of suggestions, now empty, goes; the stretches around the places are redrawn (it sent the whole
    text and panel, ~2.4 MB on bench/annotate.py's article by its end)."""
    filler = "Filler words here. " * 12
    sentences = [f"Quillix and Larchfield met on day {day}; the board agreed. " for day in range(4)]
    body = "".join(filler + sentence for sentence in sentences)
    article = ArticleFactory(title="Long", body=body)
    at = 0
    for day, sentence in enumerate(sentences):
        # A claim over each stretch of filler: a boundary just before each place keeps its stretch short.
        SpanFactory(article=article, label=labels["claim"], start=at, end=at + len(filler) - 1, annotator=editor)
        at += len(filler)
        start = at + sentence.index(f"day {day}")
        SpanFactory(article=article, label=labels["person"], start=start, end=start + 5, annotator=editor)
        at += len(sentence)
    page = Page(editor_client, article)
    page.create(labels["person"], "Larchfield")  # PERSON suggestions: a group that stays
    page.create(labels["org"], "Quillix")  # three ORG suggestions, to accept at once
    assert Suggestion.objects.filter(article=article, label=labels["org"]).count() == 3
    held = parse(editor_client.get(url("article-annotate", article)).content)
    page.version = one(held, "#ws-body-patch").get("data-version")
    page.body = segments(one(held, "#ws-body"))
    windows = page.post("suggestions-accept-label", {"label": labels["org"].pk})
    assert windows != "full" and len(windows) == 3  # each accepted place's stretch
    assert page.body == fresh_body(editor_client, article)
    answer = page.answer
    assert not select(answer, "#ws-panel") and not select(answer, "section.span-group")
    first = body.index("Quillix")
    made = Span.objects.filter(article=article, label=labels["org"]).exclude(start=first).order_by("start")
    assert [item.get("id") for item in select(answer, "li")] == [f"ws-item-{span.pk}" for span in made]
    assert one(answer, "[hx-swap-oob='delete:#ws-sug-group-org']") is not None
    swap_out_of_band(held, answer)
    assert panel(held) == panel(parse(editor_client.get(url("article-annotate", article)).content))

    # Undone: the spans go and the suggestions come back, their group put in beside PERSON's, each place redrawn.
    windows = page.post("article-undo", {})
    assert windows != "full" and len(windows) == 3
    assert page.body == fresh_body(editor_client, article)
    answer = page.answer
    assert not select(answer, "#ws-panel")
    assert [group.get("id") for group in select(answer, "section.span-group")] == ["ws-sug-group-org"]
    swap_out_of_band(held, answer)
    assert panel(held) == panel(parse(editor_client.get(url("article-annotate", article)).content))
    assert not Span.objects.filter(pk__in=[span.pk for span in made]).exists()
