"""JSON Lines: one article object per line (title, body, url, source, byline, published_at, language, metadata).

Annotated doccano JSONL is read by ``annotations.imports`` (which hands plain lines back to this reader).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, decode_utf8, file_lines, json_lines, record_from_mapping


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    """A file is read line by line as the records are taken (any size in bounded memory); ``data`` at once."""
    yield from read_text(path, file_lines(path) if data is None else decode_utf8(data, path=path))


def read_text(path: Path, text: str | Iterable[tuple[int, str]]) -> Iterator[ArticleRecord]:
    for number, row in json_lines(text, path=path):
        if not isinstance(row, dict):
            raise ImportFailure(path, number, "each line must be a JSON object")
        yield record_from_mapping(row, path=path, line=number)
