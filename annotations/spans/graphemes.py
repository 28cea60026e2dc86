"""What a span may cover beyond valid offsets: whole user-perceived characters, and something visible.

A "character" to a reader is an extended grapheme cluster (Unicode UAX #29, the ``regex`` package's ``\\X``):
👩‍💻 is three code points joined by ZWJ, a flag is two regional indicators, "é" may be "e" plus U+0301. A span
whose edge falls inside one would show half a character (a lone ZWJ, half a flag, a letter without its accent).
The browser widens a selection to whole clusters and trims whitespace; this module is the server's check, used
for every span written (workspace, API, undo, the admin's restore, imports), which refuses rather than moves.

Whitespace at a span's edges is allowed (an imported span keeps the offsets its tool wrote; the browser never
sends any, it trims first); a span holding only whitespace or invisible characters is refused.
"""

from __future__ import annotations

import regex

_CLUSTER = regex.compile(r"\X")
_INVISIBLE = regex.compile(r"[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+")


def _line_bounds(body: str, position: int) -> tuple[int, int]:
    """A stretch of ``body`` around ``position`` whose edges are cluster boundaries in the whole text.

    UAX #29 always breaks after LF (rule GB4), so segmenting from just after one newline to just after the next
    gives the same boundaries as segmenting the whole body, without scanning a long article for every span.
    """
    lo = body.rfind("\n", 0, position) + 1
    hi = body.find("\n", position)
    return lo, len(body) if hi == -1 else hi + 1


def cluster_at(body: str, position: int) -> tuple[int, int]:
    """``(start, end)`` of the grapheme cluster containing code point ``position`` (``0 <= position < len``)."""
    lo, hi = _line_bounds(body, position)
    for match in _CLUSTER.finditer(body, lo, hi):
        if match.start() <= position < match.end():
            return match.start(), match.end()
    return position, position + 1  # unreachable: \X matches every code point in some cluster


def is_boundary(body: str, position: int) -> bool:
    """True when ``position`` falls between two user-perceived characters (or at either end of the text)."""
    if position <= 0 or position >= len(body):
        return True
    before, after = body[position - 1], body[position]
    if before < "\x80" and after < "\x80":
        # Between two ASCII characters UAX #29 always breaks, except inside CR LF (GB3): no segmenting needed.
        return not (before == "\r" and after == "\n")
    return cluster_at(body, position)[0] == position


def _describe(cluster: str) -> str:
    points = " ".join(f"U+{ord(char):04X}" for char in cluster)
    return f"“{cluster}” ({points})"


def grapheme_problem(body: str, start: int, end: int) -> str | None:
    """Why ``body[start:end]`` cannot be a span (splits a character, or holds nothing visible); None if fine.

    Offsets must already be valid (``0 <= start < end <= len(body)``): see ``check_offsets``.
    """
    for edge, name in ((start, "starts"), (end, "ends")):
        if not is_boundary(body, edge):
            lo, hi = cluster_at(body, edge)
            return (
                f"The span {start}–{end} {name} inside the character {_describe(body[lo:hi])} at {lo}–{hi}: "
                "select whole characters (an emoji, a flag or an accented letter is one character made of "
                "several code points)."
            )
    if _INVISIBLE.fullmatch(body, start, end):
        return f"The span {start}–{end} holds only whitespace or invisible characters; select some text."
    return None
