"""HTML for the annotate page's two long parts: the body cut into segments, and the list of spans.

The body is cut at every span boundary, one element per piece. Each segment element carries ``data-start``
(its first code point's offset in the body), which is what the browser's selection code counts from, so the
markup holds exactly the body's characters and nothing else between segments. Both parts are built in Python
rather than in a template: a 10,000-word article with 1,000 spans makes a few thousand segments and a thousand
list items, and a template loop over them costs several times the rest of the page.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from typing import Any, NamedTuple, Protocol

from django.utils.safestring import SafeString, mark_safe

# Layers beyond this many share the innermost colour; the tooltip and side panel still name every label.
MAX_LAYERS = 4
EXCERPT = 80
SUGGESTED = "suggested "  # how the tooltip names a suggestion's label (negative ids: annotations.suggestions)


# A span as the workspace reads it (``spans.selectors.workspace_spans``): ``(pk, start, end, label_id, note, verdict)``,
# of which the body needs the first four. A plain tuple, not an object: the page draws a thousand per request,
# and tuples of numbers and strings are untracked by the garbage collector, so they are never promoted and
# rescanned (a full collection over a Django process costs tens of milliseconds).
SpanRow = tuple[Any, ...]
PK, START, END, LABEL, NOTE, VERDICT = range(6)


def span_rows(spans: Iterable[Any]) -> Sequence[SpanRow]:
    """Rows as ``workspace_spans`` gives them; span objects (the admin's preview) are read the same way.

    All of one kind: a list or tuple whose first item is a row is taken as it is (the workspace passes thousands,
    several times per request), anything else is read item by item.
    """
    if isinstance(spans, (list, tuple)) and (not spans or isinstance(spans[0], tuple)):
        return spans
    return [span if isinstance(span, tuple) else (span.pk, span.start, span.end, span.label_id) for span in spans]


class LabelLike(Protocol):
    name: str
    slug: str
    ordering: int


def excerpt(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(slots=True)
class WorkspaceSpan:
    """The selected span (or a possible speaker) as the span editor shows it."""

    pk: int
    start: int
    end: int
    label_id: int
    note: str
    verdict: str | None
    label: Any = None
    text: str = ""
    excerpt: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)  # loaded for the selected claim only

    @classmethod
    def from_row(cls, row: SpanRow, *, body: str, labels: Mapping[int, Any]) -> WorkspaceSpan:
        pk, start, end, label_id, note, verdict = row
        text = body[start:end]
        return cls(pk, start, end, label_id, note, verdict, labels[label_id], text, excerpt(text))


class Segment(NamedTuple):
    start: int
    end: int
    spans: tuple[SpanRow, ...]  # outermost first: earlier start, then longer, then label order
    opens: tuple[SpanRow, ...]  # the spans that begin here, in the same order


def segments(
    body: str, spans: Iterable[Any], labels: Mapping[int, LabelLike], window: tuple[int, int] | None = None
) -> Iterator[Segment]:
    """Cut ``body`` at every span start and end; each piece lists the spans covering it (one sweep, no rescans).

    With ``window`` (``(lo, hi)``, both cut points of the whole body's segmentation) only the pieces from ``lo``
    to ``hi`` are cut, and they are the very pieces the whole body would give there: a piece depends only on
    the spans covering it, and spans that begin before ``lo`` are simply open when the sweep starts.

    A generator: each piece is dropped as soon as it is drawn, so thousands of them never pile up for the
    garbage collector to promote and rescan.
    """
    length = len(body)
    lo, hi = window if window is not None else (0, length)
    keys: dict[int, tuple[int, int, int, int]] = {}
    starting: dict[int, list[SpanRow]] = defaultdict(list)
    ending: dict[int, set[int]] = defaultdict(set)
    open_before: list[SpanRow] = []
    for span in span_rows(spans):
        start, end = max(0, span[START]), min(length, span[END])
        if start < end and start < hi and end > lo:
            keys[span[PK]] = (start, -end, labels[span[LABEL]].ordering, span[PK])
            if start < lo:
                open_before.append(span)
            else:
                starting[start].append(span)
            if end <= hi:
                ending[end].add(span[PK])

    def key(span: SpanRow) -> tuple[int, int, int, int]:
        return keys[span[PK]]

    for opened in starting.values():
        if len(opened) > 1:
            opened.sort(key=key)
    cuts = sorted({lo, hi, *starting, *ending})
    active: list[SpanRow] = sorted(open_before, key=key)
    covering: tuple[SpanRow, ...] = tuple(active)
    none: tuple[SpanRow, ...] = ()
    for here, there in pairwise(cuts):
        gone = ending.get(here)
        if gone:
            active = [span for span in active if span[PK] not in gone]
            covering = tuple(active)
        opened = starting.get(here)
        if opened:
            if active:
                for span in opened:
                    insort(active, span, key=key)
            else:
                active = list(opened)
            covering = tuple(active)
            yield Segment(here, there, covering, tuple(opened))
        else:
            yield Segment(here, there, covering, none)


def render_body(
    body: str, spans: Iterable[Any], labels: Mapping[int, LabelLike], window: tuple[int, int] | None = None
) -> SafeString:
    """The body as ``<span class="seg" data-start=…>`` elements; highlighted ones name their labels and spans.

    With ``window`` only the elements from one cut point to another (see ``segments``): exactly that stretch
    of the whole body's markup, which the workspace splices in after a change instead of redrawing everything.
    """
    spans = span_rows(spans)
    slugs = {pk: label.slug for pk, label in labels.items()}
    names = {pk: escape(label.name) for pk, label in labels.items()}
    ends = {span[END] for span in spans}
    parts: list[str] = []
    append = parts.append
    last: tuple[SpanRow, ...] = ()
    head = shared = ""
    for start, end, covering, opens in segments(body, spans, labels, window):
        text = body[start:end]
        if "&" in text or "<" in text or ">" in text:
            text = escape(text, quote=False)
        if not covering:
            append(f'<span class="seg" data-start="{start}">{text}</span>')
            continue
        if covering is not last and len(covering) == 1:
            # Most highlighted pieces lie under one span: the general case below, spelled out for it.
            last = covering
            pk, label = covering[0][PK], covering[0][LABEL]
            if pk < 0:
                head = f"seg hl n1 l1-{slugs[label]} sug"
                shared = f'data-spans="{pk}" data-labels="{SUGGESTED}{names[label]}"'
            else:
                head = f"seg hl n1 l1-{slugs[label]}"
                shared = f'data-spans="{pk}" data-labels="{names[label]}"'
        elif covering is not last:
            last = covering
            depth = len(covering)
            # The innermost span gets the last layer (the background); outer ones become bands beneath it.
            shown = covering[: MAX_LAYERS - 1] + covering[-1:] if depth > MAX_LAYERS else covering
            layers = " ".join([f"l{n}-{slugs[span[LABEL]]}" for n, span in enumerate(shown, start=1)])
            head = f"seg hl n{min(depth, MAX_LAYERS)} {layers}"
            # Suggestions (negative ids, annotations.suggestions) get a dashed outline and say so in words.
            if any(span[PK] < 0 for span in covering):
                head += " sug"
            shared = (
                f'data-spans="{" ".join([str(span[PK]) for span in covering])}" '
                f'data-labels="{" + ".join([SUGGESTED * (span[PK] < 0) + names[span[LABEL]] for span in covering])}"'
            )
        # A dark edge where spans begin or end keeps two adjacent spans of one label apart.
        if opens:
            # Where spans begin: Tab walks from one to the next (workspace.js). Not tabindex in the markup: a
            # focusable segment turns a drag that starts on it into nothing selected (Chromium).
            tab = (
                f' data-opens="{opens[0][PK]}"'
                if len(opens) == 1
                else f' data-opens="{" ".join([str(span[PK]) for span in opens])}"'
            )
            edges = " open close" if end in ends else " open"
        else:
            tab = ""
            edges = " close" if end in ends else ""
        append(f'<span class="{head}{edges}" data-start="{start}" {shared}{tab}>{text}</span>')
    return mark_safe("".join(parts))  # noqa: S308 -- every text and attribute value above is escaped


def render_windows(
    body: str, spans: Iterable[Any], labels: Mapping[int, LabelLike], windows: Sequence[tuple[int, int]]
) -> SafeString:
    """``render_body`` of each of ``windows`` (sorted, disjoint, each from one cut point to another), joined.

    One pass sorts the spans into the windows they overlap, so each window's sweep sees only its own few: a
    create that suggests its text at a hundred other places redraws a hundred short stretches, not the body.
    The pass is a comprehension (one window, most creates) or one bisection of the windows' ends per span: over an
    article's 2,700 rows it took ~0.3 ms a create as a loop stepping through the windows, ~0.1 ms this way.
    """
    rows = span_rows(spans)
    if len(windows) == 1:
        ((lo, hi),) = windows
        subsets = [[span for span in rows if span[START] < hi and span[END] > lo]]
    else:
        los = [lo for lo, _ in windows]
        his = [hi for _, hi in windows]
        count = len(windows)
        subsets = [[] for _ in windows]
        # The first window ending after a span's start is the only one that can hold it without its successors.
        for span in rows:
            at = bisect_right(his, span[START])
            while at < count and los[at] < span[END]:
                subsets[at].append(span)
                at += 1
    drawn = [render_body(body, subset, labels, window) for subset, window in zip(subsets, windows, strict=True)]
    return mark_safe("".join(drawn))  # noqa: S308 -- render_body's markup


def change_windows(
    spans: Iterable[Any], *, changed: set[int], places: Iterable[tuple[int, int]], length: int
) -> list[tuple[int, int]]:
    """The stretches of the body that creating, removing or relabelling the rows ``changed`` (at ``places``)
    redraws, merged where they meet: ``change_window`` for many changes at once, against the rows none of them
    touches (a changed row's boundaries are no cut point of the drawing before), in one sort."""
    cuts = [0, length]
    for span in span_rows(spans):
        first, last = max(0, span[START]), min(length, span[END])
        if first < last and span[PK] not in changed:
            cuts += (first, last)
    cuts.sort()
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, start), min(length, end)) for start, end in places):
        lo = cuts[bisect_right(cuts, start) - 1]
        hi = cuts[bisect_left(cuts, end)]
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def change_window(spans: Iterable[Any], *, changed: int, start: int, end: int, length: int) -> tuple[int, int]:
    """The stretch of the body that one span's creation, removal or relabelling redraws.

    From the last boundary of another span at or before ``start`` (or the body's start) to the first one at or
    after ``end`` (or the body's end): those are cut points both with and without the changed span, so the
    segments between them are all that differ, and the ones outside stay as they are.
    """
    start, end = max(0, start), min(length, end)
    lo, hi = 0, length
    # One pass, plain comparisons: thousands of rows on every windowed answer.
    for span in span_rows(spans):
        first, last = span[START], span[END]
        first, last = (0 if first < 0 else first), (length if last > length else last)
        # Spans that ``segments`` skips (empty once clipped to the body) cut nothing, so they bound nothing here.
        if first >= last or span[PK] == changed:
            continue
        if first <= start:
            lo = first if first > lo else lo
            lo = last if lo < last <= start else lo
        elif first >= end:
            hi = first if first < hi else hi
        if last >= end:
            hi = last if last < hi else hi
    return lo, hi


