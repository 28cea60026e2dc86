"""What an export contains: the researcher's filters, turned into QuerySets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotations.models import Span
from annotations.review.models import GoldSource, GoldSpan
from articles.models import Article
from articles.search import search_matches, search_query, with_search_document


@dataclass(frozen=True)
class ExportFilters:
    """Empty means "all". Article filters (sources, statuses, dates) narrow articles and their spans;
    span filters (labels, annotators, origins) narrow only the spans."""

    labels: tuple[int, ...] = ()
    sources: tuple[int, ...] = ()
    annotators: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    published_from: dt.date | None = None
    published_to: dt.date | None = None  # inclusive: the whole day counts
    annotated_only: bool = False  # article formats: skip articles without a matching span
    # Words of the title or body, as the queue searches them (``articles.search``: prefixes, "phrase", -word).
    q: str = ""
    # Which layer: "gold" (reviewers' GoldSpan table), "editors" (every editor's Span) or "all"; "" lets the
    # format choose (``resolve_layer``). Gold spans take the label and article filters, not annotator or origin.
    layer: str = ""


LAYERS = ("gold", "editors", "all")
# Formats that cannot tell one layer from another in their file take gold when the selection has any.
GOLD_FIRST_FORMATS = ("conll", "brat", "w3c")


def resolve_layer(key: str, filters: ExportFilters) -> ExportFilters:
    """``filters`` with the layer the export of format ``key`` uses: as asked, else gold for the formats that hold
    one layer (CoNLL, brat, W3C) when the selection has gold spans, else editors; every layer for the others."""
    if filters.layer:
        return filters
    if key in GOLD_FIRST_FORMATS:
        return replace(filters, layer="gold" if gold_for_export(filters).exists() else "editors")
    return replace(filters, layer="all")


def wants_editors(filters: ExportFilters) -> bool:
    return filters.layer in ("", "editors", "all")


def wants_gold(filters: ExportFilters) -> bool:
    return filters.layer in ("gold", "all")


def gold_for_export(filters: ExportFilters) -> QuerySet[GoldSpan]:
    """Matching gold spans in export order, with label, reviewer and article."""
    lookups = {"label__in": filters.labels} if filters.labels else {}
    return (
        GoldSpan.objects.filter(**lookups, **_article_lookups(filters, "article__"))
        .select_related("label", "accepted_by", "article__source")
        .order_by("article_id", "start", "-end", "id")
    )


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _article_lookups(filters: ExportFilters, prefix: str = "") -> dict:
    lookups: dict = {}
    if filters.sources:
        lookups[f"{prefix}source__in"] = filters.sources
    if filters.statuses:
        lookups[f"{prefix}status__in"] = filters.statuses
    if filters.published_from:
        lookups[f"{prefix}published_at__gte"] = _day_start(filters.published_from)
    if filters.published_to:
        lookups[f"{prefix}published_at__lt"] = _day_start(filters.published_to + dt.timedelta(days=1))
    query = search_query(filters.q) if filters.q else None
    if query is not None:
        # The matching article ids come from the stored vector's GIN index (a semi-join), as the queue's search.
        lookups[f"{prefix}pk__in"] = (
            with_search_document(Article.objects.all()).filter(search_matches(query)).values("pk")
        )
    return lookups


def _span_lookups(filters: ExportFilters) -> dict:
    lookups: dict = {}
    if filters.labels:
        lookups["label__in"] = filters.labels
    if filters.annotators:
        lookups["annotator__in"] = filters.annotators
    if filters.origins:
        lookups["origin__in"] = filters.origins
    return lookups


def spans_for_export(filters: ExportFilters) -> QuerySet[Span]:
    """Matching editor spans in export order (article, start, longest first, id) with label, annotator and article;
    none when the filters ask for the gold layer only."""
    if not wants_editors(filters):
        return Span.objects.none()
    return (
        Span.objects.filter(**_span_lookups(filters), **_article_lookups(filters, "article__"))
        .select_related("label", "annotator", "article__source")
        .order_by("article_id", "start", "-end", "id")
    )


def suggestions_for_export(filters: ExportFilters) -> QuerySet:
    """Pending suggestions on the matching articles (label filter applied), for researchers who ask for them."""
    from annotations.suggestions.models import Suggestion, SuggestionStatus

    suggestions = Suggestion.objects.filter(status=SuggestionStatus.PENDING, **_article_lookups(filters, "article__"))
    if filters.labels:
        suggestions = suggestions.filter(label__in=filters.labels)
    return suggestions


def articles_for_export(filters: ExportFilters) -> QuerySet[Article]:
    """Matching articles by id, with their source."""
    articles = Article.objects.filter(**_article_lookups(filters)).select_related("source").order_by("id")
    if filters.annotated_only:
        matching: Any = Q()
        if wants_editors(filters):
            matching |= Exists(Span.objects.filter(**_span_lookups(filters), article=OuterRef("pk")))
        if wants_gold(filters):
            labels = {"label__in": filters.labels} if filters.labels else {}
            matching |= Exists(GoldSpan.objects.filter(**labels, article=OuterRef("pk")))
        articles = articles.filter(matching) if matching else articles.none()
    return articles


@dataclass(slots=True)
class ExportSpan:
    """A span as the exporters need it: plain values, no model instance (several times faster to build)."""

    pk: int
    article_id: int
    label_id: int
    label: str  # the label's name
    annotator_id: int
    annotator: str  # the username
    start: int
    end: int
    text: str
    origin: str
    note: str
    attributes: dict
    created_at: dt.datetime
    updated_at: dt.datetime
    layer: str = "editor"  # or "gold": then annotator is the reviewer who accepted it, origin its decision
    sources: list[dict] | None = None  # gold only: the editor spans it came from, as they were then


@dataclass(slots=True)
class ExportArticle:
    pk: int
    title: str
    url: str | None
    source: str | None  # the source's domain
    byline: str
    published_at: dt.datetime | None
    language: str
    status: str
    metadata: dict
    body: str
    spans: list[ExportSpan] = field(default_factory=list)


def iter_articles(filters: ExportFilters, *, chunk_size: int = 500) -> Iterator[ExportArticle]:
    """Matching articles in id order, each with its matching spans in export order, ``chunk_size`` at a time:
    one server-side cursor over the articles and one query for the spans of each chunk, so memory stays flat."""
    username = f"annotator__{get_user_model().USERNAME_FIELD}"
    articles = articles_for_export(filters).values_list(
        "pk", "title", "url", "source__domain", "byline", "published_at", "language", "status", "metadata", "body"
    )
    spans = (
        Span.objects.filter(**_span_lookups(filters))
        .order_by("article_id", "start", "-end", "id")
        .values_list(
            "pk", "article_id", "label_id", "label__name", "annotator_id", username, "start", "end", "text",
            "origin", "note", "attributes", "created_at", "updated_at",
        )
    )  # fmt: skip
    if not wants_editors(filters):
        spans = spans.none()
    gold = None
    if wants_gold(filters):
        reviewer = f"accepted_by__{get_user_model().USERNAME_FIELD}"
        gold = (
            gold_for_export(replace(filters, published_from=None, published_to=None, sources=(), statuses=()))
            .values_list(
                "pk", "article_id", "label_id", "label__name", "accepted_by_id", reviewer, "start", "end", "text",
                "decision", "note", "attributes", "accepted_at", "accepted_at",
            )
        )  # fmt: skip
    batch: dict[int, ExportArticle] = {}
    for row in articles.iterator(chunk_size=chunk_size):
        batch[row[0]] = ExportArticle(*row)
        if len(batch) >= chunk_size:
            yield from _with_spans(batch, spans, gold)
            batch = {}
    if batch:
        yield from _with_spans(batch, spans, gold)


def _with_spans(batch: dict[int, ExportArticle], spans, gold) -> Iterator[ExportArticle]:
    ids = list(batch)
    rows = [ExportSpan(*row) for row in spans.filter(article_id__in=ids)]
    # A claim whose speaker span was deleted keeps the speaker's name, never a dangling id (one query a chunk).
    named = {span.attributes["speaker_span"] for span in rows if "speaker_span" in span.attributes}
    if named:
        present_ids = {value for value in named if isinstance(value, int)}
        present = set(Span.objects.filter(pk__in=present_ids).values_list("pk", flat=True))
        for span in rows:
            if "speaker_span" in span.attributes and span.attributes["speaker_span"] not in present:
                span.attributes = {k: v for k, v in span.attributes.items() if k != "speaker_span"}
    for span in rows:
        batch[span.article_id].spans.append(span)
    if gold is not None:
        username = f"annotator__{get_user_model().USERNAME_FIELD}"
        sources: dict[int, list[dict]] = {}
        for gold_id, span_ref, annotator, label, start, end in (
            GoldSource.objects.filter(gold__article_id__in=ids)
            .order_by("gold_id", "start", "-end", "span_ref")
            .values_list("gold_id", "span_ref", username, "label__name", "start", "end")
        ):
            sources.setdefault(gold_id, []).append(
                {"span_id": span_ref, "annotator": annotator, "label": label, "start": start, "end": end}
            )
        gold_spans = []
        for row in gold.filter(article_id__in=ids):
            span = ExportSpan(*row)
            span.layer, span.sources = "gold", sources.get(row[0], [])
            gold_spans.append(span)
        for span in gold_spans:
            batch[span.article_id].spans.append(span)
        for article_id in {span.article_id for span in gold_spans}:
            # Gold and editor spans in one export order: place, then gold before editors, then id.
            batch[article_id].spans.sort(key=lambda s: (s.start, -s.end, s.layer != "gold", s.pk))
    yield from batch.values()
