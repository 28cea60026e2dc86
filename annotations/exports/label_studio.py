"""``label-studio``: Label Studio's JSON export, a list of tasks with one annotation per annotator.

Task ``{"id", "data": {"text", title, url, ...}, "annotations": [{"id", "annotator", "created_at",
"updated_at", "result": [...]}]}``; each result is a ``labels`` region ``{"id", "from_name": "label",
"to_name": "text", "type": "labels", "origin", "value": {"start", "end", "text", "labels": [LABEL]}}`` with
``meta`` (the note as Label Studio's ``meta.text``, and our ``annotator`` and ``origin``) and our
``attributes``, ``created_at`` and ``updated_at`` beside it. A labelling config that matches:
``<View><Labels name="label" toName="text">...</Labels><Text name="text" value="$text"/></View>``.

Written so that a fresh Label Studio imports it unchanged (checked against 1.23.2 by ``tests/interop``):

- no ``completed_by``: Label Studio accepts only ids and emails of its own users there, and refuses the
  whole file otherwise; without it the annotations belong to whoever imports the file. The annotator is kept
  where Label Studio keeps what it is given (the stored region, exported back as written): ``meta.annotator``
  on every region, besides our own annotation-level ``annotator`` (which Label Studio drops on import).
- region ``origin`` is one Label Studio's editor accepts (``manual``, or ``prediction`` for our suggestions;
  ``import`` and ``suggestion`` make it show nothing); ours is ``meta.origin``.

Pending suggestions are written only when a researcher asks for them (``suggestions=True``), as what Label
Studio calls them: the task's ``"predictions": [{"model_version": "newsnotes-suggestions", "result": [...]}]``
(one prediction holding every pending suggestion of the article; an empty list when it has none), never as
annotations. Each region is ``labels`` like an annotation's, with ``id`` ``suggestion-<id>`` and ``meta``
``{"origin": "pending-suggestion", "layer": "suggestion", "suggested_by", "family"}``; Label Studio imports
predictions apart from annotations, and our importer skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count, groupby
from typing import Any

from annotations.exports.common import chunked, iso_utc, json_line, sorted_json, utf16_offsets
from annotations.exports.doccano import (
    PENDING_LAYER,
    PENDING_ORIGIN,
    PendingSuggestion,
    article_fields,
    articles_for_export,
)
from annotations.exports.query import ExportArticle, ExportFilters

# Label Studio's editor knows the origins "manual", "prediction" and "prediction-changed" only.
LS_ORIGINS = {"manual": "manual", "suggestion": "prediction", "import": "manual"}
MODEL_VERSION = "newsnotes-suggestions"


def _prediction_result(s: PendingSuggestion, position) -> dict:
    return {
        "id": s.export_id,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "prediction",
        "value": {"start": position(s.start), "end": position(s.end), "text": s.text, "labels": [s.label]},
        "meta": {"origin": PENDING_ORIGIN, "layer": PENDING_LAYER, "suggested_by": s.suggested_by, "family": s.family},
        "created_at": iso_utc(s.created_at),
    }


def _result(span, position) -> dict:
    result: dict[str, Any] = {
        "id": f"gold-{span.pk}" if span.layer == "gold" else str(span.pk),
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": LS_ORIGINS.get(span.origin, "manual"),
        "value": {
            "start": position(span.start),
            "end": position(span.end),
            "text": span.text,
            "labels": [span.label],
        },
    }
    meta = {"text": [span.note]} if span.note else {}
    result["meta"] = {**meta, "annotator": span.annotator, "origin": span.origin, "layer": span.layer}
    if span.layer == "gold":
        result["meta"]["sources"] = span.sources
    if span.attributes:
        result["attributes"] = sorted_json(span.attributes)
    result["created_at"] = iso_utc(span.created_at)
    result["updated_at"] = iso_utc(span.updated_at)
    return result


def _task(
    article: ExportArticle, annotation_ids, *, utf16: bool, suggestions: list[PendingSuggestion] | None = None
) -> dict:
    position = utf16_offsets(article.body) if utf16 else (lambda offset: offset)
    annotations = []
    # One annotation per editor, and the gold layer as an annotation of its own.
    by_annotator = sorted(article.spans, key=lambda s: (s.layer, s.annotator, s.start, -s.end, s.pk))
    for _, group in groupby(by_annotator, key=lambda s: (s.layer, s.annotator_id)):
        spans = list(group)
        annotations.append(
            {
                "id": next(annotation_ids),
                "annotator": spans[0].annotator,
                "layer": spans[0].layer,
                "created_at": iso_utc(min(s.created_at for s in spans)),
                "updated_at": iso_utc(max(s.updated_at for s in spans)),
                "result": [_result(s, position) for s in spans],
            }
        )
    task = {
        "id": article.pk,
        "data": {"text": article.body, **article_fields(article), "offsets": "utf16" if utf16 else "codepoints"},
        "annotations": annotations,
    }
    if suggestions is not None:
        results = [_prediction_result(s, position) for s in suggestions]
        task["predictions"] = [{"model_version": MODEL_VERSION, "result": results}] if results else []
    return task


def write(
    filters: ExportFilters,
    *,
    utf16: bool = False,
    on_rows: Callable[[int], None] | None = None,
    suggestions: bool = False,
) -> Iterator[bytes]:
    """``suggestions``: add each article's pending suggestions as predictions (see the module doc)."""

    def pieces():
        annotation_ids = count(1)
        separator = "[\n"
        for article, pending in articles_for_export(filters, suggestions=suggestions):
            yield separator + json_line(_task(article, annotation_ids, utf16=utf16, suggestions=pending))
            separator = ",\n"
            if on_rows:
                on_rows(1)
        yield "[]\n" if separator == "[\n" else "\n]\n"

    return chunked(pieces())
