"""The body cut into segments: pure functions, no database."""

import random
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import pytest

from annotations.workspace.rendering import (
    INK_DARK,
    INK_LIGHT,
    MIN_CONTRAST,
    change_window,
    change_windows,
    contrast_ratio,
    ink_for,
    labels_stylesheet,
    render_body,
    render_span_groups,
    render_windows,
    segments,
)
from tests.html import one, select, text
from tests.html import segments as drawn


@dataclass
class Lab:
    name: str
    slug: str
    ordering: int


class Sp(NamedTuple):
    """The leading fields of a ``selectors.workspace_spans`` row."""

    pk: int
    start: int
    end: int
    label_id: int


LABELS = {1: Lab("PERSON", "person", 1), 2: Lab("ORG", "org", 2), 3: Lab("CLAIM", "claim", 3)}
BODY = "Mara Okonkwo of Larchfield said the chip ships in May."


def cuts(body, spans):
    return [(s.start, s.end, [span.pk for span in s.spans]) for s in segments(body, spans, LABELS)]


def test_no_spans_is_one_segment():
    assert cuts(BODY, []) == [(0, len(BODY), [])]


def test_segments_cut_at_every_boundary_and_list_covering_spans_outermost_first():
    claim = Sp(10, 0, 30, 3)
    person = Sp(11, 0, 12, 1)
    org = Sp(12, 16, 26, 2)
    crossing = Sp(13, 20, 40, 1)
    assert cuts(BODY, [org, person, crossing, claim]) == [
        (0, 12, [10, 11]),
        (12, 16, [10]),
        (16, 20, [10, 12]),
        (20, 26, [10, 12, 13]),
        (26, 30, [10, 13]),
        (30, 40, [13]),
        (40, len(BODY), []),
    ]


def test_identical_ranges_are_both_kept_and_ordered_by_label():
    first, second = Sp(1, 0, 4, 2), Sp(2, 0, 4, 1)
    (segment, _rest) = list(segments(BODY, [first, second], LABELS))
    assert [s.pk for s in segment.spans] == [2, 1]
    assert [s.pk for s in segment.opens] == [2, 1]


def test_rendered_text_is_exactly_the_body_with_offsets_in_code_points():
    body = "Team 👩🏽‍💻 met Rene\u0301e in 東京 — «مرحبا»\tand <b>you</b> & me\n\nSecond paragraph."
    start = body.index("Rene")
    spans = [Sp(1, start, start + 6, 1), Sp(2, body.index("東京"), body.index("東京") + 2, 2), Sp(3, 0, 9, 3)]
    html = str(render_body(body, spans, LABELS))
    pieces = [(int(seg.get("data-start")), seg.text_content()) for seg in select(html, "[data-start]")]
    assert "".join(piece for _, piece in pieces) == body
    for offset, piece in pieces:
        assert body[offset:].startswith(piece)
    assert select(html, "b") == []  # the body's markup is text, escaped


def test_highlight_markup_names_labels_layers_and_tab_stops():
    spans = [Sp(10, 0, 30, 3), Sp(11, 0, 12, 1), Sp(12, 16, 26, 2)]
    html = str(render_body(BODY, spans, LABELS))
    first = one(html, '[data-start="0"]')
    assert first.classes == {"seg", "hl", "n2", "l1-claim", "l2-person", "open", "close"}
    assert (first.get("data-spans"), first.get("data-labels")) == ("10 11", "CLAIM + PERSON")
    # No tabindex: a focusable segment stops a drag starting on it from selecting (workspace.js walks them).
    assert (first.get("tabindex"), first.get("data-opens")) == (None, "10 11")
    middle = one(html, '[data-start="12"]')
    assert middle.get("tabindex") is None and {"n1", "l1-claim"} <= middle.classes and "open" not in middle.classes


def test_deep_nesting_keeps_the_innermost_colour():
    spans = [Sp(i, i, 20 - i, 1 + i % 3) for i in range(6)]
    html = str(render_body(BODY, spans, LABELS))
    deepest = one(html, '[data-start="5"]')
    assert {"n4", "l1-person", "l2-org", "l3-claim", "l4-claim"} <= deepest.classes
    assert deepest.get("data-labels").count("+") == 5


