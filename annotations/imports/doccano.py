"""doccano JSONL with its spans: ``{"text", "label": [[start, end, "LABEL"], ...]}`` per line.

Also read: doccano's newer ``"entities": [{"start_offset", "end_offset", "label"}]``, the older ``"labels"`` key,
and the extras NewsNotes' own ``jsonl`` export writes (title, url, source, byline, published_at, language,
status, metadata, and ``"spans"``: per-span text, annotator, origin, note, attributes and times). Other keys
become article metadata. doccano counts offsets in UTF-16 code units (see ``offsets``). A line without a
title is titled by its first line of text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from annotations.imports.offsets import AUTO, UTF16, Document, RawSpan, resolve
from annotations.imports.records import AnnotatedRecord, annotated, span_record
from articles.importers import (
    ArticleRecord,
    ImportFailure,
    decode_utf8,
    json_lines,
    record_from_mapping,
)

SPAN_KEYS = ("label", "labels", "entities")
# doccano's own bookkeeping: nothing an article needs.
IGNORED = {"id", "Comments", "comments", "relations", "cats", "offsets", "spans"}
ARTICLE_KEYS = {"text", "title", "url", "source", "byline", "published_at", "language", "status", "metadata"}
TITLE_CHARS = 120


def looks_like_doccano(row: Any) -> bool:
    return isinstance(row, dict) and "text" in row and "body" not in row and any(k in row for k in SPAN_KEYS)


def title_from(text: str) -> str:
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut + "…"


def _raw_spans(row: dict, *, path: Path, number: int) -> list[tuple[RawSpan, dict]]:
    where = f"{path}:{number}"
    key = next((k for k in SPAN_KEYS if k in row), None)
    items = row.get(key) or []
    if not isinstance(items, list):
        raise ImportFailure(path, number, f"{key} must be a list of spans")
    details = row.get("spans")
    if details is not None and (not isinstance(details, list) or len(details) != len(items)):
        raise ImportFailure(path, number, f"spans must be a list with one entry per {key} entry ({len(items)})")
    declared = row.get("offsets") if row.get("offsets") in ("codepoints", "utf16") else None
    out = []
    for index, item in enumerate(items):
        if key == "entities":
            if not isinstance(item, dict):
                raise ImportFailure(
                    path, number, f"entities[{index}] must be an object with start_offset, end_offset, label"
                )
            start, end, label = item.get("start_offset"), item.get("end_offset"), item.get("label")
        elif isinstance(item, list) and len(item) == 3:
            start, end, label = item
        else:
            raise ImportFailure(
                path,
                number,
                f'{key}[{index}] is {json.dumps(item, ensure_ascii=False)[:60]}, not [start, end, "LABEL"] '
                "(text classification labels are not spans)",
            )
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
            raise ImportFailure(path, number, f"{key}[{index}]: start and end must be whole numbers")
        if not isinstance(label, str) or not label.strip():
            raise ImportFailure(path, number, f"{key}[{index}]: the label must be a name")
        detail = details[index] if details is not None else {}
        if not isinstance(detail, dict):
            raise ImportFailure(path, number, f"spans[{index}] must be an object")
        text = detail.get("text")
        if text is not None and not isinstance(text, str):
            raise ImportFailure(path, number, f"spans[{index}].text must be text")
        out.append((RawSpan(start, end, label.strip(), text, where, declared), detail))
    return out


def read_text(
    path: Path, text: str, *, offsets: str = AUTO, notify: Callable[[str], None] | None = None
) -> Iterator[ArticleRecord]:
    rows: list[tuple[int, dict, AnnotatedRecord, list[tuple[RawSpan, dict]]]] = []
    for number, row in json_lines(text, path=path):
        if not looks_like_doccano(row):
            raise ImportFailure(path, number, 'expected a doccano line: an object with "text" and "label"')
        if row.get("relations") and notify:
            notify(f"{path}:{number}: relations are not imported (NewsNotes stores labelled spans only)")
        # The text must reach us untouched: offsets count into it, so newlines are not normalised here.
        body = row["text"]
        if not isinstance(body, str) or not body.strip():
            raise ImportFailure(path, number, "text must be non-empty text")
        if "\r" in body:
            raise ImportFailure(path, number, "text contains CR characters; offsets into it cannot be kept")
        metadata = row.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ImportFailure(path, number, "metadata must be a JSON object")
        extra = {k: v for k, v in row.items() if k not in ARTICLE_KEYS | IGNORED | set(SPAN_KEYS)}
        record = record_from_mapping(
            {
                **{k: row.get(k) for k in ARTICLE_KEYS - {"text"}},
                "title": row.get("title") or title_from(body),
                "body": body,
                "metadata": {**extra, **metadata},
            },
            path=path,
            line=number,
        )
        record = annotated(record, status=row.get("status"), path=path, line=number)
        rows.append((number, row, record, _raw_spans(row, path=path, number=number)))
    documents = [Document(record.body, [raw for raw, _ in spans]) for _, _, record, spans in rows]
    resolved, notice = resolve(path, documents, mode=offsets, default=UTF16, tool="doccano")
    if notice and notify:
        notify(notice)
    for number, _, record, spans in rows:
        record.spans = [span_record(raw, resolved[id(raw)], detail, path=path, line=number) for raw, detail in spans]
        yield record


def read(
    path: Path, data: bytes | None = None, *, offsets: str = AUTO, notify: Callable[[str], None] | None = None
) -> Iterator[ArticleRecord]:
    text = decode_utf8(path.read_bytes() if data is None else data, path=path)
    yield from read_text(path, text, offsets=offsets, notify=notify)
