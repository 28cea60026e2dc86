"""The review page's long parts, built in Python: the body with the gold layer and each open conflict's extent,
the conflict list, the agreed and gold lists; and what a decision redraws of them.

A decision (accept, reject, adjust, add) answers with only what it changed, as htmx out-of-band fragments: the
conflict it settled, the counters, the new gold items in their places, the stretch of the text that changed. That
is only right on a page that holds the drawing just before the decision, so every page carries a version of what
it shows (``review_version``) and posts it; a page that missed a change gets the whole region again.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, NamedTuple

from django.utils.safestring import SafeString, mark_safe

from annotations.review.alignment import Conflict, EditorSpan
from annotations.review.models import GoldDecision
from annotations.workspace.rendering import render_body

CONFLICT_LABEL = -1
DECISION_TEXT = dict(GoldDecision.choices)


class GoldRow(NamedTuple):
    """A gold span as the page draws it (``gold_rows``): plain values, no model instance per row."""

    pk: int
    start: int
    end: int
    label_id: int
    text: str
    decision: str


@dataclass(frozen=True)
class _Marker:
    name: str = "conflict"
    slug: str = "conflict"
    ordering: int = 10_000


def drawn_rows(gold: Iterable[GoldRow], conflicts: Iterable[Conflict]) -> list[tuple[int, int, int, int]]:
    """What the text draws: gold spans under their ids, each open conflict as the pseudo-span ``-ident``."""
    rows = [(row.pk, row.start, row.end, row.label_id) for row in gold]
    rows += [(-c.ident, c.start, c.end, CONFLICT_LABEL) for c in conflicts if not c.settled]
    return rows


def review_body(
    body: str,
    rows: Sequence[tuple[int, int, int, int]],
    labels: Mapping[int, Any],
    window: tuple[int, int] | None = None,
) -> SafeString:
    drawn: dict[int, Any] = {**labels, CONFLICT_LABEL: _Marker()}
    return render_body(body, rows, drawn, window=window)


def changed_window(
    before: Iterable[tuple[int, int, int, int]], after: Iterable[tuple[int, int, int, int]], *, length: int
) -> tuple[int, int] | None:
    """The stretch of the text that differs between two drawings, from a cut point both share to another (the
    last boundary of an unchanged row at or before the first change, the first one at or after the last), so the
    segments outside it are the same in both; None when nothing changed."""
    old, new = set(before), set(after)
    changed = old ^ new
    if not changed:
        return None
    start = max(0, min(row[1] for row in changed))
    end = min(length, max(row[2] for row in changed))
    lo, hi = 0, length
    for _, row_start, row_end, _ in old & new:
        for cut in (max(0, row_start), min(length, row_end)):
            if lo < cut <= start:
                lo = cut
            if end <= cut < hi:
                hi = cut
    return lo, hi


_PRIME = 2**31 - 1
_FIRST, _SECOND = _BASES = (1_000_003, 1_000_033)


def item_hash(*fields: int) -> int:
    """One drawn item's share of a page's version (its kind, then its numbers): for each of two bases, the
    fields read as digits of a number mod a prime, cubed (a plain sum of such numbers would not see two spans
    swap their starts). Integer arithmetic within 63 bits, so PostgreSQL computes the very same value
    (``item_hash_sql``) and a decision checks a page's version with one aggregate query, cheaply."""
    first = second = 0
    for value in fields:
        value %= _PRIME
        first = (first * _FIRST + value) % _PRIME
        second = (second * _SECOND + value) % _PRIME
    return (first * first % _PRIME * first % _PRIME) << 31 | second * second % _PRIME * second % _PRIME


def item_hash_sql(*fields: str) -> str:
    """``item_hash`` as a SQL expression over bigint expressions; sum it over a query's rows. ``mod()``, not ``%``:
    the statement goes through a driver that reads ``%`` as a placeholder."""
    parts = []
    for base in _BASES:
        x = "0::bigint"
        for value in fields:
            x = f"mod({x} * {base} + mod({value}, {_PRIME}), {_PRIME})"
        # x three times over: cheaper than a sub-select per row for PostgreSQL to compute it once.
        parts.append(f"mod(mod({x} * {x}, {_PRIME}) * {x}, {_PRIME})")
    return f"({parts[0]} * {2**31} + {parts[1]})"


EDITOR_ITEM, SPAN_ITEM, DECIDED_ITEM, GOLD_ITEM = 1, 2, 3, 4


