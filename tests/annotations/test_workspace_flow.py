"""Undo, article status, next article, and concurrent editors on the workspace."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from annotations.models import Assignment, Span
from annotations.services import UNDO_DEPTH, span_undo, undo_record
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory

HX = {"HX-Request": "true"}
BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May, and Quillix OS agreed."


def url(name, article, *args):
    return reverse(f"annotations:{name}", args=[article.pk, *args])


def create(client, article, label, selected):
    start = article.body.index(selected)
    data = {"label": label.pk, "start": start, "end": start + len(selected), "text": selected}
    response = client.post(url("span-create", article), data, headers=HX)
    assert response.status_code == 200, response.content
    return Span.objects.get(article=article, label=label, start=start, end=start + len(selected))


def undo(client, article):
    response = client.post(url("article-undo", article), headers=HX)
    assert response.status_code == 200, response.content
    return response.content.decode()


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


# Undo -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_undo_create_delete_and_relabel_in_reverse_order(editor_client, article, labels):
    person = create(editor_client, article, labels["person"], "Mara Okonkwo")
    editor_client.post(url("span-relabel", article), {"span": person.pk, "label": labels["org"].pk}, headers=HX)
    editor_client.post(url("span-details", article), {"span": person.pk, "note": "kept"}, headers=HX)
    editor_client.post(url("span-delete", article), {"span": person.pk}, headers=HX)
    assert not Span.objects.exists()

    html = undo(editor_client, article)  # the delete: the span comes back, note and all
    restored = Span.objects.get()
    assert (restored.label, restored.start, restored.end, restored.note) == (labels["org"], 0, 12, "kept")
    assert "Restored ORG “Mara Okonkwo”." in html
    assert f'data-spans="{restored.pk}"' in html

    html = undo(editor_client, article)  # the relabel, on the restored row despite its new id
    restored.refresh_from_db()
    assert restored.label == labels["person"]
    assert "back from ORG to PERSON" in html

    html = undo(editor_client, article)  # the create
    assert not Span.objects.exists()
    assert "disabled>Undo <kbd>Ctrl+Z</kbd>" in html

    assert "Nothing to undo on this article." in undo(editor_client, article)


@pytest.mark.django_db
def test_undo_history_is_per_article_and_per_editor(client, editor, other_editor, labels):
    first, second = ArticleFactory(body=BODY), ArticleFactory(body=BODY + " More.")
    client.force_login(editor)
    mine_first = create(client, first, labels["person"], "Mara")
    create(client, second, labels["person"], "Mara")
    other = Client()
    other.force_login(other_editor)
    theirs = create(other, second, labels["org"], "Larchfield")

    undo(client, first)
    assert not Span.objects.filter(pk=mine_first.pk).exists()
    assert Span.objects.filter(article=second).count() == 2  # neither my span there nor theirs
    assert "Nothing to undo" in undo(client, first)
    undo(client, second)
    assert list(Span.objects.filter(article=second)) == [theirs]


@pytest.mark.django_db
def test_undo_skips_entries_whose_span_is_gone(editor_client, article, labels):
    kept = create(editor_client, article, labels["org"], "Larchfield")
    gone = create(editor_client, article, labels["person"], "Mara")
    Span.objects.filter(pk=gone.pk).delete()  # e.g. deleted from another tab, whose history is elsewhere
    undo(editor_client, article)
    assert not Span.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_undo_that_cannot_be_applied_says_why_and_moves_on(editor_client, article, labels):
    person = create(editor_client, article, labels["person"], "Mara")
    editor_client.post(url("span-delete", article), {"span": person.pk}, headers=HX)
    labels["person"].active = False
    labels["person"].save()
    response = editor_client.post(url("article-undo", article), headers=HX)
    assert response.status_code == 409
    assert "Could not undo: The label PERSON is inactive" in response.content.decode()
    assert not Span.objects.exists()
    assert editor_client.session["workspace_undo"][str(article.pk)] == [{"op": "create", "span": person.pk}]


@pytest.mark.django_db
def test_undo_history_is_bounded():
    history = []
    for n in range(UNDO_DEPTH + 10):
        undo_record(history, {"op": "create", "span": n})
    assert len(history) == UNDO_DEPTH
    assert history[0]["span"] == 10
    undo_record(history, {"op": "create", "span": UNDO_DEPTH + 9})
    assert len(history) == UNDO_DEPTH  # a repeated create is not recorded twice


@pytest.mark.django_db
def test_undo_restores_another_editors_span_for_the_reviewer_who_deleted_it(article, labels, editor, reviewer):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    client = Client()
    client.force_login(reviewer)
    client.post(url("span-delete", article), {"span": span.pk}, headers=HX)
    undo(client, article)
    assert Span.objects.get().annotator == editor


@pytest.mark.django_db
def test_span_undo_service_pops_in_place(article, labels, editor):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    history = [{"op": "create", "span": span.pk}]
    assert span_undo(article=article, actor=editor, history=history) == "Removed PERSON “Mara”."
    assert history == []
    assert span_undo(article=article, actor=editor, history=history) is None


# Status and next ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mark_done_and_reopen_show_in_the_queue(editor_client, article):
    response = editor_client.post(url("article-status", article), {"status": "done"}, headers=HX)
    assert response.status_code == 200
    assert "Reopen <kbd>d</kbd>" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.DONE
    queue = editor_client.get(reverse("annotations:article-list")).content.decode()
    assert '<span class="status status-done">Done</span>' in queue
    editor_client.post(url("article-status", article), {"status": "in_progress"}, headers=HX)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_PROGRESS


@pytest.mark.django_db
def test_status_refusals(editor_client, client, reviewer, article):
    response = editor_client.post(url("article-status", article), {"status": "reviewed"}, headers=HX)
    assert response.status_code == 422
    assert "mark an article done or reopen it" in response.content.decode()
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    response = editor_client.post(url("article-status", article), {"status": "in_progress"}, headers=HX)
    assert response.status_code == 403
    assert "only a reviewer can reopen it" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED
    client.force_login(reviewer)
    assert client.post(url("article-status", article), {"status": "in_progress"}, headers=HX).status_code == 200
    article.refresh_from_db()
    assert article.status == Article.Status.IN_PROGRESS


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
    Article.objects.filter(title__in="abc").update(status=Article.Status.DONE)
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
