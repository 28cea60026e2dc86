"""What an attacker or a careless client can do to spans through the workspace, and what they get back.

Each case posts as the page's JavaScript would (htmx), or as a client that skips the page's checks; the answer
is a 4xx with a sentence in the page's error region, or the one outcome a retry must not change.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from annotations.models import Span
from annotations.spans.services import SpanSnapshot, span_bring_back, span_update
from tests.factories import ArticleFactory, SpanFactory
from tests.html import one, text
from tests.workspace import HX, url

CODER = "\U0001f469\u200d\U0001f4bb"  # 👩‍💻
FLAG = "\U0001f1eb\U0001f1f7"  # 🇫🇷
BODY = f"The {CODER} coder flew {FLAG} to Paris; cafe\u0301 au lait.   Then home."

pytestmark = pytest.mark.django_db


def error_of(response) -> str:
    return text(one(response.content.decode(), "#ws-error"))


# (what the client sends, selected code points of BODY, what the editor is told)
SPLIT_OR_BLANK = [
    ("the woman without her ZWJ and laptop", (4, 5), "ends inside the character"),
    ("a lone ZWJ inside the coder emoji", (5, 6), "starts inside the character"),
    ("half a flag", (BODY.index(FLAG), BODY.index(FLAG) + 1), "ends inside the character"),
    ("a base letter without its combining mark", (BODY.index("cafe"), BODY.index("cafe") + 4), "ends inside"),
    ("a combining mark alone", (BODY.index("\u0301"), BODY.index("\u0301") + 1), "starts inside"),
    ("only whitespace", (BODY.index("   "), BODY.index("   ") + 3), "only whitespace"),
]


@pytest.mark.parametrize(("case", "offsets", "told"), SPLIT_OR_BLANK, ids=[case for case, _, _ in SPLIT_OR_BLANK])
def test_create_that_splits_a_character_or_holds_only_space_is_refused(editor_client, labels, case, offsets, told):
    article = ArticleFactory(body=BODY)
    start, end = offsets
    data = {"label": labels["person"].pk, "start": start, "end": end, "text": BODY[start:end]}
    response = editor_client.post(url("span-create", article), data, headers=HX)
    assert response.status_code == 422
    assert told in error_of(response)
    assert not Span.objects.exists()


def test_whole_characters_are_accepted(editor_client, labels):
    article = ArticleFactory(body=BODY)
    data = {"label": labels["person"].pk, "start": 4, "end": 7, "text": CODER}
    assert editor_client.post(url("span-create", article), data, headers=HX).status_code == 200
    assert Span.objects.get().text == CODER


def test_adjusting_a_span_to_split_a_character_is_refused(editor, labels):
    article = ArticleFactory(body=BODY)
    span = SpanFactory(article=article, label=labels["person"], start=4, end=7, annotator=editor)
    with pytest.raises(ValidationError, match="inside the character"):
        span_update(span=span, actor=editor, end=5)
    span.refresh_from_db()
    assert (span.start, span.end) == (4, 7)


def test_restoring_a_span_that_would_split_a_character_is_refused(editor, labels):
    """A snapshot (undo, the admin's restore) is checked like a new span: a body edited since cannot hold it."""
    article = ArticleFactory(body=BODY)
    snapshot = SpanSnapshot(
        id=999_999,
        article_id=article.pk,
        label_id=labels["person"].pk,
        start=5,
        end=7,
        text=BODY[5:7],
        annotator_id=editor.pk,
    )
    with pytest.raises(ValidationError, match="starts inside the character"):
        span_bring_back(snapshot=snapshot, actor=editor)
    assert not Span.objects.exists()


def _race(posts, *, users):
    """Send the posts at once, each from its own client and connection (as gunicorn workers would)."""
    barrier = threading.Barrier(len(posts))
    responses: list = [None] * len(posts)

    def send(n, path, data, user):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        barrier.wait()
        try:
            responses[n] = client.post(path, data, headers=HX)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(n, path, data, users[n % len(users)]))
        for n, (path, data) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_relabels_racing_into_the_same_label_get_one_clear_refusal(editor, labels):
    """Two spans on the same words, each relabelled to the same label at once (two tabs): one wins, one is told."""
    article = ArticleFactory(body="Larchfield Systems ships the chip in May.")
    for _trial in range(6):
        Span.objects.all().delete()
        person = SpanFactory(article=article, label=labels["person"], start=0, end=10, annotator=editor)
        org = SpanFactory(article=article, label=labels["org"], start=0, end=10, annotator=editor)
        path = url("span-relabel", article)
        target = labels["sponsored"].pk
        responses = _race(
            [(path, {"span": person.pk, "label": target}), (path, {"span": org.pk, "label": target})], users=[editor]
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.content[:300] for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert "already has an identical span" in error_of(refused)
        assert sorted(Span.objects.values_list("label__slug", flat=True)) == sorted(
            ["sponsored", next(s for s in ("person", "org") if Span.objects.filter(label__slug=s).exists())]
        )


# Undo and retries: a history per editor and article in the database, and one outcome per idempotency key.


def undo(client, article, **headers):
    return client.post(url("article-undo", article), headers=HX | headers)


def message_of(response) -> str:
    return text(one(response.content.decode(), "#ws-message"))


def test_a_replayed_create_is_not_recorded_so_ctrl_z_keeps_a_span_made_before(editor_client, editor, labels):
    article = ArticleFactory(body="Mara Okonkwo spoke.")
    kept = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    assert editor_client.post(url("span-create", article), data, headers=HX).status_code == 200
    response = undo(editor_client, article)
    assert response.status_code == 200
    assert message_of(response) == "Nothing to undo on this article."
    assert Span.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_parallel_creates_in_one_session_are_all_undoable(editor, labels):
    words = [f"w{n:02d}" for n in range(20)]
    article = ArticleFactory(body=" ".join(words))
    client = Client()
    client.force_login(editor)
    cookie = client.cookies

    barrier = threading.Barrier(len(words))
    statuses = []

    def send(word):
        tab = Client()
        tab.cookies = cookie  # one browser session, twenty requests in flight
        start = article.body.index(word)
        data = {"label": labels["org"].pk, "start": start, "end": start + 3, "text": word}
        barrier.wait()
        try:
            statuses.append(tab.post(url("span-create", article), data, headers=HX).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(word,)) for word in words]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    for _ in words:
        assert undo(client, article).status_code == 200
    assert not Span.objects.exists()
    assert message_of(undo(client, article)) == "Nothing to undo on this article."


