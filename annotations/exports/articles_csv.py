"""``articles-csv``: one row per article with its metadata, span counts per label and a SPONSORED flag.

Columns: article_id, url, source, title, byline, published_at, language, status, chars (length of the text in
code points), metadata (canonical JSON), spans, then ``spans_<label slug>`` for every label (in label order),
then has_sponsored. Counts cover the spans the filters select; ``has_sponsored`` is a fact about the article:
``true`` when anyone has marked SPONSORED content (a boilerplate label) in it. Same CSV conventions as the span CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Length

from annotations.exports.common import canonical_json, chunked, csv_line, iso_utc, neutralise
from annotations.exports.query import ExportFilters, articles_for_export
from annotations.models import Label, Span

FIXED_COLUMNS = (
    "article_id",
    "url",
    "source",
    "title",
    "byline",
    "published_at",
    "language",
    "status",
    "chars",
    "metadata",
    "spans",
)


def columns(labels: list[Label]) -> list[str]:
    return [*FIXED_COLUMNS, *(f"spans_{label.slug}" for label in labels), "has_sponsored"]


def write(
    filters: ExportFilters,
    *,
    neutralise_cells: bool = True,
    bom: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    def lines():
        labels = list(Label.objects.order_by("ordering", "name"))
        span_filter = Q()
        if filters.labels:
            span_filter &= Q(spans__label__in=filters.labels)
        if filters.annotators:
            span_filter &= Q(spans__annotator__in=filters.annotators)
        if filters.origins:
            span_filter &= Q(spans__origin__in=filters.origins)
        counts = {f"n{label.pk}": Count("spans", filter=span_filter & Q(spans__label=label)) for label in labels}
        rows = (
            articles_for_export(filters)
            .annotate(
                chars=Length("body"),
                span_total=Count("spans", filter=span_filter),
                has_sponsored=Exists(Span.objects.filter(article=OuterRef("pk"), label__kind=Label.Kind.BOILERPLATE)),
                **counts,
            )
            .defer("body")
        )
        text = neutralise if neutralise_cells else (lambda value: value)
        yield ("\ufeff" if bom else "") + csv_line(columns(labels))
        for article in rows.iterator(chunk_size=2000):
            yield csv_line(
                [
                    article.pk,
                    text(article.url or ""),
                    text(article.source.domain if article.source else ""),
                    text(article.title),
                    text(article.byline),
                    iso_utc(article.published_at),
                    text(article.language),
                    article.status,
                    article.chars,
                    canonical_json(article.metadata),
                    article.span_total,
                    *(getattr(article, f"n{label.pk}") for label in labels),
                    "true" if article.has_sponsored else "false",
                ]
            )
            if on_rows:
                on_rows(1)

    return chunked(lines())
