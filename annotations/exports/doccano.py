"""``jsonl``: doccano's sequence-labelling JSONL, one article per line, with our span details alongside.

``{"id", "text", "label": [[start, end, "LABEL"], ...], title, url, source, byline, published_at, language,
status, metadata, "offsets": "codepoints" (or "utf16"), "spans": [{"id", "text", "annotator", "origin", "note",
"attributes", "created_at", "updated_at"}, ...]}``. ``spans[i]`` describes ``label[i]``; doccano ignores the
extra keys (keeps them as metadata) and our importer reads them back, so an export re-imports without loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from annotations.exports.common import chunked, iso_utc, json_line, sorted_json, utf16_offsets
from annotations.exports.query import ExportArticle, ExportFilters, iter_articles


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


def _span(s) -> dict:
    span = {
        "id": s.pk,
        "layer": s.layer,
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


def _line(article: ExportArticle, *, utf16: bool) -> str:
    position = utf16_offsets(article.body) if utf16 else (lambda offset: offset)
    spans = article.spans
    document = {
        "id": article.pk,
        "text": article.body,
        "label": [[position(s.start), position(s.end), s.label] for s in spans],
        **article_fields(article),
        "offsets": "utf16" if utf16 else "codepoints",
        "spans": [_span(s) for s in spans],
    }
    return json_line(document) + "\n"


def write(
    filters: ExportFilters, *, utf16: bool = False, on_rows: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    def lines():
        for article in iter_articles(filters):
            yield _line(article, utf16=utf16)
            if on_rows:
                on_rows(1)

    return chunked(lines())
