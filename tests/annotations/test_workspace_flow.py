"""Article status, next article, and concurrent editors on the workspace (undo: ``test_undo.py``)."""

import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import Assignment, Span
from articles.models import Article
from tests.concurrency import in_parallel
from tests.factories import ArticleFactory, SourceFactory, SpanFactory
from tests.html import one, parse, select, text
from tests.workspace import HX, url

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May, and Quillix OS agreed."


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


# Status and next ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mark_done_and_reopen_are_the_editors_own(editor_client, editor, other_editor, article):
    """k = 2: my Done is mine; the article is ready for review only when the second editor is done too."""
    editor_client.get(url("article-annotate", article))
    response = editor_client.post(url("article-status", article), {"status": "done"}, headers=HX)
    assert response.status_code == 200
    status = one(parse(response.content), "#ws-status")
    assert "Reopen" in text(one(status, "button"))
    assert text(one(status, ".status")) == "Done"
    assert "1 of 2 editors done" in text(one(status, ".article-status"))
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION
    theirs = Client()
    theirs.force_login(other_editor)
    theirs.get(url("article-annotate", article))
    page = parse(theirs.get(url("article-annotate", article)).content)
    assert text(one(page, "#ws-status .status")) == "Not started"  # my Done is not theirs
    theirs.post(url("article-status", article), {"status": "done"}, headers=HX)
    article.refresh_from_db()
    assert article.status == Article.Status.READY_FOR_REVIEW
    queue = parse(editor_client.get(reverse("annotations:article-list")).content)
    assert [text(badge) for badge in select(queue, "td .status-ready_for_review")] == ["Ready for review"]
    editor_client.post(url("article-status", article), {"status": "reopen"}, headers=HX)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION
    assert Assignment.objects.get(article=article, user=editor).done_at is None


@pytest.mark.django_db
def test_status_refusals(editor_client, client, reviewer, article):
    editor_client.get(url("article-annotate", article))
    response = editor_client.post(url("article-status", article), {"status": "reviewed"}, headers=HX)
    assert response.status_code == 422
    assert "mark an article done or reopen it" in response.content.decode()
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    response = editor_client.post(url("article-status", article), {"status": "reopen"}, headers=HX)
    assert response.status_code == 403
    assert "Only a reviewer can send it back" in response.content.decode()
    response = editor_client.post(url("article-status", article), {"status": "done"}, headers=HX)
    assert response.status_code == 422
    assert "has been reviewed" in response.content.decode() and "changes nothing" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED
    client.force_login(reviewer)
    assert client.post(url("article-status", article), {"status": "reopen"}, headers=HX).status_code == 200
    article.refresh_from_db()
    assert article.status == Article.Status.NEW  # sent back; nobody has started it


@pytest.mark.django_db
def test_plain_status_post_redirects_with_the_queue_filters(editor_client, article):
    editor_client.get(url("article-annotate", article))
    response = editor_client.post(url("article-status", article) + "?status=new", {"status": "done"})
    assert response.status_code == 302
    assert response["Location"] == url("article-annotate", article) + "?status=new"


@pytest.fixture
def queue(db, editor):
    """Five articles whose queue order is c, a, b, d, e (c is assigned; d is done; e reviewed)."""
    feed = SourceFactory(name="Feed")
    made = {}
    for n, (name, status) in enumerate(
        [("a", "new"), ("b", "new"), ("c", "new"), ("d", "ready_for_review"), ("e", "reviewed")]
    ):
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_editors_and_a_double_submit_lose_nothing_and_store_one(editor, other_editor, labels):
    article = ArticleFactory(body=BODY)
    mine, theirs, again = Client(), Client(), Client()
    mine.force_login(editor)
    again.force_login(editor)
    theirs.force_login(other_editor)
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    other = {"label": labels["org"].pk, "start": 16, "end": 34, "text": "Larchfield Systems"}
    responses = in_parallel(
        lambda: mine.post(url("span-create", article), data, headers=HX),
        lambda: again.post(url("span-create", article), data, headers=HX),
        lambda: theirs.post(url("span-create", article), data, headers=HX),
        lambda: theirs.post(url("span-create", article), other, headers=HX),
    )
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    stored = sorted(Span.objects.values_list("annotator__username", "label__slug", "start", "end"))
    assert stored == [("ed", "person", 0, 12), ("ed2", "org", 16, 34), ("ed2", "person", 0, 12)]
