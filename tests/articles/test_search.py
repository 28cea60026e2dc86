"""Full-text search on the stored vector: prefixes while typing, web-search syntax, no tsquery injection."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.queue import selectors
from articles.models import Article
from articles.search import tsquery_text
from tests.factories import ArticleFactory

QUEUE = reverse("annotations:article-list")
CHANGELIST = reverse("admin:articles_article_changelist")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def queue_titles(client, q: str) -> list[str]:
    response = client.get(QUEUE, {"q": q})
    assert response.status_code == 200
    return [article.title for article, _ in response.context["rows"]]


def admin_titles(client, q: str) -> set[str]:
    response = client.get(CHANGELIST, {"q": q})
    assert response.status_code == 200
    return {article.title for article in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Corv", "'Corv':*"),
        ("chip shortage", "'chip':* & 'shortage':*"),
        ('"better stock" -analysts', "('better' <-> 'stock') & !'analysts'"),
        ("chip or memory", "('chip':* | 'memory':*)"),
        ("x", "'x'"),
        ("state-of-the-art", "('state' <-> 'of' <-> 'the' <-> 'art':*)"),
        # tsquery operators, quotes and backslashes never reach to_tsquery
        ("a & b | !c <-> (dd):* 'e' \\f", "'a' & 'b' & 'c' & 'dd':* & 'e' & 'f'"),
        ("&|!():*<->'\\", ""),
        ("", ""),
    ],
)
def test_typed_text_becomes_a_safe_prefix_query(typed, expected):
    assert tsquery_text(typed) == expected


@pytest.mark.django_db
def test_the_vector_is_stored_and_follows_edits():
    article = ArticleFactory(title="Corvane ships", body="Nothing else.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_document::text FROM articles_article WHERE id = %s", [article.pk])
        assert cursor.fetchone()[0] == "'corvan':1A 'els':4B 'noth':3B 'ship':2A"
    Article.objects.filter(pk=article.pk).update(title="Larchfield")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_document::text FROM articles_article WHERE id = %s", [article.pk])
        assert cursor.fetchone()[0] == "'els':3B 'larchfield':1A 'noth':2B"


@pytest.mark.django_db
def test_queue_finds_words_by_their_beginning_while_typing(editor_client):
    ArticleFactory(title="Corvane raises prices", body="The supplier said so.")
    ArticleFactory(title="Packaging", body="New chiplets arrive next year.")
    ArticleFactory(title="Gardening", body="Tomatoes need sun.")
    assert queue_titles(editor_client, "Corv") == ["Corvane raises prices"]
    assert queue_titles(editor_client, "corvane") == ["Corvane raises prices"]
    assert queue_titles(editor_client, "chip") == ["Packaging"]
    assert sorted(queue_titles(editor_client, "chip or tomato")) == ["Gardening", "Packaging"]
    assert queue_titles(editor_client, "chip -arrive") == []


@pytest.mark.django_db
def test_matches_keep_the_queue_order(editor_client):
    ArticleFactory(title="Memory prices", body="Corvane is mentioned here.", published_at="2025-01-01T00:00Z")
    ArticleFactory(title="Corvane results", body="Quarterly figures.", published_at="2024-01-01T00:00Z")
    ArticleFactory(
        title="Corvane older", body="Done already.", published_at="2026-01-01T00:00Z", status="ready_for_review"
    )
    assert queue_titles(editor_client, "corv") == ["Memory prices", "Corvane results", "Corvane older"]


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", ["'", "\\", "a:*b", "!!!", "(", "<->", "foo' | 'bar", "&&&&", '"', "-", "or"])
def test_tsquery_syntax_typed_into_search_is_harmless(editor_client, curator_client, hostile):
    ArticleFactory(title="Plain story", body="Nothing special.")
    assert editor_client.get(QUEUE, {"q": hostile}).status_code == 200
    assert curator_client.get(CHANGELIST, {"q": hostile}).status_code == 200


@pytest.mark.django_db
def test_admin_search_uses_prefixes_and_url_pieces(curator_client):
    ArticleFactory(title="Corvane news", url="https://wire.example/2026/corvane", body="Nothing about memory.")
    ArticleFactory(title="Other", url="https://b.example/x", body="Regulators probe the chiplets.")
    assert admin_titles(curator_client, "Corv") == {"Corvane news"}
    assert admin_titles(curator_client, "chip") == {"Other"}
    assert admin_titles(curator_client, "b.example") == {"Other"}
    assert admin_titles(curator_client, "wire.example/2026") == {"Corvane news"}


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        # A few rows: show which index would answer each condition at scale (bitmap scans only).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("ANALYZE articles_article")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_admin_search_reads_indexes_not_every_row(rf, curator):
    """The words are answered by the stored vector, the url piece by an index (at scale the trigrams,
    ``article_url_trgm``; bench/search.py shows it): no ``icontains`` over titles or bodies, no row read for it."""
    from django.contrib.admin.sites import site

    for n in range(30):
        ArticleFactory(title=f"Story {n}", body=f"Body {n} about hardware.", url=f"https://s{n}.example/a")
    model_admin = site._registry[Article]
    request = rf.get(CHANGELIST, {"q": "s1.example"})
    request.user = curator
    queryset, _ = model_admin.get_search_results(request, Article.objects.all(), "s1.example")
    sql, params = queryset.query.sql_with_params()
    plan = _plan(sql, params)
    assert "article_search_document_gin" in plan
    assert "Seq Scan" not in plan and "upper((url)::text)" in plan
    assert "title" not in sql.split("WHERE", 1)[1]


@pytest.mark.django_db
def test_queue_search_reads_the_stored_vector(editor):
    for n in range(30):
        ArticleFactory(title=f"Story {n}", body=f"Body number {n} about hardware.")
    with CaptureQueriesContext(connection) as captured:
        selectors.queue_page(user=editor, q="hardw")  # as the queue page searches
    sql = captured.captured_queries[1]["sql"]  # after the planner's estimate: the matching ids, up to the cap
    assert all("to_tsvector" not in query["sql"] for query in captured.captured_queries)  # nothing recomputed
    assert "article_search_document_gin" in _plan(sql, ())
