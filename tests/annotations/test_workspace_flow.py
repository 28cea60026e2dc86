"""Article status, next article, and concurrent editors on the workspace (undo: ``test_undo.py``)."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from annotations.models import Assignment, Span
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory
from tests.workspace import HX, url

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May, and Quillix OS agreed."


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


# Status and next ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mark_done_and_reopen_show_in_the_queue(editor_client, article):
    response = editor_client.post(url("article-status", article), {"status": "done"}, headers=HX)
    assert response.status_code == 200
    assert "Reopen <kbd>d</kbd>" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.READY_FOR_REVIEW
    queue = editor_client.get(reverse("annotations:article-list")).content.decode()
    assert '<span class="status status-done">Done</span>' in queue
    editor_client.post(url("article-status", article), {"status": "in_annotation"}, headers=HX)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION


@pytest.mark.django_db
def test_status_refusals(editor_client, client, reviewer, article):
    response = editor_client.post(url("article-status", article), {"status": "reviewed"}, headers=HX)
    assert response.status_code == 422
    assert "mark an article done or reopen it" in response.content.decode()
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    response = editor_client.post(url("article-status", article), {"status": "in_annotation"}, headers=HX)
    assert response.status_code == 403
    assert "only a reviewer can reopen it" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED
    client.force_login(reviewer)
    assert client.post(url("article-status", article), {"status": "in_annotation"}, headers=HX).status_code == 200
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION


@pytest.mark.django_db
def test_plain_status_post_redirects_with_the_queue_filters(editor_client, article):
    response = editor_client.post(url("article-status", article) + "?status=new", {"status": "done"})
    assert response.status_code == 302
    assert response["Location"] == url("article-annotate", article) + "?status=new"


@pytest.fixture
def queue(db, editor):
    """Five articles whose queue order is c, a, b, d, e (c is assigned; d is done; e reviewed)."""
    feed = SourceFactory(name="Feed")
    made = {}
    for n, (name, status) in enumerate([("a", "new"), ("b", "new"), ("c", "new"), ("d", "done"), ("e", "reviewed")]):
        made[name] = ArticleFactory(title=name, status=status, source=feed, published_at=f"2025-01-{20 - n:02d}T00:00Z")
    Assignment.objects.create(article=made["c"], user=editor)
    return made


def next_title(client, article, query=""):
    response = client.get(url("article-next", article) + query)
    assert response.status_code == 302
    location = response["Location"]
    if location.split("?")[0] == reverse("annotations:article-list"):
        return None
    pk = int(location.split("/")[2])
    return Article.objects.get(pk=pk).title, location


@pytest.mark.django_db
def test_next_follows_the_queue_order_and_skips_finished_articles(editor_client, queue):
    assert next_title(editor_client, queue["c"])[0] == "a"
    assert next_title(editor_client, queue["a"])[0] == "b"
    assert next_title(editor_client, queue["b"])[0] == "c"  # wraps round; d and e are finished
    assert next_title(editor_client, queue["d"])[0] == "c"


@pytest.mark.django_db
def test_next_keeps_the_queue_filters(editor_client, queue, labels, editor):
    SpanFactory(article=queue["b"], label=labels["org"], start=0, end=4, annotator=editor)
    title, location = next_title(editor_client, queue["a"], "?label=org")
    assert title == "b"
    assert location.endswith("?label=org")


@pytest.mark.django_db
def test_next_with_nothing_left_goes_back_to_the_queue(editor_client, queue):
    Article.objects.filter(title__in="abc").update(status=Article.Status.READY_FOR_REVIEW)
    response = editor_client.get(url("article-next", queue["a"]) + "?status=done", follow=True)
    assert response.redirect_chain[-1][0] == reverse("annotations:article-list") + "?status=done"
    assert "No open article is left in this queue." in response.content.decode()


# Concurrency --------------------------------------------------------------------------------------------------


def _in_parallel(*calls):
    """Run each call in its own thread and database connection, started together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_editors_and_a_double_submit_lose_nothing_and_store_one(editor, other_editor, labels):
    article = ArticleFactory(body=BODY)
    mine, theirs, again = Client(), Client(), Client()
    mine.force_login(editor)
    again.force_login(editor)
    theirs.force_login(other_editor)
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    other = {"label": labels["org"].pk, "start": 16, "end": 34, "text": "Larchfield Systems"}
    responses = _in_parallel(
        lambda: mine.post(url("span-create", article), data, headers=HX),
        lambda: again.post(url("span-create", article), data, headers=HX),
        lambda: theirs.post(url("span-create", article), data, headers=HX),
        lambda: theirs.post(url("span-create", article), other, headers=HX),
    )
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    stored = sorted(Span.objects.values_list("annotator__username", "label__slug", "start", "end"))
    assert stored == [("ed", "person", 0, 12), ("ed2", "org", 16, 34), ("ed2", "person", 0, 12)]
