"""``jsonl``: doccano's sequence-labelling JSONL, one article per line, with our span details alongside.

``{"id", "text", "label": [[start, end, "LABEL"], ...], title, url, source, byline, published_at, language,
status, metadata, "offsets": "codepoints" (or "utf16"), "spans": [{"id", "start", "end", "label", "text",
"annotator", "origin", "note", "attributes", "created_at", "updated_at"}, ...]}``. ``spans[i]`` describes
``label[i]`` and repeats its start, end and label: doccano keeps the extra keys but re-sorts ``label`` by (start,
end, label), and the importer matches details to entries by that content, not by position.

Pending suggestions are written only when a researcher asks for them (``suggestions=True``), and never in
``label`` or ``spans`` (doccano would import them as labels): in ``"suggestions": [{"id": "suggestion-<id>",
"layer": "suggestion", "origin": "pending-suggestion", "start", "end", "label", "text", "suggested_by"
(boilerplate, propagation or plugin), "family", "created_at"}, ...]``, on every line of such a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from annotations.exports.common import chunked, iso_utc, json_line, sorted_json, utf16_offsets
from annotations.exports.query import ExportArticle, ExportFilters, iter_articles, suggestions_for_export

# Accepted suggestions are editors' spans of origin "suggestion"; pending ones say so in every format.
PENDING_ORIGIN = "pending-suggestion"
PENDING_LAYER = "suggestion"


@dataclass(slots=True)
class PendingSuggestion:
    """A machine suggestion no editor has accepted or rejected yet, as the JSON formats write it."""

    pk: int
    start: int
    end: int
    label: str
    text: str
    suggested_by: str  # the suggestion's own origin: boilerplate, propagation, plugin
    family: int | None
    created_at: dt.datetime

    @property
    def export_id(self) -> str:
        return f"suggestion-{self.pk}"


def with_pending_suggestions(
    filters: ExportFilters, articles: Iterable[ExportArticle], *, chunk_size: int = 500
) -> Iterator[tuple[ExportArticle, list[PendingSuggestion]]]:
    """Each article with its pending suggestions (label filter applied), one query per ``chunk_size`` articles."""
    batch: list[ExportArticle] = []

    def attach() -> Iterator[tuple[ExportArticle, list[PendingSuggestion]]]:
        found: dict[int, list[PendingSuggestion]] = {}
        rows = (
            suggestions_for_export(filters)
            .filter(article_id__in=[a.pk for a in batch])
            .order_by("article_id", "start", "-end", "id")
            .values_list("article_id", "pk", "start", "end", "label__name", "text", "origin", "family_id", "created_at")
        )
        for article_id, *fields in rows:
            found.setdefault(article_id, []).append(PendingSuggestion(*fields))
        for article in batch:
            yield article, found.get(article.pk, [])
        batch.clear()

    for article in articles:
        batch.append(article)
        if len(batch) >= chunk_size:
            yield from attach()
    if batch:
        yield from attach()


def articles_for_export(
    filters: ExportFilters, *, suggestions: bool
) -> Iterator[tuple[ExportArticle, list[PendingSuggestion] | None]]:
    """Each exported article with its pending suggestions when the export asks for them, else ``None``."""
    if suggestions:
        return with_pending_suggestions(filters, iter_articles(filters))
    return ((article, None) for article in iter_articles(filters))


def _suggestion(s: PendingSuggestion, position: Callable[[int], int]) -> dict:
    return {
        "id": s.export_id,
        "layer": PENDING_LAYER,
        "origin": PENDING_ORIGIN,
        "start": position(s.start),
        "end": position(s.end),
        "label": s.label,
        "text": s.text,
        "suggested_by": s.suggested_by,
        "family": s.family,
        "created_at": iso_utc(s.created_at),
    }


def article_fields(article: ExportArticle) -> dict:
    """The article's own fields, as every JSON format writes them."""
    return {
        "title": article.title,
        "url": article.url,
        "source": article.source,
        "byline": article.byline,
        "published_at": iso_utc(article.published_at),
        "language": article.language,
        "status": article.status,
        "metadata": sorted_json(article.metadata),
    }


def _span(s, position: Callable[[int], int]) -> dict:
    # start, end and label repeat the ``label`` entry's, so a tool that re-sorts ``label`` (doccano does) still
    # lines up with these details.
    span = {
        "id": s.pk,
        "layer": s.layer,
        "start": position(s.start),
        "end": position(s.end),
        "label": s.label,
        "text": s.text,
        "annotator": s.annotator,
        "origin": s.origin,
        "note": s.note,
        "attributes": sorted_json(s.attributes),
        "created_at": iso_utc(s.created_at),
        "updated_at": iso_utc(s.updated_at),
    }
    if s.layer == "gold":
        span["sources"] = s.sources
    return span


def _line(article: ExportArticle, *, utf16: bool, suggestions: list[PendingSuggestion] | None = None) -> str:
    position = utf16_offsets(article.body) if utf16 else (lambda offset: offset)
    spans = article.spans
    document = {
        "id": article.pk,
        "text": article.body,
        "label": [[position(s.start), position(s.end), s.label] for s in spans],
        **article_fields(article),
        "offsets": "utf16" if utf16 else "codepoints",
        "spans": [_span(s, position) for s in spans],
    }
    if suggestions is not None:
        document["suggestions"] = [_suggestion(s, position) for s in suggestions]
    return json_line(document) + "\n"


def write(
    filters: ExportFilters,
    *,
    utf16: bool = False,
    on_rows: Callable[[int], None] | None = None,
    suggestions: bool = False,
) -> Iterator[bytes]:
    """``suggestions``: add each article's pending suggestions (asked for explicitly; see the module doc)."""

    def lines():
        for article, pending in articles_for_export(filters, suggestions=suggestions):
            yield _line(article, utf16=utf16, suggestions=pending)
            if on_rows:
                on_rows(1)

    return chunked(lines())