def test_span_list_groups_by_label_with_excerpts_notes_and_verdicts():
    body = "x" * 100 + " <b>"
    html = str(
        render_span_groups(
            body,
            [(LABELS[3], [(7, 0, 100, 3, 'say "why"', "disputed")]), (LABELS[1], [(8, 101, 104, 1, "", None)])],
        )
    )
    claim_heading, person_heading = select(html, "h3")
    assert text(person_heading) == "PERSON 1"
    assert text(claim_heading) == "CLAIM 1" and text(one(claim_heading, ".count")) == "1"
    assert one(claim_heading, ".swatch").classes == {"swatch", "label-claim"}
    claim = one(html, '[data-span="7"]')
    assert text(claim) == "CLAIM: " + "x" * 79 + "…" and text(one(claim, ".visually-hidden")) == "CLAIM:"
    assert one(html, '[title="say \\"why\\""]').text_content() == "note" and select(html, ".verdict-disputed")
    person = one(html, '[data-span="8"]')
    assert person.tag == "button" and person.getparent().tag == "li" and text(person) == "PERSON: <b>"


def test_span_objects_render_like_rows():
    @dataclass
    class SpanObject:  # what the admin passes: model instances
        pk: int
        start: int
        end: int
        label_id: int

    rows = [Sp(10, 0, 30, 3), Sp(11, 0, 12, 1)]
    assert render_body(BODY, [SpanObject(*row) for row in rows], LABELS) == render_body(BODY, rows, LABELS)


def test_labels_are_escaped_in_attributes():
    labels = {1: Lab('Q"<x>', "q", 1)}
    html = str(render_body(BODY, [Sp(1, 0, 4, 1)], labels))
    assert one(html, "[data-labels]").get("data-labels") == 'Q"<x>'
    assert 'data-labels="Q&quot;&lt;x&gt;"' in html  # escaped as an attribute, not only parsed back


@pytest.mark.parametrize("color", ["#ffd166", "#8ecae6", "#c5e1a5", "#f4b6c2"])
def test_default_label_colours_keep_dark_text_readable(color):
    assert ink_for(color) == INK_DARK
    assert contrast_ratio(INK_DARK, color) >= MIN_CONTRAST


def test_a_dark_label_colour_gets_light_text():
    assert ink_for("#1a237e") == INK_LIGHT
    assert contrast_ratio(INK_LIGHT, "#1a237e") >= MIN_CONTRAST


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_stylesheet_defines_every_layer_and_the_ink():
    css = labels_stylesheet([("person", "#ffd166"), ("dark", "#1a237e")])
    assert ".label-person { --label-color: #ffd166; }" in css
    assert ".l4-person { --l4: #ffd166; --ink4: #1d232a; --edge4: " in css
    assert ".l1-dark { --l1: #1a237e; --ink1: #ffffff; --edge1: #1a237e; --deco1: dashed; }" in css


def test_each_label_has_an_underline_of_its_own_that_stands_3_to_1():
    """Issue 14: labels differed by hue alone, and highlights stood 1.4-1.8:1 against the page."""
    palette = [("person", "#ffd166"), ("org", "#a0c4ff"), ("claim", "#c5e1a5"), ("sponsored", "#e0e0e0")]
    css = labels_stylesheet(palette)
    styles = re.findall(r"\.label-\w+ \{ --label-ink: #\w+; --label-edge: (#\w+); --label-deco: (\w+); \}", css)
    assert len({deco for _, deco in styles}) == len(palette)
    assert all(contrast_ratio(edge, "#ffffff") >= 3 for edge, _ in styles)


# Redrawing one stretch ------------------------------------------------------------------------------------------

# Markup-sensitive characters and code points beyond the BMP, so offsets and escaping are both exercised.
ALPHABET = "ab c&<>é👩🏽‍💻東\n"


def random_spans(rng, length, count, first_pk=1):
    spans = []
    for pk in range(first_pk, first_pk + count):
        start = rng.randrange(length)
        end = rng.randint(start + 1, min(length, start + rng.choice([1, 3, 10, length])))
        if spans and rng.random() < 0.15:  # the same range again, or sharing one end, with another label
            other = rng.choice(spans)
            start, end = (other.start, other.end) if rng.random() < 0.5 else (other.start, max(end, other.start + 1))
        spans.append(Sp(pk, start, end, rng.choice(list(LABELS))))
    return spans


