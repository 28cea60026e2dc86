"""Where a span is validated: code-point offsets checked against the stored text.

The database re-checks ``text = body[start:end]`` on every write (a trigger); this check runs first, so the
editor is told what is wrong in words.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from annotations.spans.graphemes import grapheme_problem


def check_offsets(*, body: str, start: Any, end: Any, text: str | None = None) -> tuple[int, int, str]:
    """Validate code-point offsets against ``body`` (whole characters, not blank): ``(start, end, body[start:end])``."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise ValidationError("Start and end must be whole numbers (character offsets).") from None
    if start < 0 or end < 0:
        raise ValidationError(f"Offsets cannot be negative (got {start}–{end}).")
    if start >= end:
        raise ValidationError(f"A span must cover at least one character (start {start} is not before end {end}).")
    if end > len(body):
        raise ValidationError(f"The span {start}–{end} runs past the end of the text ({len(body)} characters).")
    actual = body[start:end]
    if text is not None and text != actual:
        raise ValidationError(
            f"The selected text does not match the article at {start}–{end}: "
            f"expected {actual[:60]!r}, got {text[:60]!r}. Reload the page and select again."
        )
    problem = grapheme_problem(body, start, end)
    if problem is not None:
        raise ValidationError(problem)
    return start, end, actual
