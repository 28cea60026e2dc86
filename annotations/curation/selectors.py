"""Reads for the curators' console."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from annotations.models import Assignment, Span
from articles.models import Article


def articles_span_summary(*, articles: QuerySet[Article]) -> dict[str, int]:
    """What goes with ``articles`` when they are deleted: span, editor and assignment counts."""
    ids = articles.order_by().values("pk")
    summary = Span.objects.filter(article__in=ids).aggregate(
        spans=Count("pk"), editors=Count("annotator", distinct=True)
    )
    summary["assignments"] = Assignment.objects.filter(article__in=ids).count()
    return summary
