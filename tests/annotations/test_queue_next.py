"""``next`` from the annotate page: the same answer as walking the whole queue, in one query."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Assignment
from annotations.queue.selectors import article_queue, next_in_queue
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory

OPEN = {Article.Status.NEW, Article.Status.IN_ANNOTATION}


def walked(*, user, current, **filters):
    """The answer by definition: the first open article after ``current`` in the listed queue, wrapping."""
    rows = list(article_queue(user=user, **filters).values_list("id", "status"))
    position = next((i for i, (pk, _) in enumerate(rows) if pk == current), -1)
    for pk, status in rows[position + 1 :] + rows[: position + 1]:
        if pk != current and status in OPEN:
            return pk
    return None


@pytest.fixture
def corpus(db, editor, other_editor, labels):
    rng = random.Random(8)
    sources = [SourceFactory(), SourceFactory()]
    day = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    articles = []
    for n in range(40):
        # Undated articles, and several on the same date, exercise both halves of the order key.
        published = None if n % 7 == 0 else day - dt.timedelta(days=rng.randrange(6))
        article = ArticleFactory(
            title=f"chip story {n}" if n % 3 else f"other story {n}",
            body=f"Mara said the chip ships in May. Story {n}.",
            published_at=published,
            status=rng.choice(list(Article.Status.values)),
            source=sources[n % 2],
        )
        articles.append(article)
        if n % 5 == 0:
            Assignment.objects.create(article=article, user=editor)
        if n % 6 == 0:
            Assignment.objects.create(article=article, user=other_editor)
        if n % 4 == 0:
            SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    return articles


@pytest.mark.django_db
def test_next_matches_walking_the_queue(corpus, editor, labels):
    sources = sorted({article.source_id for article in corpus})
    cases = [
        {},
        {"mine": True},
        {"status": Article.Status.NEW},
        {"status": Article.Status.READY_FOR_REVIEW},
        {"source": corpus[0].source},
        {"label": labels["person"]},
        {"q": "chip"},
        {"q": "chip", "mine": True},
    ]
    assert len(sources) == 2
    currents = [article.pk for article in corpus] + [10**9]  # and an article that no longer exists
    for filters in cases:
        for current in currents:
            expected = walked(user=editor, current=current, **filters)
            assert next_in_queue(user=editor, current=current, **filters) == expected, (filters, current)


@pytest.mark.django_db
@pytest.mark.parametrize(("filters", "queries"), [({}, 1), ({"q": "chip"}, 3)])
def test_next_is_one_query_three_with_a_search(corpus, editor, filters, queries, django_assert_num_queries):
    """A search first asks the planner's estimate and takes its matches from the GIN index (up to COUNT_CAP),
    then the one walk query."""
    with django_assert_num_queries(queries):
        next_in_queue(user=editor, current=corpus[3].pk, **filters)


@pytest.mark.django_db
def test_next_walks_the_queue_order_index(corpus, editor):
    """Without a text search every part of the query reads ``article_status_queue_order_idx`` (not a sort of the
    whole queue), so its time stays flat as the corpus grows (``bench/next.py`` measures it)."""
    with CaptureQueriesContext(connection) as captured:
        next_in_queue(user=editor, current=corpus[3].pk)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # 40 rows: make the planner show what it would use at scale
        cursor.execute("SET LOCAL enable_sort = off")  # (on 40 rows a sort may look cheaper than a walk)
        cursor.execute("EXPLAIN " + captured[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("article_status_queue_order_idx") == 8, plan