def test_undo_history_survives_a_new_session_of_the_same_editor(editor, labels):
    article = ArticleFactory(body="Quillix OS agreed.")
    first, second = Client(), Client()
    first.force_login(editor)
    data = {"label": labels["org"].pk, "start": 0, "end": 10, "text": "Quillix OS"}
    assert first.post(url("span-create", article), data, headers=HX).status_code == 200
    second.force_login(editor)  # another browser, another session
    response = undo(second, article)
    assert message_of(response) == "Removed ORG “Quillix OS”."
    assert not Span.objects.exists()


def test_another_editor_does_not_share_the_history(editor, other_editor, labels):
    article = ArticleFactory(body="Quillix OS agreed.")
    mine, theirs = Client(), Client()
    mine.force_login(editor)
    theirs.force_login(other_editor)
    data = {"label": labels["org"].pk, "start": 0, "end": 10, "text": "Quillix OS"}
    assert mine.post(url("span-create", article), data, headers=HX).status_code == 200
    assert message_of(undo(theirs, article)) == "Nothing to undo on this article."
    assert Span.objects.count() == 1


def test_a_retried_delete_gets_the_first_answer_not_span_gone(editor, labels):
    """The answer to a delete was lost in the network; the page retries with the same key from another worker."""
    article = ArticleFactory(body="Quillix OS agreed.")
    span = SpanFactory(article=article, label=labels["org"], start=0, end=10, annotator=editor)
    first, retry = Client(), Client()
    first.force_login(editor)
    retry.force_login(editor)
    key = {"Idempotency-Key": "c0ffee00-0000-4000-8000-000000000001"}
    one_answer = first.post(url("span-delete", article), {"span": span.pk}, headers=HX | key)
    again = retry.post(url("span-delete", article), {"span": span.pk}, headers=HX | key)
    assert (one_answer.status_code, again.status_code) == (200, 200)
    assert message_of(again) == message_of(one_answer) == "Deleted ORG “Quillix OS”."
    assert again["Idempotent-Replay"] == "true"


