"""Issue 13: the queue page and ``n`` cost what a page costs, not what the corpus or a common word's matches cost.

Above ``COUNT_CAP`` matches the page takes another path (capped totals, bounded walks); these tests lower the
cap (and the page size, the search window) so a 40-article corpus exercises both paths, and check each against
the queue order by definition (``article_queue``). Plans are read with ``EXPLAIN``; nothing is timed.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.queue import selectors
from annotations.queue.selectors import article_queue, next_in_queue, queue_page
from articles.models import Article, body_sha256
from tests.annotations.test_queue_next import corpus, walked  # noqa: F401 - the fixture, shared
from tests.factories import ArticleFactory
from tests.html import one, select, text

pytestmark = pytest.mark.django_db
QUEUE = reverse("annotations:article-list")


@pytest.fixture
def small_cap(monkeypatch):
    """A cap of 5 and pages of 7, so 40 articles pass the cap and span pages."""
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 7)
    monkeypatch.setattr(selectors, "SEARCH_PAGES", 40)


def paged(user, **filters) -> list[int]:
    ids, number = [], 1
    while True:
        page = queue_page(user=user, number=number, **filters)
        ids += page.ids
        if not page.has_next:
            return ids
        number += 1


def cases(corpus, labels):  # noqa: F811 - the fixture's value
    return [
        {},
        {"mine": True},
        {"status": Article.Status.NEW},
        {"source": corpus[0].source},
        {"label": labels["person"]},
        {"q": "chip"},
        {"q": "chip", "status": Article.Status.IN_ANNOTATION},
        {"q": "chip", "mine": True},
        {"q": "zzyzxq"},
    ]


@pytest.mark.parametrize("capped", [False, True, "common"])
def test_pages_follow_the_queue_order_below_and_above_the_cap(corpus, editor, labels, capped, request, monkeypatch):  # noqa: F811
    if capped:
        request.getfixturevalue("small_cap")
    if capped == "common":  # every search taken for a common word: no id list, straight to the walks
        monkeypatch.setattr(selectors, "SURELY_COMMON", 0)
    for filters in cases(corpus, labels):
        expected = list(article_queue(user=editor, **filters).values_list("pk", flat=True))
        assert paged(editor, **filters) == expected, filters


def test_counts_stop_at_the_cap(corpus, editor, labels, small_cap):  # noqa: F811
    searched = queue_page(user=editor, q="chip")
    assert (str(searched.total), searched.statuses, searched.num_pages) == ("5+", [], None)
    listed = queue_page(user=editor)
    assert not listed.total.exact and str(listed.total).endswith("+")
    assert all(tally.value <= 5 for _, _, tally in listed.statuses)
    few = queue_page(user=editor, q="story 1")
    exact = article_queue(user=editor, q="story 1").count()
    assert 0 < exact <= 5 and few.total.exact and few.total.value == exact
    assert sum(tally.value for _, _, tally in few.statuses) == exact


def test_the_page_says_1000_plus_and_draws_no_bar_past_the_cap(editor_client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for n in range(5):
        ArticleFactory(title=f"Chip story {n}")
    html = editor_client.get(QUEUE, {"q": "chip"}).content.decode()
    assert text(one(html, "p.count")).startswith("3+ articles matching “chip”.")
    assert not select(html, "svg.stacked-bar")
    html = editor_client.get(QUEUE, {"q": "chip", "status": "new", "source": ""}).content.decode()
    assert text(one(html, "p.count")).startswith("3+ articles")
    monkeypatch.setattr(selectors, "COUNT_CAP", 1000)
    html = editor_client.get(QUEUE, {"q": "chip"}).content.decode()
    assert text(one(html, "p.count")).startswith("5 articles matching") and select(html, "svg.stacked-bar")


@pytest.mark.parametrize("common", [False, True])
def test_a_search_finds_matches_past_each_status_window(corpus, editor, labels, small_cap, monkeypatch, common):  # noqa: F811
    """Past its window a status group's older matches come from the GIN index: pages and ``n`` are complete."""
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    if common:
        monkeypatch.setattr(selectors, "SURELY_COMMON", 0)
    for filters in [{"q": "story"}, {"q": "chip"}, {"q": "chip", "source": corpus[0].source}, {"q": "other"}]:
        full = list(article_queue(user=editor, **filters).values_list("pk", flat=True))
        assert paged(editor, **filters) == full, filters
        for current in [*[article.pk for article in corpus][::4], 10**9]:
            assert next_in_queue(user=editor, current=current, **filters) == walked(
                user=editor, current=current, **filters
            ), (filters, current)


