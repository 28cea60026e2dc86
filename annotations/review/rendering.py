"""The review page's text: the body with the gold layer highlighted and each open conflict's extent marked."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from annotations.review.alignment import Alignment
from annotations.review.models import GoldSpan
from annotations.workspace.rendering import render_body

CONFLICT_LABEL = -1


@dataclass(frozen=True)
class _Marker:
    name: str = "conflict"
    slug: str = "conflict"
    ordering: int = 10_000


def review_body(body: str, *, gold: list[GoldSpan], alignment: Alignment, labels: dict[int, Any]) -> SafeString:
    """Gold spans keep their ids; conflict n is drawn as the pseudo-span ``c<n>`` (negative id ``-n``)."""
    rows = [(gold_span.pk, gold_span.start, gold_span.end, gold_span.label_id) for gold_span in gold]
    rows += [
        (-(n + 1), conflict.start, conflict.end, CONFLICT_LABEL)
        for n, conflict in enumerate(alignment.conflicts)
        if not conflict.settled
    ]
    drawn: dict[int, Any] = {**labels, CONFLICT_LABEL: _Marker()}
    return render_body(body, rows, drawn)


KIND_TEXT = {
    "labels": "Same range, different labels",
    "boundaries": "Overlapping, different boundaries",
    "missing": "Only some editors marked this",
}


def render_conflicts(conflicts: list[dict], *, accept_url: str, reject_url: str, csrf_token: str) -> SafeString:
    """The conflict list, built in Python like the workspace's span list: a template loop over a few hundred
    conflicts with a form per editor costs several times the rest of the page. Every text is escaped."""
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
    target = 'hx-target="#review-main" hx-swap="outerHTML" hx-sync="#review:queue all"'
    parts: list[str] = []
    append = parts.append
    for conflict in conflicts:
        settled = conflict["settled"]
        key = escape(conflict["key"])
        append(
            f'<li class="conflict{" settled" if settled else ""}" id="conflict-{conflict["n"]}" data-key="{key}" '
            f'data-marker="-{conflict["n"]}" data-settled="{1 if settled else 0}" tabindex="-1">'
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
    """``<li>`` per ``(label, start, end, text, extra)``: the agreed and gold lists, escaped."""
    if not items:
        return mark_safe(f'<li class="empty">{escape(empty)}</li>')  # noqa: S308 -- escaped
    return mark_safe(  # noqa: S308 -- every text and attribute value is escaped
        "".join(
            f'<li class="label-{escape(label.slug)}">{escape(label.name)} {start}–{end} “{escape(text)}”'  # type: ignore[attr-defined]
            f"{f' <span class="decision">{escape(extra)}</span>' if extra else ''}</li>"
            for label, start, end, text, extra in items
        )
    )
