"""The CLI import leaves full-text vectors to a job that runs after its commit; every other writer stores them at
once (articles 0007's trigger, ``articles.indexing``)."""

import json

import pytest
from django.core.management import CommandError
from django.db import connection, transaction
from django.urls import reverse

from annotations.models import ArticleEvent
from articles.indexing import search_deferred, search_fill, search_fill_pending, search_pending_count
from articles.models import SEARCH_DOCUMENT_SQL, Article
from articles.services import article_create, article_update
from tests.commands import run_command
from tests.factories import ArticleFactory
from tests.jobs import run_queued

pytestmark = pytest.mark.django_db

QUEUE = reverse("annotations:article-list")
EXPECTED = "'corvan':1A 'els':4B 'noth':3B 'ship':2A"


def vector(pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_document::text FROM articles_article WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def queue_titles(client, q: str) -> list[str]:
    response = client.get(QUEUE, {"q": q})
    assert response.status_code == 200
    return [article.title for article, _ in response.context["rows"]]


def import_file(tmp_path, *titles: str) -> None:
    rows = [{"title": t, "body": f"Nothing else about {n}."} for n, t in enumerate(titles)]
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_command("import_articles", path)


def test_the_import_stores_no_vector_and_the_queued_job_fills_it(tmp_path, editor_client):
    import_file(tmp_path, "Corvane ships", "Larchfield opens")
    article = Article.objects.get(title="Corvane ships")
    assert vector(article.pk) is None
    assert search_pending_count() == 2
    # In the queue at once, not found by search until the job has run.
    assert "Corvane ships" in queue_titles(editor_client, "")
    assert queue_titles(editor_client, "Corv") == []
    events = ArticleEvent.objects.count()
    assert run_queued(search_fill) == 1
    assert vector(article.pk) == "'0':6B 'corvan':1A 'els':4B 'noth':3B 'ship':2A"
    assert search_pending_count() == 0
    assert queue_titles(editor_client, "Corv") == ["Corvane ships"]
    # Filling the vector is no change of the article: its history holds the import's insert only.
    assert ArticleEvent.objects.count() == events
    assert list(ArticleEvent.objects.filter(pgh_obj_id=article.pk).values_list("pgh_label", flat=True)) == ["insert"]


def test_the_job_computes_what_the_trigger_computes_for_other_writers(tmp_path):
    import_file(tmp_path, "Corvane ships")
    imported = Article.objects.get()
    run_queued(search_fill)
    direct = ArticleFactory(title="Corvane ships", body=imported.body + " ")
    assert vector(imported.pk) == vector(direct.pk)


def test_a_dry_run_queues_nothing(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "One", "body": "Text."}) + "\n", encoding="utf-8")
    run_command("import_articles", path, "--dry-run")
    assert run_queued(search_fill) == 0


def test_other_writers_store_the_vector_at_once():
    factory = ArticleFactory(title="Corvane ships", body="Nothing else.")
    assert vector(factory.pk) == EXPECTED
    created = article_create(title="Corvane ships", body="Nothing else!")
    assert vector(created.pk) == EXPECTED
    article_update(article=created, title="Larchfield")
    assert vector(created.pk) == "'els':3B 'larchfield':1A 'noth':2B"
    assert search_pending_count() == 0


def test_nobody_stores_a_vector_that_is_not_the_texts():
    article = ArticleFactory(title="Corvane ships", body="Nothing else.")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET search_document = 'forged'::tsvector WHERE id = %s", [article.pk])
    assert vector(article.pk) == EXPECTED
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO articles_article (title, body, body_sha256, byline, language, status, imported_at, "
            "metadata, search_document) VALUES ('Corvane ships', 'x', encode(sha256('x'), 'hex'), '', '', 'new', "
            "now(), '{}', 'forged') RETURNING id"
        )
        pk = cursor.fetchone()[0]
    assert vector(pk) == "'corvan':1A 'ship':2A 'x':3B"


def test_deferring_lasts_for_the_block_only():
    with transaction.atomic():
        with search_deferred():
            deferred = ArticleFactory(title="Corvane ships", body="Nothing else.")
        assert vector(deferred.pk) is None
        after = ArticleFactory(title="Corvane ships", body="Nothing else!")
        assert vector(after.pk) == EXPECTED
    # An edit of a pending article's text computes its vector too.
    article_update(article=deferred, title="Corvane ships again")
    assert vector(deferred.pk) is not None
    assert search_fill_pending() == 0


def test_the_import_refuses_a_text_the_vector_cannot_hold(tmp_path):
    # article_text_problem checks the vector's expression before the COPY, though the import stores none.
    body = " ".join("q" + "".join(chr(97 + n // 26**k % 26) for k in range(5)) for n in range(140_000))
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "Rich", "body": body}) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="too many distinct words"):
        run_command("import_articles", path)
    assert not Article.objects.exists()


def test_the_trigger_computes_the_expression_the_import_checks_texts_against():
    article = ArticleFactory(title="Corvane ships chiplets", body="Tomatoes need sun; chiplets do not.")
    expression = SEARCH_DOCUMENT_SQL.format(title="%s::text", body="%s::text")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({expression})::text", [article.title, article.body])
        assert vector(article.pk) == cursor.fetchone()[0]


def _migrate(target=None):
    """To ``target``, or to the latest migration of every app (None)."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_keeps_the_stored_vectors():
    _migrate(("articles", "0007_article_language_idx"))
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO articles_article (title, body, body_sha256, byline, language, status, imported_at, "
                "metadata) VALUES ('Corvane ships', 'Nothing else.', encode(sha256('Nothing else.'), 'hex'), '', '', "
                "'new', now(), '{}') RETURNING id, search_document::text"
            )
            pk, generated = cursor.fetchone()
        assert generated == EXPECTED
    finally:
        _migrate(("articles", "0008_search_document_trigger"))
    try:
        assert vector(pk) == EXPECTED
        assert search_pending_count() == 0
        Article.objects.filter(pk=pk).update(title="Larchfield")
        assert vector(pk) == "'els':3B 'larchfield':1A 'noth':2B"
    finally:
        # Going back to articles 0007 also unapplied the annotations migrations after it: the tests that follow
        # need every app's latest schema (the drawings' revisions of annotations 0032, say).
        _migrate()