def test_a_retried_undo_undoes_once(editor_client, labels):
    article = ArticleFactory(body="Mara Okonkwo of Larchfield Systems.")
    for word, label in (("Mara Okonkwo", "person"), ("Larchfield Systems", "org")):
        start = article.body.index(word)
        data = {"label": labels[label].pk, "start": start, "end": start + len(word), "text": word}
        assert editor_client.post(url("span-create", article), data, headers=HX).status_code == 200
    key = {"Idempotency-Key": "retry-undo-1"}
    assert message_of(undo(editor_client, article, **key)) == "Removed ORG “Larchfield Systems”."
    assert message_of(undo(editor_client, article, **key)) == "Removed ORG “Larchfield Systems”."
    assert list(Span.objects.values_list("text", flat=True)) == ["Mara Okonkwo"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_key_sent_twice_at_once_is_applied_once(editor, labels):
    article = ArticleFactory(body="Quillix OS agreed, said Mara.")
    data = {"label": labels["org"].pk, "start": 0, "end": 10, "text": "Quillix OS"}
    key = {"Idempotency-Key": "same-click-twice"}
    posts = [(url("span-create", article), data)] * 2
    barrier = threading.Barrier(2)
    statuses = []

    def send(path, payload):
        client = Client(raise_request_exception=False)
        client.force_login(editor)
        barrier.wait()
        try:
            statuses.append(client.post(path, payload, headers=HX | key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=post) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    client = Client()
    client.force_login(editor)
    assert message_of(undo(client, article)) == "Removed ORG “Quillix OS”."
    assert message_of(undo(client, article)) == "Nothing to undo on this article."


def test_a_key_reused_for_a_different_request_is_refused(editor_client, labels):
    article = ArticleFactory(body="Quillix OS agreed, said Mara.")
    key = {"Idempotency-Key": "reused"}
    data = {"label": labels["org"].pk, "start": 0, "end": 10, "text": "Quillix OS"}
    assert editor_client.post(url("span-create", article), data, headers=HX | key).status_code == 200
    other = {"label": labels["person"].pk, "start": 24, "end": 28, "text": "Mara"}
    response = editor_client.post(url("span-create", article), other, headers=HX | key)
    assert response.status_code == 422
    assert "already used for another change" in error_of(response)
    assert Span.objects.count() == 1


def test_a_malformed_key_is_refused(editor_client, labels):
    article = ArticleFactory(body="Quillix OS agreed.")
    data = {"label": labels["org"].pk, "start": 0, "end": 10, "text": "Quillix OS"}
    response = editor_client.post(url("span-create", article), data, headers=HX | {"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)
    assert not Span.objects.exists()


# After a lost answer the page asks what was saved (static/js/requests.js); the key makes the answer exact.


def check(client, article, key):
    return client.get(url("article-write-check", article), headers=HX | {"Idempotency-Key": key})


def test_a_lost_answer_to_a_saved_write_is_reported_saved_and_the_page_redrawn(editor, labels):
    article = ArticleFactory(body="Quillix OS agreed.")
    span = SpanFactory(article=article, label=labels["org"], start=0, end=10, annotator=editor)
    worker, other_worker = Client(), Client()
    worker.force_login(editor)
    other_worker.force_login(editor)
    key = {"Idempotency-Key": "lost-answer-1"}
    assert worker.post(url("span-delete", article), {"span": span.pk}, headers=HX | key).status_code == 200
    response = check(other_worker, article, "lost-answer-1")
    assert response.status_code == 200 and response["Write-Saved"] == "yes"
    assert message_of(response) == "Your change was saved: Deleted ORG “Quillix OS”."
    assert "Quillix OS" not in text(one(response.content.decode(), "#ws-panel"))


def test_a_write_never_saved_is_reported_and_its_late_copy_is_not_applied(editor_client, labels):
    article = ArticleFactory(body="Quillix OS agreed.")
    response = check(editor_client, article, "never-arrived")
    assert response["Write-Saved"] == "no"
    assert error_of(response) == "Your change was not saved; nothing was changed. Try again."
    data = {"label": labels["org"].pk, "start": 0, "end": 10, "text": "Quillix OS"}
    late = editor_client.post(url("span-create", article), data, headers=HX | {"Idempotency-Key": "never-arrived"})
    assert late.status_code == 410
    assert "not saved" in error_of(late)
    assert not Span.objects.exists()


def test_a_write_that_failed_is_reported_not_saved(editor_client, labels):
    article = ArticleFactory(body="Quillix OS agreed.")
    key = {"Idempotency-Key": "refused-1"}
    data = {"label": labels["org"].pk, "start": 0, "end": 3, "text": "Qui"}  # fine; then a refused one
    bad = {"label": labels["org"].pk, "start": 10, "end": 11, "text": " "}
    assert editor_client.post(url("span-create", article), bad, headers=HX | key).status_code == 422
    assert check(editor_client, article, "refused-1")["Write-Saved"] == "no"
    assert editor_client.post(url("span-create", article), data, headers=HX).status_code == 200