def span_item(s: EditorSpan) -> tuple[int, ...]:
    return (SPAN_ITEM, s.id, s.annotator_id, s.label_id, s.start, s.end)


def decided_item(span_id: int) -> tuple[int, ...]:
    return (DECIDED_ITEM, span_id)


def gold_row_item(g: GoldRow) -> tuple[int, ...]:
    return (GOLD_ITEM, g.pk, g.start, g.end, g.label_id)


def editor_item(editor_id: int) -> tuple[int, ...]:
    return (EDITOR_ITEM, editor_id)


# ``item_hash`` of a span's six numbers with the chain unrolled (x = sum of each number times a power of the base,
# one ``%`` at the end: the same value): the page's GET hashes every editor span, and this is half the work.
_SPAN_WEIGHTS = tuple(tuple(pow(base, 5 - i, _PRIME) for i in range(6)) for base in _BASES)


def _span_hash(span: EditorSpan) -> int:
    (f0, f1, f2, f3, f4, f5), (s0, s1, s2, s3, s4, s5) = _SPAN_WEIGHTS
    a, b, c = span.id % _PRIME, span.annotator_id % _PRIME, span.label_id % _PRIME
    d, e = span.start % _PRIME, span.end % _PRIME
    x = (SPAN_ITEM * f0 + a * f1 + b * f2 + c * f3 + d * f4 + e * f5) % _PRIME
    y = (SPAN_ITEM * s0 + a * s1 + b * s2 + c * s3 + d * s4 + e * s5) % _PRIME
    return (x * x % _PRIME * x % _PRIME) << 31 | y * y % _PRIME * y % _PRIME


def layers_digest(
    *, editor_ids: Iterable[int], spans: Iterable[EditorSpan], decided: Iterable[int], gold: Iterable[GoldRow]
) -> int:
    """The sum of every drawn item's hash (mod 2**64): which editors count, their spans, what is decided, the
    gold layer. A sum needs no sorting, and a decision adds its own items to the digest it found."""
    total = sum(item_hash(*editor_item(e)) for e in editor_ids)
    total += sum(map(_span_hash, spans))
    total += sum(item_hash(DECIDED_ITEM, span_id) for span_id in decided)
    total += sum(item_hash(*gold_row_item(g)) for g in gold)
    return total % 2**64


def version_text(digest: int, *, labels: Mapping[int, Any], anonymous: bool) -> str:
    """The version a page carries: the layers' digest, the labels and how editors are named."""
    drawn = sorted(
        (pk, label.slug, label.name, label.ordering, label.hotkey, label.active) for pk, label in labels.items()
    )
    return f"{digest % 2**64:016x}{zlib.crc32(repr((drawn, anonymous)).encode()):08x}"


def review_version(
    *,
    editor_ids: Iterable[int],
    spans: Iterable[EditorSpan],
    decided: Iterable[int],
    gold: Iterable[GoldRow],
    labels: Mapping[int, Any],
    anonymous: bool,
) -> str:
    """A short fingerprint of everything the review region shows: the editors counted, their layers, what is
    decided, the gold layer, the labels and how editors are named (``layers_digest``, ``version_text``)."""
    digest = layers_digest(editor_ids=editor_ids, spans=spans, decided=decided, gold=gold)
    return version_text(digest, labels=labels, anonymous=anonymous)


KIND_TEXT = {
    "labels": "Same range, different labels",
    "boundaries": "Overlapping, different boundaries",
    "missing": "Only some editors marked this",
}


