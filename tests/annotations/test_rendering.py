"""The body cut into segments: pure functions, no database."""

import re
from dataclasses import dataclass
from html import unescape
from typing import NamedTuple

import pytest

from annotations.rendering import (
    INK_DARK,
    INK_LIGHT,
    MIN_CONTRAST,
    contrast_ratio,
    ink_for,
    labels_stylesheet,
    render_body,
    render_span_groups,
    segments,
)


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
    pieces = re.findall(r'<span [^>]*data-start="(\d+)"[^>]*>(.*?)</span>', html, flags=re.S)
    assert "".join(unescape(text) for _, text in pieces) == body
    for offset, text in pieces:
        assert body[int(offset) :].startswith(unescape(text))
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_highlight_markup_names_labels_layers_and_tab_stops():
    spans = [Sp(10, 0, 30, 3), Sp(11, 0, 12, 1), Sp(12, 16, 26, 2)]
    html = str(render_body(BODY, spans, LABELS))
    first = re.search(r'<span ([^>]*)data-start="0"([^>]*)>', html).group(0)
    assert 'class="seg hl n2 l1-claim l2-person open close"' in first
    assert 'data-spans="10 11"' in first and 'data-labels="CLAIM + PERSON"' in first
    assert 'tabindex="0"' in first and 'data-opens="10 11"' in first
    middle = re.search(r'<span [^>]*data-start="12"[^>]*>', html).group(0)
    assert "tabindex" not in middle and "n1 l1-claim" in middle and "open" not in middle


def test_deep_nesting_keeps_the_innermost_colour():
    spans = [Sp(i, i, 20 - i, 1 + i % 3) for i in range(6)]
    html = str(render_body(BODY, spans, LABELS))
    deepest = re.search(r'<span [^>]*data-start="5"[^>]*>', html).group(0)
    assert "n4 l1-person l2-org l3-claim l4-claim" in deepest
    assert deepest.count("+") == 5


def test_span_list_groups_by_label_with_excerpts_notes_and_verdicts():
    body = "x" * 100 + " <b>"
    html = str(
        render_span_groups(
            body,
            [(LABELS[3], [(7, 0, 100, 3, 'say "why"', "disputed")]), (LABELS[1], [(8, 101, 104, 1, "", None)])],
        )
    )
    assert (
        '<h3><span class="swatch label-claim" aria-hidden="true"></span>CLAIM <span class="count">1</span></h3>' in html
    )
    assert 'data-span="7"><span class="visually-hidden">CLAIM: </span>' + "x" * 79 + "…</button>" in html
    assert 'title="say &quot;why&quot;">note</span>' in html and "verdict-disputed" in html
    assert 'data-span="8"><span class="visually-hidden">PERSON: </span>&lt;b&gt;</button></li>' in html


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
    assert 'data-labels="Q&quot;&lt;x&gt;"' in html


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
    assert ".l4-person { --l4: #ffd166; --ink4: #1d232a; }" in css
    assert ".l1-dark { --l1: #1a237e; --ink1: #ffffff; }" in css
