"""The editor's queue: which articles, in which order, with what counts, and which comes next."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.postgres.search import SearchQuery
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
from django.db.models.functions import Now
from django.utils import timezone

from annotations.models import Label, Span
from annotations.queue.statements import STAND_INS, compiled_rows, statements
from annotations.spans.selectors import labels_active
from annotations.suggestions.decisions import suggestion_counts
from annotations.workflow.selectors import held_by, open_to_sql
from articles.models import SEARCH_CONFIG, UNDATED, Article, SearchDocument, Source, queue_order
from articles.search import search_matches, search_query, tsquery_text, with_search_document
from newsnotes.compiled import Compiled, compiled


class LabelRow(NamedTuple):
    """An active label as the queue shows it: a count column headed by its name, styled by its slug."""

    pk: int
    slug: str
    name: str


@compiled()
def _active_labels() -> QuerySet:
    return labels_active().values_list("pk", "slug", "name")


def active_labels() -> list[LabelRow]:
    """``labels_active()``, in their order, as rows (the query compiled once per process)."""
    return [LabelRow._make(row) for row in compiled_rows(_active_labels(), model=Label)]


class QueueRow(NamedTuple):
    """One article of a queue page, as the page shows it (a tuple: no model instance per row)."""

    pk: int
    title: str
    status: str
    source_name: str | None
    published_at: dt.datetime | None
    assigned: bool
    span_count: int
    suggestion_count: int
    counts: tuple[int, ...]  # the annotator's spans per label, in the order of the labels asked for


def queue_rows(*, annotator, ids: list[int], labels: Iterable[LabelRow | Label]) -> list[QueueRow]:
    """The articles ``ids``, in that order, with ``annotator``'s span counts (all, and per label of ``labels``),
    whether the article is on their plate, and the suggestions waiting for them there (issue 12): one query.

    The queue pages ids first (no counting), then counts spans for the page only: counting over the queue
    before sorting and cutting it to a page made a page cost as much as every matching article (at 100,000
    articles a common search word took 0.9 s; ``bench/search.py``). The query is compiled once per process and
    set of labels (``newsnotes.compiled``): building and compiling it took a third of the page's CPU.
    """
    if not ids:
        return []  # as ``pk__in=[]`` did: no query for an empty page
    statement = _rows_statement(tuple(label.pk for label in labels))
    # ``ids`` takes the place of its stand-in as an array.
    found = {row[0]: row for row in compiled_rows(statement, model=Article, annotator=annotator.pk, ids=ids)}
    return [QueueRow._make((*row[:8], row[8:])) for row in (found.get(pk) for pk in ids) if row is not None]


@functools.lru_cache(maxsize=16)
def _rows_statement(label_ids: tuple[int, ...]) -> Compiled:
    """``queue_rows``' query for these labels; labels change rarely (a curator's edit), so few are ever kept."""

    @compiled("annotator", "ids")
    def build(*, annotator: int, ids: int) -> QuerySet:
        mine = Q(spans__annotator_id=annotator)
        counts = {f"count_{n}": Count("spans", filter=mine & Q(spans__label_id=pk)) for n, pk in enumerate(label_ids)}
        # One parameter for the page's ids (an array), so the SQL is the same for any page. The
        # lease test uses the database's clock (``Now()``) so that no time of the first request is kept in it.
        held = held_by(user=annotator, now=Now()).filter(article=OuterRef("pk"))  # type: ignore[arg-type]
        return (
            Article.objects.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
            .annotate(
                assigned=Exists(held),
                span_count=Count("spans", filter=mine),
                suggestion_count=suggestion_counts(editor=annotator),  # type: ignore[arg-type]
                **counts,
            )
            .order_by()
            .values_list(
                "id",
                "title",
                "status",
                "source__name",
                "published_at",
                "assigned",
                "span_count",
                "suggestion_count",
                *counts,
            )
        )

    return build()


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
    articles = _search_filtered(articles, q)
    ordering += [_STATUS_RANK.asc(), queue_order().desc(), F("id").desc()]
    return articles.order_by(*ordering)


# Counts stop here: "1,000+ articles". Counting every match of a common word costs a row visit per match, so an
# uncapped total grows with the corpus; a capped one costs at most this many visits, at any size.
COUNT_CAP = 1000
PAGE_SIZE = 50
# A search walks at most this many pages (COUNT_CAP rows): deeper, a page would cost a walk past every match.
SEARCH_PAGES = COUNT_CAP // PAGE_SIZE


@dataclass(frozen=True)
class Tally:
    """A count that stopped at ``COUNT_CAP``: ``exact`` False means "at least ``value``" (shown "1,000+")."""

    value: int
    exact: bool = True

    def __str__(self) -> str:
        return f"{self.value:,}" + ("" if self.exact else "+")

    @property
    def param(self) -> str:
        """The tally as the workspace's ``of`` parameter: ``340`` or ``1000+``."""
        return f"{self.value}" + ("" if self.exact else "+")