def test_a_search_matching_1500_articles_finds_one_past_the_old_window(editor):
    """Issue 13: in progress comes first in the queue; its newest 1,000 articles lack the word and its oldest has
    it, while 1,500 new articles match. The search used to look at the newest 1,000 of each status only."""
    day = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def add(n: int, *, title: str, status: str, since: dt.datetime) -> None:
        rows = [(f"{title} {i}", since - dt.timedelta(minutes=i)) for i in range(n)]
        Article.objects.bulk_create(
            Article(title=t, body=t, body_sha256=body_sha256(t), status=status, published_at=at) for t, at in rows
        )

    add(1500, title="Corvane ships", status=Article.Status.NEW, since=day)
    add(selectors.SEARCH_WINDOW, title="Filler", status=Article.Status.IN_ANNOTATION, since=day)
    old = ArticleFactory(
        title="Corvane in the archive", status=Article.Status.IN_ANNOTATION, published_at=day.replace(year=2020)
    )
    page = queue_page(user=editor, q="Corv")
    assert str(page.total) == "1,000+" and page.ids[0] == old.pk
    assert page.ids[1:] == list(
        Article.objects.filter(status=Article.Status.NEW)
        .order_by("-published_at", "-id")
        .values_list("pk", flat=True)[:49]
    )
    newest_new = page.ids[1]
    assert next_in_queue(user=editor, current=newest_new, q="Corv") == page.ids[2]
    assert next_in_queue(user=editor, current=10**9, q="Corv") == old.pk


def test_page_queries_do_not_grow_with_matches(editor, small_cap, monkeypatch):
    """Past the cap a searched page is three queries (the planner's estimate, capped ids, one walk); below it four
    (estimate, ids, counts, page); a word the statistics call common skips the ids (``SURELY_COMMON``)."""
    for n in range(8):
        ArticleFactory(title=f"Chip {n}")
    with CaptureQueriesContext(connection) as eight:
        queue_page(user=editor, q="chip")
    for n in range(30):
        ArticleFactory(title=f"Chip more {n}")
    with CaptureQueriesContext(connection) as many:
        queue_page(user=editor, q="chip")
    assert len(eight) == len(many) == 3
    with CaptureQueriesContext(connection) as few:
        queue_page(user=editor, q="more 3")
    assert len(few) == 4
    monkeypatch.setattr(selectors, "SURELY_COMMON", 1)
    with CaptureQueriesContext(connection) as common:
        page = queue_page(user=editor, q="chip")
    assert len(common) == 2 and str(page.total) == "5+" and len(page.ids) == 7


def _plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        # A few rows: show what PostgreSQL uses at scale, where reading or sorting a whole table costs more.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_reads_gin_for_the_capped_ids_and_walks_the_queue_index_past_the_cap(editor, small_cap):
    for n in range(12):
        ArticleFactory(title=f"Chip {n}", status=Article.Status.NEW)
    with CaptureQueriesContext(connection) as captured:
        queue_page(user=editor, q="chip")
    estimate, probe, walk = (query["sql"] for query in captured.captured_queries)
    assert estimate.startswith("EXPLAIN")
    assert "to_tsvector" not in probe + walk  # the stored vector, never recomputed
    assert "LIMIT 6" in probe  # COUNT_CAP + 1: the count stops there
    assert "Bitmap Index Scan on article_search_document_gin" in _plan(probe)
    plan = _plan(walk)
    # Each status group walks the queue-order index inside its window; the match is a filter above the window's
    # LIMIT (a Subquery Scan), so the walk stops at the page's end and never sorts every match.
    assert plan.count("Index Scan using article_status_queue_order_idx") >= 4, plan
    assert plan.count("Filter: (window_rows") == 4 and "Sort Key: (COALESCE" not in plan, plan
    for window in plan.split("Subquery Scan on window_rows")[1:]:
        assert window.split("\n")[1].strip().startswith("Filter:") and "->  Limit" in window.split("\n")[2], plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT procost FROM pg_proc WHERE proname = 'ts_match_vq'")
        assert cursor.fetchone()[0] == 1000  # articles 0006: the planner knows a match reads a vector


