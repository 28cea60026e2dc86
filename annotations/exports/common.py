"""Conventions every export format shares: times, JSON, offsets, formula neutralising, chunked output."""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# OWASP "CSV injection": a spreadsheet evaluates a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Chunks of roughly this size go to the client: large enough that per-chunk overhead (a WSGI write, a
# socket send) vanishes, small enough that memory stays flat.
CHUNK_BYTES = 64 * 1024


def needs_quote(value: str) -> bool:
    """A cell that starts with a formula trigger, or with single quotes and then one, gets one more ``'``.

    Quoting the already-quoted cells too makes the undo rule exact: drop one ``'`` from a cell that starts
    with one or more ``'`` followed by a trigger, and every cell comes back as stored.
    """
    return value.lstrip("'").startswith(FORMULA_TRIGGERS)


def neutralise(value: str) -> str:
    """Prefix a single quote to a cell a spreadsheet would run as a formula; the quote is not displayed."""
    return "'" + value if needs_quote(value) else value


def unneutralise(value: str) -> str:
    """The exact inverse of ``neutralise``, for programs reading a default (neutralised) CSV."""
    return value[1:] if value.startswith("'") and needs_quote(value[1:]) else value


def iso_utc(moment: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC, always with microseconds and a ``Z``: one fixed width that sorts as text.

    PostgreSQL writes the same form with ``to_char(... AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')``.
    """
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Keys sorted by code point, no spaces, UTF-8 characters as themselves (PostgreSQL writes the same)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_line(value: Any) -> str:
    """One JSON document on one line, in the export's canonical form (key order as given)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utf16_offsets(body: str) -> Callable[[int], int]:
    """Map code-point offsets in ``body`` to UTF-16 code-unit offsets (what JavaScript's ``String.length`` counts)."""
    astral = [i for i, char in enumerate(body) if ord(char) > 0xFFFF]
    if not astral:
        return lambda offset: offset
    return lambda offset: offset + bisect_left(astral, offset)


def chunked(pieces: Iterable[str], *, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Join small strings into UTF-8 chunks of about ``size`` bytes."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer).encode()
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer).encode()


def sorted_json(value: Any) -> Any:
    """``value`` with every object's keys in code-point order, so nested JSON comes out canonical."""
    if isinstance(value, dict):
        return {key: sorted_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_json(item) for item in value]
    return value


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV record as PostgreSQL's COPY writes it: quote a cell holding , " CR or LF; None is empty."""
    out = []
    for cell in cells:
        if cell is None:
            out.append("")
            continue
        text = str(cell)
        if "," in text or '"' in text or "\n" in text or "\r" in text:
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\n"