@dataclass(frozen=True)
class QueuePage:
    """One page of an editor's queue: its article ids in queue order and the queue's bounded totals."""

    ids: list[int]
    number: int
    total: Tally
    # (status, display name, count) in workflow order; empty for a search with more matches than COUNT_CAP.
    statuses: list[tuple[str, str, Tally]]
    has_next: bool
    # Known when the total is exact or counted without a search (cheap index counts); else None ("Page 3").
    num_pages: int | None

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def queue_page(
    *,
    user,
    number: int = 1,
    q: str = "",
    status: str = "",
    source: Source | None = None,
    label: Label | None = None,
    mine: bool = False,
) -> QueuePage:
    """Page ``number`` of ``user``'s queue (``article_queue``'s order and filters) and its totals, at a cost bounded
    by ``COUNT_CAP`` and ``SEARCH_WINDOW`` whatever the corpus size or how common a searched word is
    (``bench/search.py``). At most four queries.

    First up to ``COUNT_CAP + 1`` matching ids are fetched (a search reads them from the stored vector's GIN
    index, which needs no vector read). When the queue holds no more than ``COUNT_CAP`` articles those ids are
    the queue: exact totals, counts per status and the page come from them alone. Beyond the cap:

    - without a search, each status is counted up to the cap along the status index ("New 1,000+"), and each
      group of the queue order (assigned to ``user``, then each status in turn) is walked along
      ``article_status_queue_order_idx`` to the page's end;
    - with a search, the total shows as "1,000+" (no count per status: counting them would read a row per match),
      each group is walked as above, matching each visited row against its stored vector, among the group's
      newest ``SEARCH_WINDOW`` articles; a group whose window ended short of the page's end has its older
      matches read from the GIN index (``_walk_groups``), so nothing matching is left out. A search pages no
      deeper than ``SEARCH_PAGES``. A word common enough to pass the cap stops each walk after a few rows.

    Each query is built by the ORM once per process and shape of the filters (``annotations.queue.statements``):
    building them took about a third of the page's CPU.
    """
    filters = _Filters(
        user=user.pk,
        status=status,
        source=source.pk if source is not None else None,
        label=label.pk if label is not None else None,
        mine=mine,
        tsquery=tsquery_text(q) if q else "",
    )
    shape, values = filters.shape, filters.values
    if not filters.tsquery or not _common(_matched_plan(*shape).rows(**values)):
        probe = [pk for (pk,) in _matched_ids(*shape, COUNT_CAP + 1).rows(**values)]
        if len(probe) <= COUNT_CAP:
            return _page_of_few(user=user, ids=probe, number=number)
    if not filters.tsquery:
        statuses = _status_tallies(filters)
        total = Tally(sum(tally.value for _, _, tally in statuses), exact=all(t.exact for _, _, t in statuses))
        num_pages = max(1, -(-total.value // PAGE_SIZE)) if total.exact else None
        number = max(number, 1) if num_pages is None else min(max(number, 1), num_pages)
    else:
        statuses, total, num_pages = [], Tally(COUNT_CAP, exact=False), None
        number = min(max(number, 1), SEARCH_PAGES)
    offset = (number - 1) * PAGE_SIZE
    ids = _walk_groups(filters, upto=offset + PAGE_SIZE + 1)
    ids = ids[offset:]
    has_next = len(ids) > PAGE_SIZE and (not filters.tsquery or number < SEARCH_PAGES)
    return QueuePage(ids[:PAGE_SIZE], number, total, statuses, has_next, num_pages)


@dataclass(frozen=True)
class _Filters:
    """The queue's filters as the values its statements are built from (with stand-ins) and run with."""

    user: int
    status: str = ""
    source: int | None = None
    label: int | None = None
    mine: bool = False
    tsquery: str = ""  # ``to_tsquery`` text (``articles.search``); "" without a search

    @property
    def shape(self) -> tuple[str, bool, bool, bool, bool]:
        """What changes the SQL: which filters are set (and the status, a constant of the SQL)."""
        return (self.status, self.source is not None, self.label is not None, self.mine, bool(self.tsquery))

    @property
    def values(self) -> dict[str, Any]:
        return {"user": self.user, "source": self.source, "label": self.label, "tsquery": self.tsquery}

    @classmethod
    def standing_in(cls, status: str, source: bool, label: bool, mine: bool, searched: bool) -> _Filters:
        return cls(
            user=STAND_INS["user"],
            status=status,
            source=STAND_INS["source"] if source else None,
            label=STAND_INS["label"] if label else None,
            mine=mine,
            tsquery=STAND_INS["tsquery"] if searched else "",
        )

    def held(self) -> QuerySet:
        """The user's articles on their plate; leases compared with the database's clock (``Now()``), so that a
        statement built once keeps no time."""
        return held_by(user=self.user, now=Now()).values("article_id")  # type: ignore[arg-type]

    def articles(self) -> QuerySet[Article]:
        """The filtered queue, search aside."""
        articles = _filtered(
            Article.objects.all(), user=self.user, status=self.status, source=self.source, label=self.label
        )
        return articles.filter(pk__in=self.held()) if self.mine else articles


def _matching[Articles: QuerySet](articles: Articles, tsquery: str) -> Articles:
    """``articles`` whose stored vector matches ``tsquery`` (``to_tsquery`` text), all without one."""
    if not tsquery:
        return articles
    return with_search_document(articles).filter(
        search_matches(SearchQuery(tsquery, config=SEARCH_CONFIG, search_type="raw"))
    )


@statements
def _matched_plan(*shape) -> tuple[str, Sequence[Any]]:
    """The planner's estimate of the filtered queue's matches (``_common``): EXPLAIN, not run."""
    filters = _Filters.standing_in(*shape)
    sql, params = _matching(filters.articles(), filters.tsquery).order_by().values("pk").query.sql_with_params()
    return "EXPLAIN (FORMAT JSON) " + sql, params


@statements
def _matched_ids(*key) -> tuple[str, Sequence[Any]]:
    """Up to ``limit`` (``COUNT_CAP + 1``) ids of the filtered, searched queue, in no order. Values the ORM writes
    into the SQL (LIMIT, OFFSET) are part of each statement's key, here and below."""
    *shape, limit = key
    filters = _Filters.standing_in(*shape)
    matched = _matching(filters.articles(), filters.tsquery).order_by().values_list("pk", flat=True)
    return matched[:limit].query.sql_with_params()


def _page_of_few(*, user, ids: list[int], number: int) -> QueuePage:
    """The page when the whole (filtered, searched) queue is ``ids``, no more than ``COUNT_CAP``: exact totals."""
    if not ids:  # nothing matches: no query, as ``pk__in=[]`` did
        return QueuePage([], 1, Tally(0), [(value, name, Tally(0)) for value, name in Article.Status.choices], False, 1)
    counts = dict(_few_status_counts().rows(ids=ids))
    statuses = [(value, name, Tally(counts.get(value, 0))) for value, name in Article.Status.choices]
    num_pages = max(1, -(-len(ids) // PAGE_SIZE))
    number = min(max(number, 1), num_pages)
    offset = (number - 1) * PAGE_SIZE
    page_ids = [pk for (pk,) in _few_page(offset, PAGE_SIZE).rows(user=user.pk, ids=ids)]
    return QueuePage(page_ids, number, Tally(len(ids)), statuses, number < num_pages, num_pages)


def _among(ids: Any) -> QuerySet[Article]:
    """Articles among ``ids``, one array parameter whatever their number."""
    return Article.objects.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))


@statements
def _few_status_counts() -> tuple[str, Sequence[Any]]:
    """``(status, count)`` of the articles ``ids`` (one GROUP BY)."""
    return _among(STAND_INS["ids"]).order_by().values_list("status").annotate(n=Count("id")).query.sql_with_params()


@statements
def _few_page(offset: int, size: int) -> tuple[str, Sequence[Any]]:
    """The page at ``offset`` of the articles ``ids``, in queue order."""
    filters = _Filters.standing_in("", False, False, False, False)
    ordered = (
        _among(STAND_INS["ids"])
        .annotate(assigned=Exists(filters.held().filter(article=OuterRef("pk"))))
        .order_by(F("assigned").desc(), _STATUS_RANK.asc(), queue_order().desc(), F("id").desc())
    )
    return ordered.values_list("pk")[offset : offset + size].query.sql_with_params()


def _status_tallies(filters: _Filters) -> list[tuple[str, str, Tally]]:
    """``(status, name, tally)`` for every status, each counted up to ``COUNT_CAP + 1`` rows along the status index
    (one query of bounded sub-selects): "New 1,000+" rather than a count that reads every row."""
    (row,) = _tallies(*filters.shape, COUNT_CAP + 1).rows(**filters.values)
    return [
        (value, name, Tally(COUNT_CAP, exact=False) if n > COUNT_CAP else Tally(n))
        for (value, name), n in zip(Article.Status.choices, row, strict=True)
    ]


@statements
def _tallies(*key) -> tuple[str, Sequence[Any]]:
    *shape, limit = key
    articles = _Filters.standing_in(*shape).articles()
    selects: list[str] = []
    params: list = []
    for value, _ in Article.Status.choices:
        sql, sql_params = articles.filter(status=value).order_by().values("pk")[:limit].query.sql_with_params()
        selects.append(f"(SELECT count(*) FROM ({sql}) AS capped)")  # noqa: S608 - compiled by Django
        params.extend(sql_params)
    return "SELECT " + ", ".join(selects), params


# The queue's groups after the assigned articles, in queue order (``_STATUS_RANK``).
_STATUS_ORDER = [
    Article.Status.IN_ANNOTATION,
    Article.Status.NEW,
    Article.Status.READY_FOR_REVIEW,
    Article.Status.REVIEWED,
]
# A search over more than COUNT_CAP articles looks for its matches among each status' newest this many articles:
# matching a row reads its stored vector (about 20 µs from TOAST), so the window bounds what a page costs.
SEARCH_WINDOW = 1000


def _walk_groups(filters: _Filters, *, upto: int) -> list[int]:
    """The first ``upto`` ids of the queue in queue order: one bounded walk per group, in one query, and with a
    search a second query for the groups whose window (``SEARCH_WINDOW``) ended before the page did.

    Each status group is walked along ``article_status_queue_order_idx``, matching each visited row against its
    stored vector, among its newest ``SEARCH_WINDOW`` articles: a common word fills the page within a few rows.
    A group whose window holds fewer matches than the page still needs is sparse in the word, so its older
    matches are taken from the GIN index instead (``_tails``): a bitmap of the group's matches past the window,
    sorted to the page's end. Either way every match is found in queue order.
    """
    rows = _walks(*filters.shape, upto, SEARCH_WINDOW).rows(**filters.values)
    found = _in_queue_order(row for row in rows if row[1] < 100)
    # A group whose window ended before it found a page's worth has older matches that belong on this page when
    # the page is not full or already shows a later group.
    counts = Counter(row[1] for row in found)
    last_part = found[upto - 1][1] if len(found) >= upto else None
    ended = {
        row[1] - 90: row
        for row in rows
        if row[1] >= 100 and counts[row[1] - 90] < upto and (last_part is None or last_part > row[1] - 90)
    }
    if ended:
        found = _in_queue_order([*found, *_tails(_groups(filters), ended, tsquery=filters.tsquery, upto=upto)])
    return [row[0] for row in found[:upto]]


def _groups(filters: _Filters) -> dict[int, Any]:
    """The queue's status groups past the assigned articles, by part (10 + rank), annotated with ``key``, in queue
    order (Any: the stubs do not carry annotations)."""
    articles, held = filters.articles(), filters.held()
    return {
        10 + rank: articles.filter(status=group_status)
        .exclude(pk__in=held)
        .annotate(key=queue_order())
        .order_by("-key", "-id")
        for rank, group_status in enumerate(_STATUS_ORDER)
        if not filters.status or filters.status == group_status
    }


@statements
def _walks(*key) -> tuple[str, Sequence[Any]]:
    """``_walk_groups``' first query for a shape, ``upto`` rows and windows of ``window`` (both LIMITs)."""
    *shape, upto, window_size = key
    filters = _Filters.standing_in(*shape)
    assigned = (
        _matching(filters.articles().filter(pk__in=filters.held()), filters.tsquery)
        .annotate(part=_STATUS_RANK, key=queue_order())
        .order_by()
        .values_list("id", "part", "key")
    )
    assigned_sql, assigned_params = assigned.query.sql_with_params()
    parts: list[tuple[str, list]] = [(assigned_sql, list(assigned_params))]
    for part, group in _groups(filters).items():
        if not filters.tsquery:
            sql, params = group.values_list("id", "key")[:upto].query.sql_with_params()
            walk = f"SELECT id, {int(part)}, key FROM ({sql}) walk"  # noqa: S608 - compiled by Django; ints
            parts.append((walk, list(params)))
            continue
        # The window is a sub-select with its own LIMIT, so the match cannot be pushed into it: PostgreSQL walks
        # the queue index, and the outer LIMIT stops the walk at the page's end or the window's.
        window, params = (
            group.annotate(doc=SearchDocument()).values_list("id", "key", "doc")[:window_size].query.sql_with_params()
        )
        searched = (
            f"SELECT id, {int(part)}, key FROM ({window}) window_rows "  # noqa: S608 - compiled by Django; ints
            f"WHERE doc @@ to_tsquery(%s::regconfig, %s) LIMIT {int(upto)}"
        )
        parts.append((searched, [*params, SEARCH_CONFIG, filters.tsquery]))
        # The window's last row, when there is one: the group has more articles than the window holds.
        last, last_params = group.values_list("id", "key")[window_size - 1 : window_size].query.sql_with_params()
        window_end = f"SELECT id, {int(part) + 90}, key FROM ({last}) window_end"  # noqa: S608 - as above
        parts.append((window_end, list(last_params)))
    sql, params = _union_sql(parts)
    if filters.tsquery:
        return sql, params
    # No search, so no window rows: PostgreSQL sorts the walks' rows (up to ``upto`` per group) as the queue does
    # (``_in_queue_order``) and hands back the page's end only, instead of every group's rows to sort in Python.
    return f"SELECT * FROM ({sql}) walks ORDER BY 2, 3 DESC, 1 DESC LIMIT {int(upto)}", params  # noqa: S608


def _in_queue_order(rows) -> list[tuple]:
    """``(id, part, key)`` rows sorted as the queue: by part (group), then newest key, then highest id."""
    return sorted(rows, key=lambda row: (row[1], -row[2].timestamp(), -row[0]))


def _union_sql(parts: list[tuple[str, list]]) -> tuple[str, list]:
    return " UNION ALL ".join(f"({part_sql})" for part_sql, _ in parts), [p for _, ps in parts for p in ps]


def _union(parts: list[tuple[str, list]]) -> list[tuple]:
    sql, params = _union_sql(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tails(groups: dict[int, Any], ended: dict[int, tuple], *, tsquery: str, upto: int) -> list[tuple]:
    """The first ``upto`` matches of each group in ``ended`` past its window's last row (``ended[part]``), from the
    GIN index (one query). ``OFFSET 0`` keeps the queue order out of the group's scan: ordered, PostgreSQL would
    walk the queue index again, reading a vector per row through the sparse part of the group; unordered it
    takes the GIN bitmap of the group's matches, then sorts those (cost: one heap visit per match, no vector).
    Built per request: only a word sparse in a group's newest ``SEARCH_WINDOW`` articles gets here."""
    parts: list[tuple[str, list]] = []
    for part, (end_id, _, end_key) in sorted(ended.items()):
        matches, params = _matching(groups[part], tsquery).order_by().values_list("id", "key").query.sql_with_params()
        tail = (
            f"SELECT id, {int(part)}, key FROM ({matches} OFFSET 0) tail "  # noqa: S608 - compiled by Django; ints
            f"WHERE (key, id) < (%s, %s) ORDER BY key DESC, id DESC LIMIT {int(upto)}"
        )
        parts.append((tail, [*params, end_key, end_id]))
    return _union(parts)


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

    One query whatever the corpus size (two with a search): for each of the four open groups of the queue
    (assigned or not, in progress or new) the first article after the current one and the group's first article
    (for wrapping), each a walk of ``article_status_queue_order_idx`` that stops at its first row. A text search
    keeps the queue order: matches first taken from the GIN index up to ``COUNT_CAP`` become an id filter; a
    word matching more keeps the match as a filter on each walked row (found within a few rows), within each
    walk's next ``SEARCH_WINDOW`` rows; a walk whose window ends without a match continues from the GIN index
    (one more query, only then).
    """
    now = timezone.now()
    assigned = held_by(user=user, now=now).values("article_id")
    handed_out = open_to_sql(user=user, now=now)
    # A search matching no more than COUNT_CAP articles of the queue becomes a list of ids (read from the GIN
    # index, no vector read): the walks then skip rows by id, where a rare or absent word used to make them read
    # the vector of every article in a group (1 s at 100,000 articles). A common word stays a match per walked
    # row, found within a few rows. The queue page does the same (``queue_page``); two queries in all.
    few = _few_matches(user=user, q=q, status=status, source=source, label=label, mine=mine) if q else None
    if few == []:
        return None  # nothing in this queue matches: no walk at all

    # A word matching more is matched on each walked row, within the group's next SEARCH_WINDOW rows (a window
    # the match cannot be pushed into, as on the queue page): the planner, misjudging how common the word is,
    # would otherwise sort every match of each group (measured: 70 ms for 14,000 matches at 100,000 articles).
    windowed = bool(q) and few is None

    def narrowed(articles: QuerySet[Article]) -> QuerySet[Article]:
        return articles if windowed else _search_filtered(articles, q) if few is None else articles.filter(pk__in=few)

    parts: list[tuple[str, tuple]] = []
    walks: dict[int, Any] = {}  # annotated with ``part`` and ``key``
    for group, (is_assigned, group_status) in enumerate(_OPEN_GROUPS):
        if (mine and not is_assigned) or (status and status != group_status):
            continue
        rank = (0 if is_assigned else 4) + _OPEN[group_status]  # as ``current_rank`` computes it
        rows = _filtered(Article.objects.filter(handed_out, status=group_status), user=user, source=source, label=label)
        rows = narrowed(rows)
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
            walk = part.annotate(part=Value(wrapped * 10 + group, output_field=IntegerField())).order_by(
                queue_order().desc(), F("id").desc()
            )
            if not windowed:
                parts.append(walk.values_list("id", "part")[:1].query.sql_with_params())
                continue
            walk = walk.annotate(key=queue_order())
            walks[wrapped * 10 + group] = walk
            window, window_params = (
                walk.annotate(doc=SearchDocument()).values_list("id", "part", "key", "doc")[:SEARCH_WINDOW].query
            ).sql_with_params()
            # The walk's first match, or else its window's last row (``matched`` false): the window ended full.
            searched = (
                "SELECT id, part, key, matched FROM (SELECT id, part, key, "  # noqa: S608 - compiled by Django
                "doc @@ to_tsquery(%s::regconfig, %s) AS matched, row_number() OVER () AS n "
                f"FROM ({window}) window_rows) walked WHERE matched OR n = {int(SEARCH_WINDOW)} LIMIT 1"
            )
            parts.append((searched, (SEARCH_CONFIG, tsquery_text(q), *window_params)))
    if not parts:
        return None
    # The current article, if it is in this queue at all (otherwise the walk starts at the top).
    current_rank = Case(When(pk__in=assigned, then=Value(0)), default=Value(4)) + _STATUS_RANK
    here = _filtered(Article.objects.filter(pk=current), user=user, status=status, source=source, label=label)
    here = _search_filtered(here, q) if windowed else narrowed(here)
    if mine:
        here = here.filter(pk__in=assigned)
    here_row = here.annotate(key=queue_order(), rank=current_rank).values("key", "id", "rank")
    here_sql, here_params = here_row.query.sql_with_params()
    if not windowed:
        row = _first_walked(here_sql, here_params, parts)
        return row[0] if row else None
    rows = _first_walked(here_sql, here_params, parts, every=True)
    found = min((row for row in rows if row[3]), default=None, key=lambda row: row[1])
    # A walk whose window ended full without a match, ahead of the one that matched, may have one past its window:
    # its first match comes from the GIN index, a bitmap of its matches sorted (``OFFSET 0`` keeps the queue index
    # out, as in ``_tails``). Only a word sparse in that walk's newest SEARCH_WINDOW articles gets that far.
    tails: list[tuple[str, tuple]] = []
    for _, part, _, matched in rows:
        if matched or (found is not None and part > found[1]):
            continue
        sql, params = (
            _search_filtered(walks[part], q).order_by().values_list("id", "part", "key").query.sql_with_params()
        )
        tail = (
            f"SELECT id, part, key FROM ({sql} OFFSET 0) tail "  # noqa: S608 - compiled by Django
            "ORDER BY key DESC, id DESC LIMIT 1"
        )
        tails.append((tail, params))
    if tails:
        found = _first_walked(here_sql, here_params, tails) or found
    return found[0] if found else None


def _first_walked(here_sql: str, here_params, parts: list[tuple[str, tuple]], *, every: bool = False):
    """The first row (lowest part) of the walks ``parts`` from the current article ``here_sql``; all their rows
    with ``every`` (one query)."""
    union = " UNION ALL ".join(f"({part_sql})" for part_sql, _ in parts)
    params = [param for _, part_params in parts for param in part_params]
    limit = "" if every else " LIMIT 1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH current_key AS ({here_sql}) SELECT * FROM ({union}) walks ORDER BY part{limit}",  # noqa: S608
            [*here_params, *params],
        )
        return cursor.fetchall() if every else cursor.fetchone()


# A search PostgreSQL's statistics expect to match this many articles skips the capped id list: its GIN bitmap
# grows with the matches (about 0.3 µs each: 12 ms for 42,000 at 100k articles) and the answer would be "more".
SURELY_COMMON = 20 * COUNT_CAP


def _surely_common(matched: QuerySet[Article]) -> bool:
    """Whether the planner estimates ``matched`` at ``SURELY_COMMON`` rows or more (an EXPLAIN: planned, not run).

    The estimate comes from the column's statistics of frequent words (``ANALYZE``), reliable for a word that
    common; a rare or unknown word is estimated low and takes the exact path.
    """
    sql, params = matched.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        return _common(cursor.fetchall())


def _common(explained: list[tuple]) -> bool:
    """Whether an ``EXPLAIN (FORMAT JSON)`` of a query estimates ``SURELY_COMMON`` rows or more."""
    plan = explained[0][0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]["Plan Rows"] >= SURELY_COMMON


def _few_matches(
    *, user, q: str, status: str, source: Source | None, label: Label | None, mine: bool
) -> list[int] | None:
    """The ids of the articles of ``user``'s filtered queue that match ``q``, when there are no more than
    ``COUNT_CAP`` of them; else None (one query, answered from the GIN index)."""
    articles = _filtered(Article.objects.all(), user=user, status=status, source=source, label=label)
    if mine:
        articles = articles.filter(pk__in=held_by(user=user).values("article_id"))
    matched = _search_filtered(articles, q)
    if _surely_common(matched):
        return None
    ids = list(matched.order_by().values_list("pk", flat=True)[: COUNT_CAP + 1])
    return ids if len(ids) <= COUNT_CAP else None


def _search_filtered[Articles: QuerySet](articles: Articles, q: str) -> Articles:
    """Articles whose stored full-text vector matches what the user typed (``articles.search``)."""
    query = search_query(q) if q else None
    if query is None:
        return articles
    return with_search_document(articles).filter(search_matches(query))


def _filtered(
    articles: QuerySet[Article], *, user, status: str = "", source: Source | int | None, label: Label | int | None
) -> QuerySet[Article]:
    if status:
        articles = articles.filter(status=status)
    if source is not None:
        articles = articles.filter(source=source)
    if label is not None:
        articles = articles.filter(Exists(Span.objects.filter(article=OuterRef("pk"), annotator=user, label=label)))
    return articles