@pytest.mark.parametrize("capped", [False, True, "common"])
def test_next_agrees_with_the_queue_below_and_above_the_cap(corpus, editor, labels, capped, request, monkeypatch):  # noqa: F811
    if capped:
        request.getfixturevalue("small_cap")
    if capped == "common":
        monkeypatch.setattr(selectors, "SURELY_COMMON", 0)
    currents = [*[article.pk for article in corpus][::3], 10**9]
    for filters in [{"q": "chip"}, {"q": "chip", "mine": True}, {"q": "zzyzxq"}, {"q": "story 1"}]:
        for current in currents:
            assert next_in_queue(user=editor, current=current, **filters) == walked(
                user=editor, current=current, **filters
            ), (filters, current)


def test_next_with_a_rare_word_reads_no_vector_in_its_walks(corpus, editor):  # noqa: F811
    with CaptureQueriesContext(connection) as captured:
        assert next_in_queue(user=editor, current=corpus[0].pk, q="zzyzxq") is None
    assert len(captured) == 2  # the estimate, the ids: none in the queue, so no walk at all
    with CaptureQueriesContext(connection) as captured:
        next_in_queue(user=editor, current=corpus[0].pk, q="chip")
    _, probe, walks = (query["sql"] for query in captured.captured_queries)
    assert "search_document" in probe and "search_document" not in walks


def _more_articles(n: int) -> None:
    """``n`` more queue articles in one INSERT (the workspace must not notice how many)."""
    start = Article.objects.count()
    bodies = [f"Filler body {start + i}." for i in range(n)]
    Article.objects.bulk_create(Article(title="Filler", body=body, body_sha256=body_sha256(body)) for body in bodies)


def test_workspace_shows_n_of_n_from_the_queue_link_and_n_advances_it(editor_client):
    """Issue 14's "n of N": the queue page writes each row's place and its (capped) total into the link; the
    workspace reads them, ``n`` carries the next place. Nothing is counted on a workspace load."""
    for n in range(55):
        ArticleFactory(title=f"Story {n:02}")
    page = editor_client.get(QUEUE, {"page": 2, "status": "new"}).content
    links = [a.get("href") for a in select(page, "table.articles td:first-child a")]
    assert len(links) == 5 and links[0].endswith("status=new&page=2&at=51&of=55")
    workspace = editor_client.get(links[2]).content
    assert text(one(workspace, "#ws-queue-position")) == "Article 53 of 55 in your queue"
    following = editor_client.get(one(workspace, "#ws-next").get("href"))
    assert following.status_code == 302 and following["Location"].endswith("status=new&page=2&at=54&of=55")
    opened = editor_client.get(following["Location"]).content
    assert text(one(opened, "#ws-queue-position")) == "Article 54 of 55 in your queue"
    # Past an exactly counted end, n wraps to the top as next_in_queue does.
    last = editor_client.get(reverse("annotations:article-next", args=[Article.objects.first().pk]) + "?at=55&of=55")
    assert last["Location"].endswith("at=1&of=55")


def test_workspace_position_says_plus_past_the_cap_and_ignores_nonsense(editor_client):
    article, _ = ArticleFactory(), ArticleFactory()
    url = reverse("annotations:article-annotate", args=[article.pk])
    html = editor_client.get(url, {"at": "1200", "of": "1000+"}).content
    assert text(one(html, "#ws-queue-position")) == "Article 1,200 of 1,000+ in your queue"
    following = editor_client.get(one(html, "#ws-next").get("href"))
    assert following["Location"].endswith("at=1201&of=1000%2B")
    for at, of in [("0", "5"), ("6", "5"), ("x", "5"), ("1", "-5"), ("1", ""), ("1", "5 OR 1")]:
        assert not select(editor_client.get(url, {"at": at, "of": of}).content, "#ws-queue-position"), (at, of)


def test_workspace_queries_are_the_same_with_10_and_1000_articles_in_the_queue(editor_client):
    article = ArticleFactory()
    _more_articles(9)
    url = reverse("annotations:article-annotate", args=[article.pk]) + "?q=filler&at=3&of=10"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            html = editor_client.get(url).content
        assert text(one(html, "#ws-queue-position")) == "Article 3 of 10 in your queue"
        return len(captured)

    queries()  # the first load claims a slot
    ten = queries()
    _more_articles(990)
    assert queries() == ten
