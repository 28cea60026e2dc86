"""Which unit a tool's span offsets count, and conversion to ours (code points, Python ``str`` indices).

JavaScript counts UTF-16 code units, so browser-based tools (doccano; Label Studio before 1.6) store an emoji
as two positions; newer Label Studio counts code points. The two agree until the first character outside the
Basic Multilingual Plane (emoji, some CJK), and differ by one per such character after it.

``resolve`` decides for a whole file. ``--offsets codepoints|utf16`` says so; ``auto`` looks at every span
whose two readings differ: the span's text (when the file gives it) or a reading that falls outside the text or
inside a surrogate pair rules one out. Conflicting evidence is an error; no evidence means the tool's own
convention, and the caller is told which unit was assumed and why.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from articles.importers import ImportFailure

CODEPOINTS = "codepoints"
UTF16 = "utf16"
AUTO = "auto"
CHOICES = (AUTO, CODEPOINTS, UTF16)
NAMES = {CODEPOINTS: "code points", UTF16: "UTF-16 code units"}


def utf16_reader(body: str) -> Callable[[int], int | None]:
    """Map a UTF-16 offset to a code-point offset; None if it falls inside a surrogate pair or past the end."""
    pairs: list[int] = []  # UTF-16 position of each astral character
    extra = 0
    for index, char in enumerate(body):
        if ord(char) > 0xFFFF:
            pairs.append(index + extra)
            extra += 1
    length = len(body) + extra
    pair_set = set(pairs)

    def convert(offset: int) -> int | None:
        if offset < 0 or offset > length or (offset - 1) in pair_set:
            return None
        return offset - bisect_right(pairs, offset - 2)

    return convert


@dataclass
class RawSpan:
    """A span as the file gives it, before its offsets are known to be code points."""

    start: int
    end: int
    label: str
    text: str | None
    where: str  # "file:line" or "file:task N", for messages
    declared: str | None = None  # a unit the file states for this span (our exports do)


@dataclass
class Document:
    body: str
    spans: list[RawSpan]


def _reading(body: str, span: RawSpan, unit: str, convert: Callable[[int], int | None] | None):
    if unit == CODEPOINTS:
        start, end = span.start, span.end
        if not (0 <= start < end <= len(body)):
            return None
    else:
        assert convert is not None
        start, end = convert(span.start), convert(span.end)
        if start is None or end is None or start >= end:
            return None
    if span.text is not None and body[start:end] != span.text:
        return None
    return start, end


def resolve(
    path: str | Path, documents: list[Document], *, mode: str, default: str, tool: str
) -> tuple[dict[int, tuple[int, int]], str | None]:
    """Code-point ``(start, end)`` for every span (keyed by ``id(span)``), and a notice saying what was assumed.

    Raises ``ImportFailure`` at the first span that fits neither reading (or not the one asked for).
    """
    if mode not in CHOICES:
        raise ImportFailure(path, None, f"--offsets must be one of {', '.join(CHOICES)}, not {mode!r}")
    converters = [utf16_reader(doc.body) if any(ord(c) > 0xFFFF for c in doc.body) else None for doc in documents]
    evidence: dict[str, str] = {}
    ambiguous = 0
    if mode == AUTO:
        for doc, convert in zip(documents, converters, strict=True):
            if convert is None:
                continue
            for span in doc.spans:
                as_points = _reading(doc.body, span, CODEPOINTS, convert)
                as_units = _reading(doc.body, span, UTF16, convert)
                if span.declared in (CODEPOINTS, UTF16):
                    evidence.setdefault(span.declared, f"{span.where} (declared)")
                elif as_points == as_units:
                    continue
                elif as_points and as_units:
                    ambiguous += 1
                elif as_points:
                    evidence.setdefault(CODEPOINTS, span.where)
                elif as_units:
                    evidence.setdefault(UTF16, span.where)
        if len(evidence) == 2:
            raise ImportFailure(
                path,
                None,
                f"offsets mix code points ({evidence[CODEPOINTS]}) and UTF-16 code units ({evidence[UTF16]}); "
                "fix the file or import its parts separately",
            )
    unit = mode if mode != AUTO else next(iter(evidence), default)
    notice = None
    if mode == AUTO and evidence.get(unit, "").endswith("(declared)"):
        # Our own exports say which unit they use; only a conversion is worth mentioning.
        if unit == UTF16:
            notice = f"{path}: offsets are UTF-16 code units, as the file says; converted to code points"
    elif mode == AUTO and evidence:
        notice = f"{path}: offsets read as {NAMES[unit]}: the span at {evidence[unit]} only fits that way" + (
            "" if unit == CODEPOINTS else "; converted to code points"
        )
    elif mode == AUTO and ambiguous:
        notice = (
            f"{path}: {ambiguous} span(s) after an emoji or other non-BMP character fit both code points and "
            f"UTF-16 code units; assumed {NAMES[unit]} ({tool}'s convention). "
            f"Check them, or pass --offsets {CODEPOINTS if unit == UTF16 else UTF16} if that is wrong"
        )
    resolved: dict[int, tuple[int, int]] = {}
    for doc, convert in zip(documents, converters, strict=True):
        for span in doc.spans:
            reading = _reading(doc.body, span, unit if convert else CODEPOINTS, convert)
            if reading is None:
                raise ImportFailure(span.where, None, _misfit(doc.body, span, unit, convert))
            resolved[id(span)] = reading
    return resolved, notice


def _misfit(body: str, span: RawSpan, unit: str, convert) -> str:
    what = f"span {span.start}-{span.end} {span.label!r}"
    if convert is None:  # no character outside the BMP: both readings are the same
        unit = CODEPOINTS
    other = UTF16 if unit == CODEPOINTS else CODEPOINTS
    if convert is not None and _reading(body, span, other, convert):
        return f"{what} does not fit the text as {NAMES[unit]} but does as {NAMES[other]}; pass --offsets {other}"
    if unit == CODEPOINTS:
        if not (0 <= span.start < span.end <= len(body)):
            return f"{what} is outside the text ({len(body)} characters) or empty"
        actual = body[span.start : span.end]
    else:
        units = len(body.encode("utf-16-le")) // 2
        if not (0 <= span.start < span.end <= units):
            return f"{what} is outside the text ({units} UTF-16 code units) or empty"
        start, end = convert(span.start), convert(span.end)
        if start is None or end is None:
            inside = span.start if start is None else span.end
            return (
                f"{what} splits a character: offset {inside} falls between the two UTF-16 code units of an emoji "
                "or other character outside the BMP"
            )
        actual = body[start:end]
    return f"{what}: the file says the text is {span.text[:60]!r}, the article has {actual[:60]!r} there"
