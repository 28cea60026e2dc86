"""JSON Lines: one article object per line (title, body, url, source, byline, published_at, language, metadata).

Annotated doccano JSONL is read by ``annotations.imports`` (which hands plain lines back to this reader).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, decode_utf8, json_lines, record_from_mapping


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    yield from read_text(path, decode_utf8(path.read_bytes() if data is None else data, path=path))


def read_text(path: Path, text: str) -> Iterator[ArticleRecord]:
    for number, row in json_lines(text, path=path):
        if not isinstance(row, dict):
            raise ImportFailure(path, number, "each line must be a JSON object")
        yield record_from_mapping(row, path=path, line=number)
