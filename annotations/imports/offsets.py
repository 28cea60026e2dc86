"""Which unit a tool's span offsets count, and conversion to ours (code points, Python ``str`` indices).

JavaScript counts UTF-16 code units, so browser-based tools (doccano; Label Studio before 1.6) store an emoji
as two positions; newer Label Studio counts code points; doccano with "count grapheme clusters as one character"
counts grapheme clusters (a family emoji, a letter with its combining marks, CRLF: one each). The three agree on
ASCII text and drift apart after the first character where they differ.

``resolve`` decides for a whole file. ``--offsets codepoints|utf16|graphemes`` says so; ``auto`` keeps every
unit under which each span of the file reads: inside the text, not splitting a character or a grapheme cluster,
and equal to the span's text where the file gives it. One unit left, or several that give the very same spans,
settles it; several that give different spans is refused with the candidates named (never a silent guess).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import regex

from annotations.spans.graphemes import is_boundary
from articles.importers import ImportFailure

CODEPOINTS = "codepoints"
UTF16 = "utf16"
GRAPHEMES = "graphemes"
AUTO = "auto"
UNITS = (CODEPOINTS, UTF16, GRAPHEMES)
CHOICES = (AUTO, *UNITS)
NAMES = {CODEPOINTS: "code points", UTF16: "UTF-16 code units", GRAPHEMES: "grapheme clusters"}
GRAPHEME = regex.compile(r"\X")


@lru_cache(maxsize=256)
def grapheme_boundaries(body: str) -> tuple[int, ...]:
    """Code-point offsets at which a grapheme cluster starts, and the end of the text (to read cluster counts)."""
    return (*(m.start() for m in GRAPHEME.finditer(body)), len(body))


def splits_grapheme(body: str, offset: int) -> bool:
    """True when ``offset`` (code points) falls inside a grapheme cluster of ``body`` (the span service's rule)."""
    return not is_boundary(body, offset)


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


def grapheme_reader(body: str) -> Callable[[int], int | None]:
    """Map a grapheme-cluster offset to a code-point offset; None past the end."""
    bounds = grapheme_boundaries(body)
    return lambda offset: bounds[offset] if 0 <= offset < len(bounds) else None


def codepoint_reader(body: str) -> Callable[[int], int | None]:
    return lambda offset: offset if 0 <= offset <= len(body) else None


READERS = {CODEPOINTS: codepoint_reader, UTF16: utf16_reader, GRAPHEMES: grapheme_reader}


class _Readers(dict):
    """A text's offset readers by unit, each made when first asked for: most texts need one (grapheme clusters
    cost a pass of the segmenter over the whole text)."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self.body = body

    def __missing__(self, unit: str) -> Callable[[int], int | None]:
        reader = self[unit] = READERS[unit](self.body)
        return reader


@dataclass
class RawSpan:
    """A span as the file gives it, before its offsets are known to be code points."""

    start: int
    end: int
    label: str
    text: str | None
    where: str  # "file:line" or "file:task N", for messages
    declared: str | None = None  # a unit the file states for this span (our exports do)
    # The span's text is one of these (a doccano line's ``spans`` details, which doccano may have re-sorted).
    one_of: frozenset[str] = frozenset()


@dataclass
class Document:
    body: str
    spans: list[RawSpan]


@dataclass
class Evidence:
    """What the spans read so far showed about one tool's offset unit, carried from batch to batch when an
    import streams: units once ruled out stay out, so every batch reads its spans in a unit the whole file fits
    so far (and a batch that fits several units reads the same spans in each of them, or is refused)."""

    fits: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(UNITS, True))
    ruled_out: dict[str, str] = field(default_factory=dict)
    ruled_out_by: dict[str, tuple[Document, RawSpan, dict[str, Callable[[int], int | None]]]] = field(
        default_factory=dict
    )


def _reading(body: str, span: RawSpan, convert: Callable[[int], int | None]) -> tuple[int, int] | None:
    start, end = convert(span.start), convert(span.end)
    if start is None or end is None or start >= end:
        return None
    if splits_grapheme(body, start) or splits_grapheme(body, end):
        return None
    if span.text is not None and body[start:end] != span.text:
        return None
    if span.one_of and body[start:end].replace("\r\n", "\n") not in span.one_of:
        return None
    return start, end


def _same_in_all_units(body: str) -> bool:
    """True when every unit counts this text alike (one code point, one code unit, one cluster per character)."""
    return body.isascii() and "\r\n" not in body


def resolve(
    path: str | Path,
    documents: list[Document],
    *,
    mode: str,
    default: str,
    tool: str,
    evidence: Evidence | None = None,
) -> tuple[dict[int, tuple[int, int]], str | None]:
    """Code-point ``(start, end)`` for every span (keyed by ``id(span)``), and a notice saying what was assumed.

    Raises ``ImportFailure`` at the first span that fits no reading (or not the one asked for), and when the
    evidence leaves several units that give different spans.
    """
    if mode not in CHOICES:
        raise ImportFailure(path, None, f"--offsets must be one of {', '.join(CHOICES)}, not {mode!r}")
    plain = [_same_in_all_units(doc.body) for doc in documents]
    readers = [_Readers(doc.body) for doc in documents]
    units: list[str] = []
    notice = None
    undecided = []
    for index, doc in enumerate(documents):
        declared = {span.declared for span in doc.spans if span.declared is not None}
        if mode != AUTO:
            units.append(mode)
        elif declared and declared <= set(UNITS) and len(declared) == 1:
            # Our own exports say which unit they use; only a conversion is worth mentioning.
            units.append(declared.pop())
            if units[-1] != CODEPOINTS and not plain[index]:
                notice = f"{path}: offsets are {NAMES[units[-1]]}, as the file says; converted to code points"
        else:
            units.append("")
            undecided.append(index)
    if undecided:
        unit, found = _detect(
            path,
            [documents[i] for i in undecided],
            [plain[i] for i in undecided],
            [readers[i] for i in undecided],
            default=default,
            tool=tool,
            evidence=evidence or Evidence(),
        )
        notice = notice or found
        for index in undecided:
            units[index] = unit
    resolved: dict[int, tuple[int, int]] = {}
    for doc, is_plain, reader, unit in zip(documents, plain, readers, units, strict=True):
        for span in doc.spans:
            reading = _reading(doc.body, span, reader[CODEPOINTS if is_plain else unit])
            if reading is None:
                raise ImportFailure(span.where, None, _misfit(doc.body, span, unit, reader))
            resolved[id(span)] = reading
    return resolved, notice


def _detect(
    path: str | Path,
    documents: list[Document],
    plain: list[bool],
    readers: list[dict[str, Callable[[int], int | None]]],
    *,
    default: str,
    tool: str,
    evidence: Evidence,
) -> tuple[str, str | None]:
    """The unit every span fits; refuses when several fit and give different spans.

    Grapheme clusters are never inferred, only named: a reading in whole clusters cannot split a character, so
    it fits almost any offsets and its fitting proves nothing.
    """
    fits, ruled_out, ruled_out_by = evidence.fits, evidence.ruled_out, evidence.ruled_out_by
    readings: dict[str, list[tuple[int, int] | None]] = {unit: [] for unit in UNITS}
    for doc, is_plain, reader in zip(documents, plain, readers, strict=True):
        if is_plain:
            continue
        for span in doc.spans:
            for unit in UNITS:
                if not fits[unit]:
                    continue
                reading = _reading(doc.body, span, reader[unit])
                if reading is None:
                    fits[unit] = False
                    ruled_out[unit] = span.where
                    ruled_out_by[unit] = (doc, span, reader)
                readings[unit].append(reading)
    candidates = [unit for unit in UNITS if fits[unit]]
    inferable = [unit for unit in candidates if unit != GRAPHEMES]
    if not fits[CODEPOINTS] and not fits[UTF16]:
        spans = {unit: ruled_out_by[unit] for unit in (CODEPOINTS, UTF16)}
        cp_doc, cp_span, cp_reader = spans[CODEPOINTS]
        u_doc, u_span, u_reader = spans[UTF16]
        if _reading(cp_doc.body, cp_span, cp_reader[UTF16]) and _reading(u_doc.body, u_span, u_reader[CODEPOINTS]):
            raise ImportFailure(
                path,
                None,
                f"offsets mix code points ({ruled_out[UTF16]}) and UTF-16 code units ({ruled_out[CODEPOINTS]}); "
                "fix the file or import its parts separately",
            )
    if not candidates:
        return default, None  # the default's first misfit is reported with its reason
    if not inferable:
        raise ImportFailure(
            path,
            None,
            f"the spans' offsets fit neither code points (not at {ruled_out[CODEPOINTS]}) nor UTF-16 code units "
            f"(not at {ruled_out[UTF16]}), only grapheme clusters, which are never assumed; if the {tool} project "
            "counted grapheme clusters as one character, pass --offsets graphemes",
        )
    distinct = {tuple(readings[unit]) for unit in candidates}
    if len(distinct) > 1:
        names = ", ".join(f"{NAMES[u]} (--offsets {u})" for u in candidates)
        raise ImportFailure(
            path,
            None,
            f"the spans fit several offset units that give different spans in this file: {names}; "
            f"nothing in the file tells them apart, so pass the unit {tool} counted with --offsets",
        )
    unit = default if default in inferable else inferable[0]
    others = [u for u in (CODEPOINTS, UTF16) if u != unit and u in ruled_out]
    if others and readings[unit]:
        return unit, f"{path}: offsets read as {NAMES[unit]}: the span at {ruled_out[others[0]]} only fits that way" + (
            "" if unit == CODEPOINTS else "; converted to code points"
        )
    return unit, None


def _misfit(body: str, span: RawSpan, unit: str, reader: dict[str, Callable[[int], int | None]]) -> str:
    if _same_in_all_units(body):
        unit = CODEPOINTS
    what = f"span {span.start}-{span.end} {span.label!r}"
    others = [u for u in UNITS if u != unit and _reading(body, span, reader[u])]
    if GRAPHEMES in others and len(others) > 1:
        others.remove(GRAPHEMES)  # fits almost anything (see _detect): worth naming only when nothing else fits
    if others and not _same_in_all_units(body):
        return (
            f"{what} does not fit the text as {NAMES[unit]} but does as "
            + " or as ".join(NAMES[u] for u in others)
            + f"; pass --offsets {others[0]}"
        )
    convert = reader[CODEPOINTS if _same_in_all_units(body) else unit]
    size = (
        len(body)
        if unit == CODEPOINTS
        else len(body.encode("utf-16-le")) // 2
        if unit == UTF16
        else len(grapheme_boundaries(body)) - 1
    )
    start, end = convert(span.start), convert(span.end)
    if not (0 <= span.start < span.end <= size):
        return f"{what} is outside the text ({size} {'characters' if unit == CODEPOINTS else NAMES[unit]}) or empty"
    if start is None or end is None:
        inside = span.start if start is None else span.end
        return (
            f"{what} splits a character: offset {inside} falls between the two UTF-16 code units of an emoji "
            "or other character outside the BMP"
        )
    for offset in (start, end):
        if splits_grapheme(body, offset):
            return (
                f"{what} splits a grapheme cluster (an emoji sequence or a letter with its combining marks) "
                f"at {body[max(0, offset - 3) : offset + 3]!r}"
            )
    return (
        f"{what}: the file says the text is {(span.text or '')[:60]!r}, the article has {body[start:end][:60]!r} there"
    )


class LineEnds:
    """Offsets between a file's text and the text as stored, in which every CRLF is LF (``normalise_newlines``).

    The CRLFs are found once per text; each offset then maps with one binary search. A text without CRLF maps
    every offset to itself."""

    def __init__(self, raw: str) -> None:
        self._crs = list(_finditer_crlf(raw))  # where each CRLF's CR stands in the file's text
        self._dropped = [cr - n for n, cr in enumerate(self._crs)]  # where that line end stands once stored

    def stored(self, raw_offset: int) -> int:
        """``raw_offset`` into the file's text, as an offset into the stored text (each whole CRLF before it is
        one character shorter)."""
        return raw_offset - bisect_right(self._crs, raw_offset - 2)

    def raw(self, offset: int) -> int:
        """``offset`` into the stored text, as an offset into the file's text (each line end before it is a CRLF
        again)."""
        return offset + bisect_left(self._dropped, offset)


def _finditer_crlf(raw: str) -> Iterator[int]:
    at = raw.find("\r\n")
    while at != -1:
        yield at
        at = raw.find("\r\n", at + 2)
