"""The editor's queue: filters, full-text search, assignments first, counts for the current editor, htmx paging."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.models import Assignment
from annotations.queue import selectors
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory
from tests.html import one, parse, select, text

pytestmark = pytest.mark.django_db
QUEUE = reverse("annotations:article-list")


def titles(client, query="", **headers):
    response = client.get(QUEUE + query, headers=headers)
    assert response.status_code == 200
    return [article.title for article, _ in response.context["rows"]]


def test_counts_are_the_current_editors(editor_client, editor, other_editor, labels):
    article = ArticleFactory(title="Shared")
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=other_editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=other_editor)
    response = editor_client.get(QUEUE)
    (row,) = response.context["rows"]
    assert {label.slug: n for label, n in row[1]} == {"person": 1, "org": 0, "claim": 0, "sponsored": 0}
    assert row[0].span_count == 1


def test_order_assigned_first_then_in_progress_new_done(editor_client, editor, other_editor):
    ArticleFactory(title="done", status="ready_for_review", published_at="2025-03-01T00:00Z")
    ArticleFactory(title="new-old", published_at="2025-01-01T00:00Z")
    ArticleFactory(title="new-recent", published_at="2025-02-01T00:00Z")
    ArticleFactory(title="started", status="in_annotation", published_at="2024-01-01T00:00Z")
    theirs = ArticleFactory(title="assigned-elsewhere")
    mine = ArticleFactory(title="assigned-done", status="ready_for_review", published_at="2020-01-01T00:00Z")
    Assignment.objects.create(article=mine, user=editor)
    Assignment.objects.create(article=theirs, user=other_editor)
    order = titles(editor_client)
    assert order[0] == "assigned-done"
    assert order[1:4] == ["started", "new-recent", "new-old"]
    assert order[-1] == "done"
    assert "assigned to you" in editor_client.get(QUEUE).content.decode()
    assert titles(editor_client, "?mine=on") == ["assigned-done"]


def test_filters_by_status_source_and_own_label(editor_client, editor, other_editor, labels):
    wire = SourceFactory(name="Wire")
    ArticleFactory(title="wire-new", source=wire)
    ArticleFactory(title="wire-done", source=wire, status="ready_for_review")
    other = ArticleFactory(title="elsewhere")
    mine = ArticleFactory(title="my-claim")
    SpanFactory(article=mine, label=labels["claim"], start=0, end=4, annotator=editor)
    SpanFactory(article=other, label=labels["claim"], start=0, end=4, annotator=other_editor)
    assert titles(editor_client, f"?source={wire.pk}") == ["wire-new", "wire-done"]
    assert titles(editor_client, f"?source={wire.pk}&status=ready_for_review") == ["wire-done"]
    assert titles(editor_client, "?label=claim") == ["my-claim"]


def test_unknown_filter_values_are_ignored(editor_client):
    ArticleFactory(title="still here")
    assert titles(editor_client, "?source=999999&label=nope&status=bogus") == ["still here"]


def test_full_text_search_over_title_and_body_with_stemming(editor_client):
    ArticleFactory(title="Quarterly results", body="The chips shipped late; analysts were unimpressed.")
    ArticleFactory(title="Chip shortage eases", body="Suppliers report better stock.")
    ArticleFactory(title="Gardening", body="Tomatoes need sun.")
    assert sorted(titles(editor_client, "?q=chip")) == ["Chip shortage eases", "Quarterly results"]
    assert titles(editor_client, "?q=shipping") == ["Quarterly results"]
    assert titles(editor_client, '?q="better stock"') == ["Chip shortage eases"]
    assert titles(editor_client, "?q=chip -analysts") == ["Chip shortage eases"]
    html = editor_client.get(QUEUE + "?q=tomato").content.decode()
    assert "1 article matching “tomato”" in html


def test_search_is_answered_by_the_gin_index(editor):
    for n in range(30):
        ArticleFactory(title=f"Story {n}", body=f"Body number {n} about hardware.")
    with CaptureQueriesContext(connection) as captured:
        selectors.queue_page(user=editor, q="hardware")  # after the planner's estimate: the matches, up to the cap
    sql = captured.captured_queries[1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "article_search_document_gin" in plan


def queue_queries(client, query) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(QUEUE + query).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", ["", "?q=chip&status=new", "?label=person&mine=on"])
def test_query_count_is_constant_for_5_and_50_articles(editor_client, editor, labels, query):
    def add(n):
        for _ in range(n):
            article = ArticleFactory()
            SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
            Assignment.objects.create(article=article, user=editor)

    add(5)
    five = queue_queries(editor_client, query)
    add(45)
    assert queue_queries(editor_client, query) == five


def test_htmx_paging_returns_the_table_and_keeps_filters(editor_client):
    for n in range(55):
        ArticleFactory(title=f"Paged {n}", published_at=f"2025-01-01T00:{n:02d}Z")
    response = editor_client.get(QUEUE + "?status=new&page=2", headers={"HX-Request": "true"})
    [table] = parse(response.content)  # the table region alone
    assert table.get("id") == "article-table"
    assert select(table, "form.queue-filters") == []
    assert select(table, 'a[href="?status=new&page=1"][hx-get="?status=new&page=1"]')
    assert select(table, '[hx-push-url="true"]')
    assert len(response.context["rows"]) == 5


def test_htmx_history_restore_gets_the_whole_page(editor_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert select(parse(editor_client.get(QUEUE, headers=headers).content), "html, body, form.queue-filters")


def test_filter_form_drives_the_table_through_htmx(editor_client):
    html = editor_client.get(QUEUE).content.decode()
    form = one(html, "form.queue-filters")
    assert (form.get("hx-get"), form.get("hx-target"), form.get("hx-push-url")) == ("/", "#article-table", "true")
    assert form.get("action") == "/"  # works without JavaScript too


def test_editors_open_the_workspace_with_the_queue_filters(editor_client, client, researcher):
    article = ArticleFactory(title="Linked")
    html = editor_client.get(QUEUE + "?status=new&page=1").content.decode()
    # With its place in the queue for the workspace's "Article 1 of 1 in your queue".
    assert text(one(html, f'a[href="/articles/{article.pk}/annotate/?status=new&page=1&at=1&of=1"]')) == "Linked"
    client.force_login(researcher)
    assert text(one(client.get(QUEUE).content, f'a[href="/articles/{article.pk}/"]')) == "Linked"


def test_status_badges_follow_the_article(editor_client):
    article = ArticleFactory(title="Flow")
    Article.objects.filter(pk=article.pk).update(status=Article.Status.IN_ANNOTATION)
    assert [text(badge) for badge in select(editor_client.get(QUEUE).content, "td .status-in_annotation")] == [
        "In annotation"
    ]


def test_queue_draws_progress_by_status_for_the_filtered_list(editor_client):
    from articles.models import Article
    from tests.factories import ArticleFactory

    ArticleFactory.create_batch(3)
    ArticleFactory(status=Article.Status.READY_FOR_REVIEW)
    ArticleFactory(status=Article.Status.IN_ANNOTATION, source__domain="other.example")
    response = editor_client.get("/")
    bar = {part.key: (part.count, part.width) for part in response.context["progress"]}
    assert bar == {"new": (3, 60.0), "in_annotation": (1, 20.0), "ready_for_review": (1, 20.0), "reviewed": (0, 0.0)}
    html = response.content.decode()
    done = one(html, "rect.bar-ready_for_review")
    assert (done.get("x"), done.get("width")) == ("80.000", "20.000")
    assert select(html, '[aria-label="New: 3, In annotation: 1, Ready for review: 1, Reviewed: 0"]')
    filtered = editor_client.get("/", {"status": "ready_for_review"}, headers={"HX-Request": "true"})
    assert {p.key: p.count for p in filtered.context["progress"]} == {
        "new": 0,
        "in_annotation": 0,
        "ready_for_review": 1,
        "reviewed": 0,
    }
    assert "stacked-bar" in filtered.content.decode()


def test_a_lease_counts_as_assigned_until_it_runs_out(editor_client, editor):
    """The page's query is compiled once per process: the lease is compared with the time of each request, not
    with a time kept from the first one."""
    article = ArticleFactory(title="Leased")
    slot = Assignment.objects.create(
        article=article, user=editor, explicit=False, leased_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert "assigned to you" in editor_client.get(QUEUE).content.decode()
    slot.leased_until = timezone.now()
    slot.save(update_fields=["leased_until"])
    assert "assigned to you" not in editor_client.get(QUEUE).content.decode()