def span_group_id(label: Any) -> str:
    """The id of ``label``'s group in the side panel's spans (the answers place and delete groups by it)."""
    return f"ws-group-{label.slug}"


def render_span_groups(body: str, groups: Iterable[tuple[Any, Sequence[SpanRow]]]) -> SafeString:
    """The side panel's spans, grouped by label: one button per span that selects it in the text.

    Each group is ``#ws-group-<label slug>``, its count ``#ws-count-<slug>`` and each item ``#ws-item-<span id>``
    (a write's answer adds and takes away items and swaps the count by these: ``render_span_changes``).
    """
    parts: list[str] = []
    append = parts.append
    for label, spans in groups:
        name = escape(label.name)
        append(
            f'<section id="{span_group_id(label)}" class="span-group"><h3>'
            f'<span class="swatch label-{label.slug}" aria-hidden="true"></span>'
            f"{name} {count_badge(f'ws-count-{label.slug}', len(spans))}</h3>"
            f'<ol class="span-list" id="ws-list-{label.slug}">'
        )
        for span in spans:
            append(_span_item(body, name, span))
        append("</ol></section>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text and attribute value above is escaped


def count_badge(element_id: str, count: int, *, oob: bool = False) -> str:
    """A list's count in the side panel, ``#element_id``; ``oob``: swapped in out of band."""
    swap = ' hx-swap-oob="true"' if oob else ""
    return f'<span class="count" id="{element_id}"{swap}>{count}</span>'


def _span_item(body: str, name: str, span: SpanRow) -> str:
    """One item of the list of spans; ``name``: its label's name, escaped."""
    pk, start, end, _, note, verdict = span
    text = excerpt(body[start:end])
    if "&" in text or "<" in text or ">" in text:
        text = escape(text, quote=False)
    item = (
        f'<li id="ws-item-{pk}"><button type="button" class="span-item" data-span="{pk}">'
        f'<span class="visually-hidden">{name}: </span>{text}</button>'
    )
    if note:
        item += f' <span class="badge" title="{escape(note)}">note</span>'
    if verdict:
        verdict = escape(verdict)
        item += f' <span class="badge verdict-{verdict}">{verdict}</span>'
    return item + "</li>"


def render_span_changes(
    body: str, label: Any, rows: Sequence[SpanRow], added: Set[int], removed: Sequence[int], anchor: str = ""
) -> SafeString:
    """What a write's answer sends of ``label``'s list of spans when the page shows it before and after: the items
    of ``added`` (ids) inserted out of band before the item that follows each (or at the list's end), the items of
    ``removed`` taken away, and the list's count. ``rows``: the label's rows after the write, in the list's order.
    The page's list then is the one ``render_span_groups`` draws, without the hundreds of items a long article's
    list holds. A list the write empties takes its group with it; one it starts (``anchor``: where, an htmx
    out-of-band ``afterend:`` or ``beforebegin:`` another group) comes as its whole group."""
    if not rows or anchor:
        return out_of_band_group(span_group_id(label), anchor, lambda: render_span_groups(body, [(label, rows)]))
    name = escape(label.name)
    changes = out_of_band_list(
        rows,
        added,
        removed,
        item_id=lambda pk: f"ws-item-{pk}",
        list_id=f"ws-list-{label.slug}",
        items=lambda run: "".join(_span_item(body, name, row) for row in run),
    )
    count = count_badge(f"ws-count-{label.slug}", len(rows), oob=True)
    return mark_safe(changes + count)  # noqa: S308 -- _span_item escapes every text


def out_of_band_group(group_id: str, anchor: str, group: Callable[[], str]) -> SafeString:
    """A group of the side panel the write empties (``anchor`` empty: it is deleted) or starts (put in whole,
    ``group()``'s markup, where ``anchor`` says: ``afterend:#…`` or ``beforebegin:#…`` another group)."""
    if not anchor:
        return mark_safe(f'<div hx-swap-oob="delete:#{group_id}"></div>')  # noqa: S308 -- an id made of a slug
    return mark_safe(f'<div hx-swap-oob="{anchor}">{group()}</div>')  # noqa: S308 -- group() escapes its texts


def out_of_band_list(
    rows: Sequence[SpanRow],
    added: Set[int],
    removed: Sequence[int],
    *,
    item_id: Callable[[int], str],
    list_id: str,
    items: Callable[[list[SpanRow]], str],
) -> str:
    """htmx out-of-band parts that turn a list into ``rows`` (in its order): each of ``removed`` (ids) deleted, each
    run of ``added`` rows inserted before the next row the list already holds, or at its end (``list_id``).
    ``items``: the markup of a run of rows."""
    parts = [f'<ol hx-swap-oob="delete:#{item_id(pk)}"></ol>' for pk in removed]
    run: list[SpanRow] = []
    for row in [*rows, None]:
        if row is not None and row[PK] in added:
            run.append(row)
            continue
        if run:
            target = f"beforebegin:#{item_id(row[PK])}" if row is not None else f"beforeend:#{list_id}"
            parts.append(f'<ol hx-swap-oob="{target}">{items(run)}</ol>')
            run = []
    return "".join(parts)


INK_DARK = "#1d232a"
INK_LIGHT = "#ffffff"
MIN_CONTRAST = 4.5


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink_for(background: str) -> str:
    """The text colour for a highlight: the page's dark ink unless a curator picked a dark label colour."""
    if contrast_ratio(INK_DARK, background) >= MIN_CONTRAST:
        return INK_DARK
    return max((INK_LIGHT, INK_DARK), key=lambda ink: contrast_ratio(ink, background))


def css_ident(text: str) -> str:
    """``text`` safe inside a CSS class selector: anything but ASCII letters, digits, ``-`` and ``_`` escaped."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else f"\\{ord(c):x} " for c in text)


# A second cue beside the hue (WCAG 1.4.1): each label's underline has its own style, in label order.
UNDERLINES = ("solid", "dashed", "dotted", "double", "wavy")
MIN_EDGE_CONTRAST = 3.0  # WCAG 1.4.11: a mark that tells labels apart stands 3:1 against the page


def edge_for(color: str, page: str = "#ffffff") -> str:
    """``color`` darkened until it stands ``MIN_EDGE_CONTRAST`` against ``page``: the label's underline colour."""
    channels = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    for _ in range(64):
        edge = "#" + "".join(f"{c:02x}" for c in channels)
        if contrast_ratio(edge, page) >= MIN_EDGE_CONTRAST:
            return edge
        channels = [int(c * 0.9) for c in channels]
    return "#000000"


def labels_stylesheet(labels: Iterable[tuple[str, str]]) -> str:
    """Per-label custom properties: ``.label-<slug>`` for swatches, ``.l<n>-<slug>`` for the nth highlight layer.

    Each label has its colour, the ink for text on it, an underline colour that stands 3:1 against the page
    (``--edge``) and an underline style of its own (``--deco``), so labels differ by more than hue.
    """
    lines = []
    for index, (raw_slug, color) in enumerate(labels):
        # The database allows only plain slugs and #rrggbb colours; escaped anyway, as a stylesheet is code.
        slug = css_ident(raw_slug)
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            continue
        ink = ink_for(color)
        edge, deco = edge_for(color), UNDERLINES[index % len(UNDERLINES)]
        lines.append(f".label-{slug} {{ --label-color: {color}; }}")
        lines.append(f".label-{slug} {{ --label-ink: {ink}; --label-edge: {edge}; --label-deco: {deco}; }}")
        lines += [
            f".l{n}-{slug} {{ --l{n}: {color}; --ink{n}: {ink}; --edge{n}: {edge}; --deco{n}: {deco}; }}"
            for n in range(1, MAX_LAYERS + 1)
        ]
    return "\n".join(lines) + "\n"


class BarPart(NamedTuple):
    key: str
    name: str
    count: int
    x: float  # percent of the bar's width where this part starts
    width: float  # percent of the bar's width


def stacked_bar(parts: Iterable[tuple[str, str, int]]) -> list[BarPart]:
    """Geometry of a 100%-wide stacked bar for ``(key, name, count)`` parts; empty parts get no width."""
    parts = list(parts)
    total = sum(count for _, _, count in parts)
    bar: list[BarPart] = []
    x = 0.0
    for key, name, count in parts:
        width = 100 * count / total if total else 0.0
        bar.append(BarPart(key, name, count, round(x, 3), round(width, 3)))
        x += width
    return bar
