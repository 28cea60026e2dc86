"""Label Studio JSON exports with their spans: a list of tasks ``{"data": {"text", ...}, "annotations": [...]}``.

Each annotation's ``labels`` results become spans (one per label in ``value.labels``), checked against
``value.text``. The annotator is our ``annotator`` key, or ``completed_by`` when it is an object with a
username or email; otherwise ``--annotator``. A region's ``meta.text`` is its note. Cancelled annotations,
predictions and results that are not text spans (choices, relations...) are skipped and reported. The
"JSON-MIN" export (``{"text", "label": [{"start", "end", "text", "labels"}]}``) is read too. Label Studio
1.6+ counts code points, older versions UTF-16 code units; ``value.text`` tells them apart (see ``offsets``).
Messages name the task by position: ``file.json:task 3``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from annotations.imports.doccano import title_from
from annotations.imports.offsets import AUTO, CODEPOINTS, UNITS, RawSpan
from annotations.imports.records import AnnotatedRecord, SpanRecord, annotated, span_record, spans_resolve
from articles.importers import (
    ArticleRecord,
    ImportFailure,
    JSONRefused,
    decode_utf8,
    parse_json,
    record_from_mapping,
)

ARTICLE_KEYS = {"text", "title", "url", "source", "byline", "published_at", "language", "status", "metadata", "offsets"}
# Label Studio marks regions drawn by hand "manual" and model output "prediction" ("prediction-changed" once a
# person has edited it); our own exports write our origins, which pass through unchanged.
ORIGINS = {
    "manual": "manual",
    "suggestion": "suggestion",
    "import": "import",
    "prediction": "suggestion",
    "prediction-changed": "manual",
}


def _annotator(annotation: dict) -> tuple[str | None, bool]:
    """Who made an annotation, and whether that is a Label Studio user id (only --user-map can say who it is).

    Label Studio 1.23 writes ``completed_by`` as the user's id in its exports, as ``{"id", "email", ...}`` in
    snapshot exports with ``only_id`` off, and JSON-MIN writes the id as ``annotator``; our own export writes
    ``annotator``.
    """
    for who in (annotation.get("annotator"), annotation.get("completed_by")):
        if isinstance(who, str) and who.strip():
            return who.strip(), False
        if isinstance(who, int) and not isinstance(who, bool):
            return str(who), True
        if isinstance(who, dict):
            for key in ("username", "email"):
                if isinstance(who.get(key), str) and who[key].strip():
                    return who[key].strip(), False
            if isinstance(who.get("id"), int):
                return str(who["id"]), True
    return None, False


def _minimal_to_full(task: dict) -> dict:
    """JSON-MIN (one flat object per task) in the shape of the full export."""
    regions = task.get("label") or []
    data = {
        k: v
        for k, v in task.items()
        if k not in {"label", "id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"}
    }
    return {
        "id": task.get("id"),
        "data": data,
        "annotations": [
            {
                "annotator": task.get("annotator"),
                "created_at": task.get("created_at"),
                "updated_at": task.get("updated_at"),
                "result": [{"type": "labels", "value": region} for region in regions if isinstance(region, dict)],
            }
        ],
    }


class _Task:
    def __init__(self, where: str, record: AnnotatedRecord):
        self.where = where
        self.record = record
        self.spans: list[tuple[RawSpan, dict]] = []


def read(
    path: Path,
    data: bytes | None = None,
    *,
    offsets: str = AUTO,
    notify: Callable[[str], None] | None = None,
    defer: bool = False,
) -> Iterator[ArticleRecord]:
    """Label Studio tasks as records; ``defer`` leaves their offsets to ``spans_resolve`` over the whole import."""
    text = decode_utf8(path.read_bytes() if data is None else data, path=path)
    try:
        tasks = parse_json(text)
    except json.JSONDecodeError as err:
        raise ImportFailure(path, err.lineno, f"not valid JSON ({err.msg} at column {err.colno})") from None
    except JSONRefused as err:
        raise ImportFailure(path, None, str(err)) from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise ImportFailure(path, None, "expected a Label Studio export: a JSON list of tasks")
    skipped: Counter[str] = Counter()
    parsed = [_task(path, number, task, skipped) for number, task in enumerate(tasks, start=1)]
    if notify and skipped:
        notify(f"{path}: skipped " + ", ".join(f"{n} {what}" for what, n in sorted(skipped.items())))
    records: list[ArticleRecord] = []
    for task in parsed:
        record = task.record
        record.pending = [raw for raw, _ in task.spans]
        record.tool, record.default_unit = "Label Studio", CODEPOINTS
        record.finish = _finisher(task)
        records.append(record)
    if not defer:
        spans_resolve(records, offsets=offsets, notify=notify)
    yield from records


def _finisher(task: _Task):
    def finish(placed: list[tuple[int, int]]) -> list[SpanRecord]:
        return [
            _span_record(raw, detail, offsets, where=task.where)
            for (raw, detail), offsets in zip(task.spans, placed, strict=True)
        ]

    return finish


def _task(path: Path, number: int, task: Any, skipped: Counter) -> _Task:
    where = f"{path}:task {number}"
    if not isinstance(task, dict):
        raise ImportFailure(where, None, "each task must be a JSON object")
    if "data" not in task and "text" in task:
        task = _minimal_to_full(task)
    data = task.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ImportFailure(where, None, 'the task has no data.text; NewsNotes reads the article text from "text"')
    body = data["text"]
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ImportFailure(where, None, "data.metadata must be a JSON object")
    extra = {k: v for k, v in data.items() if k not in ARTICLE_KEYS}
    title = data.get("title") or title_from(body)
    fields = {k: data.get(k) for k in ARTICLE_KEYS - {"text", "offsets"}}
    # line=0: messages then read "file.json:task 3: ...".
    record = record_from_mapping(
        {**fields, "title": title, "body": body, "metadata": {**extra, **metadata}}, path=where, line=0
    )
    record.location = where
    record = annotated(record, status=data.get("status"), path=where, line=None)
    record.raw_body = body
    declared = data.get("offsets") if data.get("offsets") in UNITS else None
    parsed = _Task(where, record)
    if any(task.get("predictions") or []):
        skipped["predictions"] += len(task["predictions"])
    for index, annotation in enumerate(task.get("annotations") or [], start=1):
        if not isinstance(annotation, dict):
            raise ImportFailure(where, None, f"annotation {index} must be a JSON object")
        if annotation.get("was_cancelled"):
            skipped["cancelled annotations"] += 1
            continue
        for result in annotation.get("result") or []:
            if not isinstance(result, dict) or result.get("type") != "labels":
                skipped[f"{result.get('type', 'unknown') if isinstance(result, dict) else 'unknown'} results"] += 1
                continue
            value = result.get("value") or {}
            if not isinstance(value, dict):
                raise ImportFailure(where, None, f"annotation {index}: a result's value must be a JSON object")
            start, end, labels = value.get("start"), value.get("end"), value.get("labels")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
                raise ImportFailure(where, None, f"annotation {index}: value.start and value.end must be whole numbers")
            if not isinstance(labels, list) or not labels or not all(isinstance(lb, str) for lb in labels):
                raise ImportFailure(where, None, f"annotation {index}: value.labels must be a list of label names")
            text = value.get("text")
            if text is not None and not isinstance(text, str):
                raise ImportFailure(where, None, f"annotation {index}: value.text must be text")
            for label in labels:
                detail = {"annotation": annotation, "result": result}
                parsed.spans.append((RawSpan(start, end, label.strip(), text, where, declared), detail))
    return parsed


def _span_record(raw: RawSpan, detail: dict, offsets: tuple[int, int], *, where: str) -> SpanRecord:
    annotation, result = detail["annotation"], detail["result"]
    meta = result.get("meta") or {}
    notes = meta.get("text") if isinstance(meta, dict) else None
    if isinstance(notes, str):
        notes = [notes]
    if notes is not None and not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        raise ImportFailure(where, None, "a region's meta.text must be text or a list of texts")
    attributes = result.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ImportFailure(where, None, "a region's attributes must be a JSON object")
    exported_id = result.get("id")
    annotator, is_id = _annotator(annotation)
    if isinstance(meta, dict) and isinstance(meta.get("annotator"), str) and meta["annotator"].strip():
        # Our export keeps the annotator and origin in the region's meta, which Label Studio keeps as given (it
        # drops the annotation-level annotator and sets completed_by to whoever imported the file there).
        annotator, is_id = meta["annotator"].strip(), False
    ours = meta.get("origin") if isinstance(meta, dict) else None
    detail = {
        "annotator": annotator,
        "origin": ours
        if ours in ("manual", "suggestion", "import")
        else ORIGINS.get(result.get("origin") or "", "import"),
        "note": "\n".join(notes or []),
        "attributes": attributes,
        "created_at": result.get("created_at") or annotation.get("created_at"),
        "updated_at": result.get("updated_at") or annotation.get("updated_at"),
        "id": int(exported_id) if isinstance(exported_id, str) and exported_id.isdigit() else None,
    }
    span = span_record(raw, offsets, detail, path=where, line=None)
    span.annotator_is_id = is_id
    return span
