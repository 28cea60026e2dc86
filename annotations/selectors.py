"""Reads of labels and spans, with their related rows loaded up front."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from annotations.models import Label, Span
from articles.models import Article


def labels_active() -> QuerySet[Label]:
    return Label.objects.filter(active=True)


def spans_for_article(*, article: Article, annotator=None) -> QuerySet[Span]:
    spans = Span.objects.filter(article=article).select_related("label", "annotator")
    if annotator is not None:
        spans = spans.filter(annotator=annotator)
    return spans.order_by("start", "-end", "label__ordering")


def articles_with_span_counts(*, annotator=None) -> QuerySet[Article]:
    """Articles with their source and per-label span counts (``label_counts``: slug → n) in one query."""
    labels = list(Label.objects.values_list("slug", "pk"))
    span_filter = Q() if annotator is None else Q(spans__annotator=annotator)
    counts = {
        f"count_{slug.replace('-', '_')}": Count("spans", filter=span_filter & Q(spans__label_id=pk))
        for slug, pk in labels
    }
    return (
        Article.objects.select_related("source")
        .defer("body", "metadata")
        .annotate(span_count=Count("spans", filter=span_filter), **counts)
    )