def cut_points(spans, length):
    return sorted({0, length, *(span.start for span in spans), *(span.end for span in spans)})


def test_a_window_between_cut_points_renders_exactly_that_stretch_of_the_whole_body():
    for seed in range(300):
        rng = random.Random(seed)
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 120)))
        spans = random_spans(rng, len(body), rng.randint(0, 25))
        whole = drawn(render_body(body, spans, LABELS))
        points = cut_points(spans, len(body))
        lo, hi = sorted(rng.sample(points, 2)) if len(points) > 2 else (0, len(body))
        window = render_body(body, spans, LABELS, window=(lo, hi))
        assert drawn(window) == [(start, markup) for start, markup in whole if lo <= start < hi], f"seed {seed}"


def splice(old_html, patch_html, lo, hi):
    """What the workspace script does: the old elements outside [lo, hi), the patch's in their place."""
    old = drawn(old_html)
    return [*(e for e in old if e[0] < lo), *drawn(patch_html), *(e for e in old if e[0] >= hi)]


def test_splicing_the_changed_window_gives_the_whole_new_body_after_a_create_delete_or_relabel():
    for seed in range(300):
        rng = random.Random(seed)
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 150)))
        kept = random_spans(rng, len(body), rng.randint(0, 20))
        changed = random_spans(rng, len(body), 1, first_pk=100)[0]
        relabelled = changed._replace(label_id=changed.label_id % len(LABELS) + 1)
        for old, new in [(kept, [*kept, changed]), ([*kept, changed], kept), ([*kept, changed], [*kept, relabelled])]:
            lo, hi = change_window(new, changed=changed.pk, start=changed.start, end=changed.end, length=len(body))
            assert lo <= changed.start and changed.end <= hi
            patch = render_body(body, new, LABELS, window=(lo, hi))
            old_html = render_body(body, old, LABELS)
            assert splice(old_html, patch, lo, hi) == drawn(render_body(body, new, LABELS)), f"seed {seed}"


def test_splicing_each_changed_window_gives_the_whole_new_body_after_several_creates():
    """A create with the suggestions it makes elsewhere: several changes at once, one window each, merged."""
    for seed in range(300):
        rng = random.Random(seed)
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 150)))
        kept = random_spans(rng, len(body), rng.randint(0, 20))
        added = random_spans(rng, len(body), rng.randint(1, 5), first_pk=100)
        new = [*kept, *added]
        windows = change_windows(
            new, changed={span.pk for span in added}, places=[(s.start, s.end) for s in added], length=len(body)
        )
        assert all(a[1] < b[0] for a, b in pairwise(windows)), "sorted, apart"
        assert all(any(lo <= s.start and s.end <= hi for lo, hi in windows) for s in added if s.start < s.end)
        spliced = drawn(render_body(body, kept, LABELS))
        fresh = drawn(render_windows(body, new, LABELS, windows))
        for lo, hi in windows:
            inside = [e for e in fresh if lo <= e[0] < hi]
            spliced = [*(e for e in spliced if e[0] < lo), *inside, *(e for e in spliced if e[0] >= hi)]
        assert spliced == drawn(render_body(body, new, LABELS)), f"seed {seed}"
        if len(added) == 1:
            one_window = change_window(
                new, changed=added[0].pk, start=added[0].start, end=added[0].end, length=len(body)
            )
            assert windows == [one_window]


def test_change_window_stops_at_the_nearest_other_boundaries():
    body = "x" * 100
    spans = [Sp(1, 10, 20, 1), Sp(2, 30, 60, 2), Sp(3, 40, 45, 1), Sp(4, 42, 50, 3)]
    assert change_window(spans, changed=4, start=42, end=50, length=100) == (40, 60)
    assert change_window(spans, changed=9, start=22, end=28, length=100) == (20, 30)
    assert change_window(spans, changed=1, start=10, end=20, length=100) == (0, 30)
    assert change_window(spans, changed=9, start=70, end=80, length=len(body)) == (60, 100)