def render_conflicts(conflicts: list[dict], *, accept_url: str, reject_url: str, csrf_token: str) -> SafeString:
    """The conflict list, built in Python like the workspace's span list: a template loop over a few hundred
    conflicts with a form per editor costs several times the rest of the page. Every text is escaped.

    The forms swap nothing themselves (``hx-swap="none"``): the answer is out-of-band fragments, or, when the
    page missed a change, the whole region (the server says so with ``HX-Reswap``)."""
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
    target = 'hx-target="#review-main" hx-swap="none" hx-sync="#review:queue all"'
    parts: list[str] = []
    append = parts.append
    for conflict in conflicts:
        settled = conflict["settled"]
        key = escape(conflict["key"])
        ident = conflict["ident"]
        oob = ' hx-swap-oob="true"' if conflict.get("oob") else ""
        append(
            f'<li class="conflict{" settled" if settled else ""}" id="conflict-{ident}" data-key="{key}" '
            f'data-marker="-{ident}" data-settled="{1 if settled else 0}" tabindex="-1"{oob}>'
            f'<p class="conflict-head"><span class="kind kind-{conflict["kind"]}">{KIND_TEXT[conflict["kind"]]}</span> '
            f'<span class="range">{conflict["start"]}–{conflict["end"]}</span>'
            f"{' <span class="settled-tag">settled</span>' if settled else ''}</p>"
            f'<p class="conflict-text">“{escape(conflict["text"])}”</p><ul class="readings">'
        )
        for reading in conflict["readings"]:
            name = escape(reading.name)
            append(f'<li class="reading" data-letter="{reading.letter}">')
            if settled:
                append(f'<span class="reader">{name}</span>')
            else:
                kbd = f"<kbd>{reading.key}</kbd> " if reading.key else ""
                append(
                    f'<form method="post" action="{accept_url}" hx-post="{accept_url}" {target}>{token}'
                    f'<input type="hidden" name="conflict" value="{key}">'
                    f'<input type="hidden" name="editor" value="{reading.letter}">'
                    f'<button type="submit" class="accept">{kbd}Accept {name}</button></form>'
                )
            if reading.spans:
                for span in reading.spans:
                    label = span["label"]
                    append(
                        f'<span class="version label-{escape(label.slug)}">{escape(label.name)} '
                        f"{span['start']}–{span['end']} “{escape(span['text'])}”</span>"
                    )
            else:
                append('<span class="version none">no span here</span>')
            append("</li>")
        append("</ul>")
        if not settled:
            append(
                f'<form method="post" action="{reject_url}" hx-post="{reject_url}" {target}>{token}'
                f'<input type="hidden" name="conflict" value="{key}">'
                '<button type="submit" class="reject"><kbd>x</kbd> Reject all</button></form>'
            )
        append("</li>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text and attribute value above is escaped


def render_span_items(items: list[tuple[object, int, int, str, str]], *, empty: str) -> SafeString:
    """``<li>`` per ``(label, start, end, text, extra)``: the agreed list, escaped."""
    if not items:
        return mark_safe(f'<li class="empty">{escape(empty)}</li>')  # noqa: S308 -- escaped
    return mark_safe(  # noqa: S308 -- every text and attribute value is escaped
        "".join(
            f'<li class="label-{escape(label.slug)}">{escape(label.name)} {start}–{end} “{escape(text)}”'  # type: ignore[attr-defined]
            f"{f' <span class="decision">{escape(extra)}</span>' if extra else ''}</li>"
            for label, start, end, text, extra in items
        )
    )


def gold_item(row: GoldRow, labels: Mapping[int, Any], excerpt: Any) -> str:
    """One gold span's ``<li id="gold-PK">``: the id lets a decision's answer insert new ones in their place."""
    label = labels[row.label_id]
    return (
        f'<li id="gold-{row.pk}" class="label-{escape(label.slug)}">{escape(label.name)} {row.start}–{row.end} '
        f'“{escape(excerpt(row.text))}” <span class="decision">{escape(DECISION_TEXT[row.decision])}</span></li>'
    )


GOLD_EMPTY_ID = "gold-empty"


def render_gold_items(rows: Sequence[GoldRow], labels: Mapping[int, Any], *, excerpt: Any, empty: str) -> SafeString:
    if not rows:
        return mark_safe(f'<li class="empty" id="{GOLD_EMPTY_ID}">{escape(empty)}</li>')  # noqa: S308 -- escaped
    return mark_safe("".join(gold_item(row, labels, excerpt) for row in rows))  # noqa: S308 -- escaped


def gold_insertions(
    rows: Sequence[GoldRow], created: set[int], labels: Mapping[int, Any], *, excerpt: Any
) -> SafeString:
    """Out-of-band fragments putting the ``created`` gold rows where a fresh drawing of the (sorted) list has them:
    each before the next row the page already holds, or at the end. Wrapped in a ``<ul>`` because htmx inserts
    the wrapper's children for these swap styles."""
    parts = []
    for index, row in enumerate(rows):
        if row.pk not in created:
            continue
        following = next((later.pk for later in rows[index + 1 :] if later.pk not in created), None)
        where = f"beforebegin:#gold-{following}" if following is not None else "beforeend:#review-gold"
        parts.append(f'<ul hx-swap-oob="{where}">{gold_item(row, labels, excerpt)}</ul>')
    return mark_safe("".join(parts))  # noqa: S308 -- every text and attribute value is escaped
