"""doccano JSONL with its spans: ``{"text", "label": [[start, end, "LABEL"], ...]}`` per line.

Also read: doccano's newer ``"entities": [{"start_offset", "end_offset", "label"}]``, the older ``"labels"`` key,
and the extras NewsNotes' own ``jsonl`` export writes (title, url, source, byline, published_at, language,
status, metadata, and ``"spans"``: per-span text, annotator, origin, note, attributes and times). Other keys
become article metadata. doccano counts offsets in UTF-16 code units (see ``offsets``). A line without a
title is titled by its first line of text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from annotations.imports.offsets import AUTO, UNITS, UTF16, LineEnds, RawSpan
from annotations.imports.records import SpanRecord, annotated, span_record, spans_resolve
from articles.importers import (
    ArticleRecord,
    ImportFailure,
    decode_utf8,
    file_lines,
    json_lines,
    record_from_mapping,
)

SPAN_KEYS = ("label", "labels", "entities")
# doccano's own bookkeeping: nothing an article needs.
IGNORED = {"id", "Comments", "comments", "relations", "cats", "offsets", "spans", "suggestions"}
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


def _raw_spans(row: dict, *, path: Path, number: int) -> tuple[list[RawSpan], list[dict] | None]:
    where = f"{path}:{number}"
    key = next((k for k in SPAN_KEYS if k in row), None)
    items = row.get(key) or []
    if not isinstance(items, list):
        raise ImportFailure(path, number, f"{key} must be a list of spans")
    details = row.get("spans")
    if details is not None and (not isinstance(details, list) or len(details) != len(items)):
        raise ImportFailure(path, number, f"spans must be a list with one entry per {key} entry ({len(items)})")
    for index, detail in enumerate(details or []):
        if not isinstance(detail, dict):
            raise ImportFailure(path, number, f"spans[{index}] must be an object")
        if detail.get("text") is not None and not isinstance(detail["text"], str):
            raise ImportFailure(path, number, f"spans[{index}].text must be text")
    texts = frozenset(d["text"] for d in details or [] if isinstance(d.get("text"), str))
    declared = row.get("offsets") if row.get("offsets") in UNITS else None
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
        out.append(RawSpan(start, end, label.strip(), None, where, declared, one_of=texts))
    return out, details


def _match_details(
    body: str, raws: list[RawSpan], placed: list[tuple[int, int]], details: list[dict], *, path: Path, number: int
) -> list[dict]:
    """Each ``spans`` detail for its ``label`` entry, by content: doccano re-sorts ``label`` by (start, end, label).

    A detail matches an entry with its text (and its label, start and end, in the file's unit, where it gives
    them: our exports do). Where entries with
    the same text differ and their details differ too, nothing says which is which: refused, not guessed.
    """
    texts = [body[s:e].replace("\r\n", "\n") for s, e in placed]

    def fits(detail: dict, index: int) -> bool:
        return (
            detail.get("text") in (None, texts[index])
            and detail.get("label") in (None, raws[index].label)
            and detail.get("start") in (None, raws[index].start)
            and detail.get("end") in (None, raws[index].end)
        )

    if all(fits(detail, index) for index, detail in enumerate(details)):
        return details
    matched: list[dict | None] = [None] * len(raws)
    for position, detail in enumerate(details):
        free = [i for i in range(len(raws)) if matched[i] is None and fits(detail, i)]
        if not free:
            raise ImportFailure(
                path, number, f"spans[{position}] (text {detail.get('text')!r}) matches no entry of label"
            )
        keys = {(placed[i], raws[i].label) for i in free}
        rivals = [d for d in details if d is not detail and fits(d, free[0])]
        if len(keys) > 1 and any(_payload(d) != _payload(detail) for d in rivals):
            raise ImportFailure(
                path,
                number,
                f"spans[{position}] (text {detail.get('text')!r}) fits several label entries that differ "
                "and nothing in it says which (the label list was re-sorted); give each spans entry its label",
            )
        matched[free[0]] = detail
    return [m or {} for m in matched]


def _payload(detail: dict) -> dict:
    return {k: v for k, v in detail.items() if k not in {"id", "created_at", "updated_at"}}


def read_text(
    path: Path,
    text: str | Iterable[tuple[int, str]],
    *,
    offsets: str = AUTO,
    notify: Callable[[str], None] | None = None,
    defer: bool = False,
) -> Iterator[ArticleRecord]:
    """doccano lines as records; ``defer`` leaves their offsets to ``spans_resolve`` over all files of the import
    and yields each record as its line is read (``text`` may be ``file_lines``: a file of any size streams)."""
    records: list[ArticleRecord] = []
    for number, row in json_lines(text, path=path):
        if not looks_like_doccano(row):
            raise ImportFailure(path, number, 'expected a doccano line: an object with "text" and "label"')
        if row.get("relations") and notify:
            notify(f"{path}:{number}: relations are not imported (NewsNotes stores labelled spans only)")
        body = row["text"]
        if not isinstance(body, str) or not body.strip():
            raise ImportFailure(path, number, "text must be non-empty text")
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
        raws, details = _raw_spans(row, path=path, number=number)
        record.raw_body, record.pending, record.tool, record.default_unit = body, raws, "doccano", UTF16
        record.finish = _finisher(body, raws, details, path=path, number=number)
        if defer:
            yield record
        else:
            records.append(record)
    if not defer:
        spans_resolve(records, offsets=offsets, notify=notify)
    yield from records


def _finisher(body: str, raws: list[RawSpan], details: list[dict] | None, *, path: Path, number: int):
    file_offset = LineEnds(body).raw

    def finish(placed: list[tuple[int, int]]) -> list[SpanRecord]:
        # ``placed`` counts into the stored text (CRLF made LF); matching by text needs the file's own offsets.
        originals = [(file_offset(start), file_offset(end)) for start, end in placed]
        matched = _match_details(body, raws, originals, details, path=path, number=number) if details else None
        spans = []
        for index, (raw, offsets) in enumerate(zip(raws, placed, strict=True)):
            detail = matched[index] if matched else {}
            span = span_record(raw, offsets, detail, path=path, line=number)
            if span.text is None:
                span.text = detail.get("text")
            if span.annotator is None:
                span.annotator_from_file = Path(path).stem
            spans.append(span)
        return spans

    return finish


def read(
    path: Path,
    data: bytes | None = None,
    *,
    offsets: str = AUTO,
    notify: Callable[[str], None] | None = None,
    defer: bool = False,
) -> Iterator[ArticleRecord]:
    text = file_lines(path) if data is None else decode_utf8(data, path=path)
    yield from read_text(path, text, offsets=offsets, notify=notify, defer=defer)
