"""The review page's text: the body with the gold layer highlighted and each open conflict's extent marked."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString

from annotations.review.alignment import Alignment
from annotations.review.models import GoldSpan
from annotations.workspace.rendering import render_body

CONFLICT_LABEL = -1


@dataclass(frozen=True)
class _Marker:
    name: str = "conflict"
    slug: str = "conflict"
    ordering: int = 10_000


def review_body(body: str, *, gold: list[GoldSpan], alignment: Alignment, labels: dict) -> SafeString:
    """Gold spans keep their ids; conflict n is drawn as the pseudo-span ``c<n>`` (negative id ``-n``)."""
    rows = [(gold_span.pk, gold_span.start, gold_span.end, gold_span.label_id) for gold_span in gold]
    rows += [
        (-(n + 1), conflict.start, conflict.end, CONFLICT_LABEL)
        for n, conflict in enumerate(alignment.conflicts)
        if not conflict.settled
    ]
    return render_body(body, rows, {**labels, CONFLICT_LABEL: _Marker()})
