"""Plain text: first line is the title, the rest the body. A folder imports every ``*.txt`` in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, check_record, clean_text, decode_utf8


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    text = clean_text(
        decode_utf8(path.read_bytes() if data is None else data, path=path), path=path, line=None, name="file"
    )
    title, _, body = text.partition("\n")
    if not title.strip():
        raise ImportFailure(path, 1, "the first line (the title) is empty")
    if not body.strip():
        raise ImportFailure(path, 2, "the body (everything after the first line) is empty")
    yield check_record(ArticleRecord(title=title.strip()[:500], body=body.lstrip("\n"), location=f"{path}:1"))
