"""What an attacker or a careless client can do to spans through the workspace, and what they get back.

Each case posts as the page's JavaScript would (htmx), or as a client that skips the page's checks; the answer
is a 4xx with a sentence in the page's error region, or the one outcome a retry must not change.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from annotations.models import Span
from annotations.spans.services import SpanSnapshot
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
    from django.core.exceptions import ValidationError

    from annotations.spans.services import span_update

    article = ArticleFactory(body=BODY)
    span = SpanFactory(article=article, label=labels["person"], start=4, end=7, annotator=editor)
    with pytest.raises(ValidationError, match="inside the character"):
        span_update(span=span, actor=editor, end=5)
    span.refresh_from_db()
    assert (span.start, span.end) == (4, 7)


def test_restoring_a_span_that_would_split_a_character_is_refused(editor, labels):
    """A snapshot (undo, the admin's restore) is checked like a new span: a body edited since cannot hold it."""
    from django.core.exceptions import ValidationError

    from annotations.spans.services import span_bring_back

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
