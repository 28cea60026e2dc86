"""JSON Lines: one article object per line (title, body, url, source, byline, published_at, language, metadata).

A file whose first line is a doccano line (``text`` and ``label``/``labels``/``entities``) goes to the doccano
reader, spans and all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, decode_utf8, doccano, json_lines, record_from_mapping


def read(path: Path, data: bytes | None = None, **options) -> Iterator[ArticleRecord]:
    text = decode_utf8(path.read_bytes() if data is None else data, path=path)
    first = next((line for line in text.split("\n") if line.strip()), "")
    try:
        is_doccano = doccano.looks_like_doccano(json.loads(first))
    except json.JSONDecodeError:
        is_doccano = False
    if is_doccano:
        yield from doccano.read_text(path, text, **options)
        return
    for number, row in json_lines(text, path=path):
        if not isinstance(row, dict):
            raise ImportFailure(path, number, "each line must be a JSON object")
        yield record_from_mapping(row, path=path, line=number)
