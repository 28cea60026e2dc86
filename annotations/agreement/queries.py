"""What agreement reads: per article, its tokens, every finished editor layer and gold, streamed from PostgreSQL.

Two functions say which rows count: which editor layers are finished (``finished_layers``, from the editors'
slots) and what the gold layer holds (``gold_spans``, the review room's ``GoldSpan`` table). Everything else only
sees the rows they return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value

from annotations.agreement.metrics import ArticleLayers, SpanTuple
from annotations.agreement.services import TokenRow
from annotations.agreement.tokens import TOKENIZER, boundaries, unpack
from annotations.models import Label
from annotations.review.models import GoldSpan, ReviewDecision
from annotations.workflow.selectors import finished_slots
from articles.models import Article, Source


@dataclass(frozen=True)
class Scope:
    """Which part of the corpus to measure: one label (else all), one source (else all)."""

    label: Label | None = None
    source: Source | None = None

    def articles(self) -> QuerySet[Article]:
        articles = Article.objects.all()
        if self.source is not None:
            articles = articles.filter(source=self.source)
        return articles

    def labels(self) -> list[Label]:
        return [self.label] if self.label is not None else list(Label.objects.order_by("ordering", "name"))


def finished_layers(*, articles: QuerySet[Article]) -> QuerySet:
    """``(article_id, editor_id)`` for every finished editor layer of ``articles``, once each: the editor's slot on
    the article is done and not released (``annotations.workflow.selectors.finished_slots``). A released editor's
    spans stay in the database but are outside agreement."""
    return finished_slots().filter(article__in=articles).order_by().values_list("article_id", "user_id")


def gold_spans(*, articles: QuerySet[Article]) -> QuerySet:
    """``(article_id, label_id, start, end)`` for every gold span of ``articles``; an article whose gold layer is
    empty has one row with ``label_id`` None (so "no gold spans" differs from "no gold layer").

    Gold is the review room's own table (``GoldSpan``), never an editor's span. An article has a gold layer when it
    has gold spans or a reviewer marked it reviewed on the review page (a review that kept nothing is an empty gold
    layer); a status set elsewhere makes no gold layer.
    """
    gold = (
        GoldSpan.objects.filter(article__in=articles).order_by().values_list("article_id", "label_id", "start", "end")
    )
    nothing = Value(None, output_field=IntegerField())
    empty = (
        articles.filter(
            Exists(ReviewDecision.objects.filter(article=OuterRef("pk"), action="reviewed", undone_at=None))
        )
        .exclude(Exists(GoldSpan.objects.filter(article=OuterRef("pk"))))
        .order_by()
        .annotate(no_label=nothing, no_start=nothing, no_end=nothing)
        .values_list("id", "no_label", "no_start", "no_end")
    )
    return gold.union(empty, all=True)


def _sql(queryset: QuerySet, columns: str) -> tuple[str, tuple]:
    """A QuerySet's SQL and parameters; a QuerySet that can match nothing becomes an empty relation."""
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        nulls = ", ".join(f"NULL::integer AS {name}" for name in columns.split())
        return f"SELECT {nulls} WHERE false", ()


def iter_article_layers(
    scope: Scope, *, store_tokens: Callable[[TokenRow], None] | None = None, chunk_size: int = 100
) -> Iterator[ArticleLayers]:
    """Every article of ``scope`` with at least one finished layer, in id order, with its token boundaries, its
    finished layers' spans of the scope's labels (a finished layer with none is an empty layer) and its gold layer.

    Boundaries come from ``ArticleTokens``; an article without current ones is tokenized here (its body is read
    only then) and handed to ``store_tokens``. One query, read through a server-side cursor ``chunk_size`` rows at
    a time, so memory stays flat; spans and boundaries travel as packed integers (``int4send``, ``int8send``), which
    Python reads without parsing.
    """
    articles = scope.articles()
    finished_sql, finished_params = _sql(finished_layers(articles=articles), "article_id annotator_id")
    gold_sql, gold_params = _sql(gold_spans(articles=articles), "article_id label_id start end")
    label_ids = [label.pk for label in scope.labels()]
    sql = f"""
        WITH finished (article_id, editor_id) AS MATERIALIZED ({finished_sql}),
        gold (article_id, label_id, start, stop) AS ({gold_sql}),
        layers AS (
            SELECT article_id, array_agg(editor_id ORDER BY editor_id) AS editors FROM finished GROUP BY article_id
        ),
        spans AS (
            SELECT s.article_id,
                   string_agg(int8send(s.annotator_id) || int8send(s.label_id) || int8send(s.start)
                              || int8send(s."end") || int8send(s.id), ''::bytea) AS spans
            FROM annotations_span s
            JOIN finished f ON f.article_id = s.article_id AND f.editor_id = s.annotator_id
            WHERE s.label_id = ANY(%s)
            GROUP BY s.article_id
        ),
        golds AS (
            SELECT article_id,
                   coalesce(string_agg(int8send(label_id) || int8send(start) || int8send(stop), ''::bytea)
                            FILTER (WHERE label_id = ANY(%s)), ''::bytea) AS spans
            FROM gold GROUP BY article_id
        )
        SELECT l.article_id, l.editors, t.starts, t.ends, a.body_sha256,
               CASE WHEN t.article_id IS NULL THEN a.body END, s.spans, g.spans
        FROM layers l
        JOIN articles_article a ON a.id = l.article_id
        LEFT JOIN annotations_articletokens t
          ON t.article_id = l.article_id AND t.tokenizer = %s AND t.body_sha256 = a.body_sha256
        LEFT JOIN spans s ON s.article_id = l.article_id
        LEFT JOIN golds g ON g.article_id = l.article_id
        ORDER BY l.article_id
    """  # noqa: S608 (only SQL Django generated is interpolated; values are parameters)
    params = (*finished_params, *gold_params, label_ids, label_ids, TOKENIZER)
    # Where the router sends article reads: the read replica on the agreement page (newsnotes/routers.py).
    with connections[router.db_for_read(Article)].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            for article_id, editors, starts, ends, sha, body, spans, gold in rows:
                if starts is None:
                    starts, ends = boundaries(body)
                    if store_tokens is not None:
                        store_tokens((article_id, sha, starts, ends))
                else:
                    starts, ends = unpack(starts), unpack(ends)
                layers: dict[int, list[SpanTuple]] = {editor: [] for editor in editors}
                if spans is not None:
                    values = unpack(spans, "q")
                    for i in range(0, len(values), 5):
                        layers[values[i]].append((values[i + 1], values[i + 2], values[i + 3], values[i + 4]))
                gold_layer = None
                if gold is not None:
                    values = unpack(gold, "q")
                    gold_layer = [(values[i], values[i + 1], values[i + 2], 0) for i in range(0, len(values), 3)]
                yield ArticleLayers(article_id, starts, ends, layers, gold_layer)


def editor_names(editor_ids) -> dict[int, str]:
    User = get_user_model()
    return dict(User.objects.filter(pk__in=list(editor_ids)).values_list("pk", User.USERNAME_FIELD))


def label_named(name: str) -> Label | None:
    """The label whose name or slug is ``name`` (any case)."""
    name = name.strip()
    return Label.objects.filter(Q(name__iexact=name) | Q(slug__iexact=name)).first()


def source_named(name: str) -> Source | None:
    """The source whose domain is ``name`` (any case), else the one source of that name."""
    name = name.strip()
    by_domain = Source.objects.filter(domain__iexact=name).first()
    if by_domain is not None:
        return by_domain
    named = list(Source.objects.filter(name__iexact=name)[:2])
    return named[0] if len(named) == 1 else None
