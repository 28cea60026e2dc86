"""The editor's queue: which articles, in which order, with what counts, and which comes next."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When

from annotations.models import Assignment, Label, Span
from articles.models import SEARCH_CONFIG, Article, Source, search_vector


def articles_with_span_counts(*, annotator=None, articles: QuerySet[Article] | None = None) -> QuerySet[Article]:
    """Articles (all, or ``articles``) with source and per-label span counts (``count_<slug>``) in one query."""
    labels = list(Label.objects.values_list("slug", "pk"))
    span_filter = Q() if annotator is None else Q(spans__annotator=annotator)
    counts = {
        f"count_{slug.replace('-', '_')}": Count("spans", filter=span_filter & Q(spans__label_id=pk))
        for slug, pk in labels
    }
    return (
        (Article.objects.all() if articles is None else articles)
        .select_related("source")
        .defer("body", "metadata")
        .annotate(span_count=Count("spans", filter=span_filter), **counts)
    )


# In progress first (finish what was started), then untouched, then finished.
_STATUS_RANK = Case(
    When(status=Article.Status.IN_PROGRESS, then=Value(0)),
    When(status=Article.Status.NEW, then=Value(1)),
    When(status=Article.Status.DONE, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def article_queue(
    *,
    user,
    q: str = "",
    status: str = "",
    source: Source | None = None,
    label: Label | None = None,
    mine: bool = False,
) -> QuerySet[Article]:
    """An editor's queue: articles assigned to ``user`` first, then open before finished, newest first.

    ``q`` is a full-text query (web-search syntax) over title and body, answered by the ``article_search_gin``
    index; with it, better matches come first. ``label`` keeps articles where ``user`` has spans of that label.
    """
    articles = Article.objects.annotate(assigned=Exists(Assignment.objects.filter(article=OuterRef("pk"), user=user)))
    if status:
        articles = articles.filter(status=status)
    if source is not None:
        articles = articles.filter(source=source)
    if label is not None:
        articles = articles.filter(Exists(Span.objects.filter(article=OuterRef("pk"), annotator=user, label=label)))
    if mine:
        articles = articles.filter(assigned=True)
    ordering: list = [F("assigned").desc()]
    if q:
        query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
        articles = articles.alias(document=search_vector()).filter(document=query)
        articles = articles.annotate(rank=SearchRank(search_vector(), query))
        ordering.append(F("rank").desc())
    ordering += [_STATUS_RANK.asc(), F("published_at").desc(nulls_last=True), F("id").desc()]
    return articles.order_by(*ordering)


def status_breakdown(*, articles: QuerySet[Article]) -> list[tuple[str, str, int]]:
    """``(status, display name, count)`` for every status, in workflow order, over ``articles`` (one query)."""
    counts = dict(articles.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, name, counts.get(value, 0)) for value, name in Article.Status.choices]


def next_in_queue(*, user, current: int, **filters) -> int | None:
    """The first open (new or in progress) article after ``current`` in ``user``'s queue order, wrapping around."""
    rows = list(article_queue(user=user, **filters).values_list("id", "status"))
    position = next((i for i, (pk, _) in enumerate(rows) if pk == current), -1)
    open_statuses = {Article.Status.NEW, Article.Status.IN_PROGRESS}
    for pk, status in rows[position + 1 :] + rows[: position + 1]:
        if pk != current and status in open_statuses:
            return pk
    return None
