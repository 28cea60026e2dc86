"""CSV with a header row: title, body, url, source, byline, published_at, language, metadata (JSON text)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from articles.importers import ArticleRecord, ImportFailure, JSONRefused, decode_utf8, parse_json, record_from_mapping

REQUIRED = {"title", "body"}
KNOWN = {"title", "body", "url", "source", "byline", "published_at", "language", "metadata"}


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    text = decode_utf8(path.read_bytes() if data is None else data, path=path)
    # Python's csv refuses cells over 128 KiB; a body may be as long as the article limit allows.
    csv.field_size_limit(max(csv.field_size_limit(), settings.NEWSNOTES_MAX_ARTICLE_CHARS + 1))
    # newline="" semantics: keep CRLF inside quoted cells so the body normaliser sees it.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as err:
        raise ImportFailure(path, 1, f"bad CSV header: {err}") from None
    max_columns = settings.NEWSNOTES_MAX_CSV_COLUMNS
    if len(header) > max_columns:
        raise ImportFailure(
            path,
            1,
            f"the header has {len(header)} columns; at most {max_columns} are read "
            f"(expected {', '.join(sorted(KNOWN))})",
        )
    missing = REQUIRED - set(header)
    if missing:
        raise ImportFailure(
            path, 1, f"header lacks column(s) {', '.join(sorted(missing))}; expected {', '.join(sorted(KNOWN))}"
        )
    unknown = set(header) - KNOWN
    if unknown:
        raise ImportFailure(
            path, 1, f"unknown column(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(KNOWN))}"
        )
    line = reader.line_num
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ImportFailure(path, start_line, f"malformed CSV: {err}") from None
        line = start_line
        if None in row:
            raise ImportFailure(
                path, line, f"row has {len(header) + len(row[None])} cells, the header has {len(header)}"
            )
        if row.get("metadata"):
            try:
                row["metadata"] = parse_json(row["metadata"])
            except json.JSONDecodeError as err:
                raise ImportFailure(path, line, f"metadata is not valid JSON ({err.msg})") from None
            except JSONRefused as err:
                raise ImportFailure(path, line, f"metadata {err}") from None
        yield record_from_mapping(row, path=path, line=line)
