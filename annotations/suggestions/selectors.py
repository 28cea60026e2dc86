"""Reads for boilerplate families: the curator page, the JSON listing, the suggestion action."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Least

from annotations.models import LabelKind, Span
from annotations.suggestions.models import BoilerplateCopy, BoilerplateFamily, FamilyStatus


def boilerplate_spans_over_copy() -> QuerySet[Span]:
    """Spans of a boilerplate-kind label covering at least half of the copy in ``OuterRef`` (keyed on
    ``Label.kind``, never on a label's name): an editor's SPONSORED span that left out a full stop still counts."""
    return (
        Span.objects.filter(
            article_id=OuterRef("article_id"),
            label__kind=LabelKind.BOILERPLATE,
            start__lt=OuterRef("end"),
            end__gt=OuterRef("start"),
        )
        .annotate(
            overlap=ExpressionWrapper(
                Least(F("end"), OuterRef("end"), output_field=IntegerField())
                - Greatest(F("start"), OuterRef("start"), output_field=IntegerField()),
                output_field=IntegerField(),
            ),
            half=ExpressionWrapper((OuterRef("end") - OuterRef("start") + 1) / 2, output_field=IntegerField()),
        )
        .filter(overlap__gte=F("half"))
    )


def labelled_copies() -> QuerySet[BoilerplateCopy]:
    return BoilerplateCopy.objects.filter(Exists(boilerplate_spans_over_copy()))


def families_by_size(*, status: str | None = FamilyStatus.ACTIVE) -> QuerySet[BoilerplateFamily]:
    """Families, largest first, each with ``labelled``: how many of its copies a boilerplate-kind span covers."""
    labelled = (
        labelled_copies().filter(family=OuterRef("pk")).order_by().values("family").annotate(n=Count("pk")).values("n")
    )
    families = BoilerplateFamily.objects.annotate(
        labelled=Coalesce(Subquery(labelled, output_field=IntegerField()), Value(0))
    ).order_by("-article_count", "-copy_count", "id")
    if status is not None:
        families = families.filter(status=status)
    return families.defer("keys")


def families_as_json(*, status: str | None = FamilyStatus.ACTIVE) -> list[dict[str, Any]]:
    """``[{"id", "text", "articles", "sources", "copies", "labelled"}]``, largest first (two queries)."""
    families = list(families_by_size(status=status))
    articles: dict[int, list[int]] = {f.pk: [] for f in families}
    for family_id, article_id in (
        BoilerplateCopy.objects.filter(family_id__in=articles)
        .order_by("family_id", "article_id")
        .values_list("family_id", "article_id")
        .distinct()
    ):
        articles[family_id].append(article_id)
    return [
        {
            "id": f.pk,
            "text": f.text,
            "articles": articles[f.pk],
            "sources": f.source_count,
            "copies": f.copy_count,
            "labelled": f.labelled,  # type: ignore[attr-defined]  # annotated by the queryset
        }
        for f in families
    ]


def family_variants(*, family: BoilerplateFamily, limit: int = 5) -> list[tuple[str, int]]:
    """The family's commonest distinct texts (exactly as they appear) with their number of copies."""
    return list(
        family.copies.values("text").annotate(n=Count("pk")).order_by("-n", "text").values_list("text", "n")[:limit]
    )


def family_sources(*, family: BoilerplateFamily, limit: int = 10) -> list[tuple[str, int]]:
    """The outlets carrying the family, most copies first: ``(domain, copies)``."""
    return list(
        family.copies.filter(~Q(article__source=None))
        .values("article__source__domain")
        .annotate(n=Count("pk"))
        .order_by("-n", "article__source__domain")
        .values_list("article__source__domain", "n")[:limit]
    )
