"""The editor's queue: which articles, in which order, with what counts, and which comes next."""

from __future__ import annotations

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from annotations.models import Label, Span
from annotations.workflow.selectors import held_by, open_to_sql
from articles.models import UNDATED, Article, Source, queue_order
from articles.search import search_matches, search_query, with_search_document


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


def articles_in_order(*, annotator, ids: list[int]) -> list[Article]:
    """The articles ``ids``, in that order, with ``articles_with_span_counts``' counts and ``assigned`` (one query).

    The queue pages ids first (no counting), then counts spans for the page only: counting over the queue
    before sorting and cutting it to a page made a page cost as much as every matching article (at 100,000
    articles a common search word took 0.9 s; ``bench/search.py``).
    """
    found = articles_with_span_counts(annotator=annotator, articles=Article.objects.filter(pk__in=ids)).annotate(
        assigned=Exists(held_by(user=annotator).filter(article=OuterRef("pk")))
    )
    by_id = {article.pk: article for article in found}
    return [by_id[pk] for pk in ids if pk in by_id]


# In progress first (finish what was started), then untouched, then finished.
_STATUS_RANK = Case(
    When(status=Article.Status.IN_ANNOTATION, then=Value(0)),
    When(status=Article.Status.NEW, then=Value(1)),
    When(status=Article.Status.READY_FOR_REVIEW, then=Value(2)),
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

    ``q`` is a full-text query over title and body (web-search syntax, words matched as prefixes while typing:
    ``articles.search``), answered by the stored vector's GIN index ``article_search_document_gin``. Matches
    keep the queue's order, not a relevance rank: ranking reads every match's vector (about 50 µs each from
    TOAST), so a common word would cost seconds at 100k articles, while the queue order lets PostgreSQL stop
    at the first page (``bench/search.py``). ``label`` keeps articles where ``user`` has spans of that label.
    """
    articles = Article.objects.annotate(assigned=Exists(held_by(user=user).filter(article=OuterRef("pk"))))
    articles = _filtered(articles, user=user, status=status, source=source, label=label)
    if mine:
        articles = articles.filter(assigned=True)
    ordering: list = [F("assigned").desc()]
    articles = _searched(articles, q)
    ordering += [_STATUS_RANK.asc(), queue_order().desc(), F("id").desc()]
    return articles.order_by(*ordering)


def status_breakdown(*, articles: QuerySet[Article]) -> list[tuple[str, str, int]]:
    """``(status, display name, count)`` for every status, in workflow order, over ``articles`` (one query)."""
    counts = dict(articles.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, name, counts.get(value, 0)) for value, name in Article.Status.choices]


# Open articles in queue order: assigned first, then in progress before new (``_STATUS_RANK``).
_OPEN_GROUPS = [
    (True, Article.Status.IN_ANNOTATION),
    (True, Article.Status.NEW),
    (False, Article.Status.IN_ANNOTATION),
    (False, Article.Status.NEW),
]
_OPEN = {Article.Status.IN_ANNOTATION: 0, Article.Status.NEW: 1}
# For each group, the queue key bound below which rows come after the current article: its own key when it is
# in the group, everything when the group comes later in the queue, nothing when earlier. Computed by PostgreSQL
# from the current row (one-row sub-selects, run once), so the row comparison stays an index range condition.
_BOUND = """
    (SELECT CASE WHEN {rank} = c.rank THEN c.key WHEN {rank} > c.rank THEN 'infinity'::timestamptz
                 ELSE '-infinity'::timestamptz END FROM current_key c),
    (SELECT CASE WHEN {rank} = c.rank THEN c.id WHEN {rank} > c.rank THEN 9223372036854775807 ELSE 0 END
       FROM current_key c)
"""


def next_in_queue(
    *,
    user,
    current: int,
    q: str = "",
    status: str = "",
    source: Source | None = None,
    label: Label | None = None,
    mine: bool = False,
) -> int | None:
    """The first open (new or in annotation) article after ``current`` in ``user``'s queue that the queue may hand
    them (``open_to``: not done by them, on their plate or with a slot free), wrapping around.

    One query whatever the corpus size: for each of the four open groups of the queue (assigned or not, in
    progress or new) the first article after the current one and the group's first article (for wrapping),
    each a walk of ``article_status_queue_order_idx`` that stops at its first row. A text search keeps the
    queue order: each walk skips articles the stored vector does not match (or, for a rare word, PostgreSQL
    takes the few matches from the GIN index and sorts them), still one query.
    """
    now = timezone.now()
    assigned = held_by(user=user, now=now).values("article_id")
    handed_out = open_to_sql(user=user, now=now)
    parts = []
    for group, (is_assigned, group_status) in enumerate(_OPEN_GROUPS):
        if (mine and not is_assigned) or (status and status != group_status):
            continue
        rank = (0 if is_assigned else 4) + _OPEN[group_status]  # as ``current_rank`` computes it
        rows = _filtered(Article.objects.filter(handed_out, status=group_status), user=user, source=source, label=label)
        rows = _searched(rows, q)
        rows = rows.exclude(pk=current)
        rows = rows.filter(pk__in=assigned) if is_assigned else rows.exclude(pk__in=assigned)
        after = rows.filter(
            RawSQL(  # noqa: S611 - constant SQL; the values are parameters
                f"(COALESCE(published_at, %s), articles_article.id) < ({_BOUND.format(rank=rank)})",
                [UNDATED],
                output_field=BooleanField(),
            )
        )
        for wrapped, part in ((0, after), (1, rows)):
            parts.append(
                part.annotate(part=Value(wrapped * 10 + group, output_field=IntegerField()))
                .order_by(queue_order().desc(), F("id").desc())
                .values_list("id", "part")[:1]
            )
    if not parts:
        return None
    # The current article, if it is in this queue at all (otherwise the walk starts at the top).
    current_rank = Case(When(pk__in=assigned, then=Value(0)), default=Value(4)) + _STATUS_RANK
    here = _filtered(Article.objects.filter(pk=current), user=user, status=status, source=source, label=label)
    here = _searched(here, q)
    if mine:
        here = here.filter(pk__in=assigned)
    here_row = here.annotate(key=queue_order(), rank=current_rank).values("key", "id", "rank")
    here_sql, here_params = here_row.query.sql_with_params()
    sql, params = parts[0].union(*parts[1:], all=True).order_by("part")[:1].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"WITH current_key AS ({here_sql}) {sql}", [*here_params, *params])
        row = cursor.fetchone()
    return row[0] if row else None


def _searched[Articles: QuerySet](articles: Articles, q: str) -> Articles:
    """Articles whose stored full-text vector matches what the user typed (``articles.search``)."""
    query = search_query(q) if q else None
    if query is None:
        return articles
    return with_search_document(articles).filter(search_matches(query))


def _filtered(
    articles: QuerySet[Article], *, user, status: str = "", source: Source | None, label: Label | None
) -> QuerySet[Article]:
    if status:
        articles = articles.filter(status=status)
    if source is not None:
        articles = articles.filter(source=source)
    if label is not None:
        articles = articles.filter(Exists(Span.objects.filter(article=OuterRef("pk"), annotator=user, label=label)))
    return articles
