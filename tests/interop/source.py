"""The texts and spans given to Label Studio and doccano to make the import fixtures (``source.json``).

Spans are given by quote and occurrence; each tool gets the offsets it counts in: code points (Label Studio
1.6+), UTF-16 code units (doccano, its default mode) or grapheme clusters (doccano with "count grapheme
clusters as one character"). ``expected()`` is what NewsNotes must hold after importing any of the files:
the text with CRLF normalised to LF, code-point offsets into it, one layer per annotator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import regex

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "interop" / "source.json"
ANNOTATORS = {"alice": "alice@example.org", "bob": "bob@example.org"}


@dataclass(frozen=True)
class Given:
    title: str
    text: str  # as given to the tool: CRLF kept
    label: str
    quote: str
    annotator: str
    start: int  # code points into ``text``
    end: int


def load() -> list[Given]:
    spec = json.loads(SOURCE.read_text(encoding="utf-8"))
    given = []
    for item in spec["texts"]:
        for span in item["spans"]:
            start = -1
            for _ in range(span["occurrence"] + 1):
                start = item["text"].index(span["quote"], start + 1)
            given.append(
                Given(
                    item["title"],
                    item["text"],
                    span["label"],
                    span["quote"],
                    span["annotator"],
                    start,
                    start + len(span["quote"]),
                )
            )
    return given


def texts() -> list[tuple[str, str]]:
    spec = json.loads(SOURCE.read_text(encoding="utf-8"))
    return [(item["title"], item["text"]) for item in spec["texts"]]


def offset(text: str, codepoints: int, convention: str) -> int:
    before = text[:codepoints]
    if convention == "codepoints":
        return codepoints
    if convention == "utf16":
        return len(before.encode("utf-16-le")) // 2
    if convention == "graphemes":
        return len(regex.findall(r"\X", before))
    raise ValueError(convention)


def expected() -> list[tuple[str, str, int, int, str, str]]:
    """(normalised text, label, start, end, span text, annotator) for every given span, sorted."""
    rows = []
    for g in load():
        text = g.text.replace("\r\n", "\n")
        start = len(g.text[: g.start].replace("\r\n", "\n"))
        end = len(g.text[: g.end].replace("\r\n", "\n"))
        rows.append((text, g.label, start, end, text[start:end], g.annotator))
    return sorted(rows)
