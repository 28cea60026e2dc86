"""Two web replicas (two gunicorn processes) against one database, as compose runs them behind one port.

Everything a request relies on from the one before lives in PostgreSQL: the session, the undo history, the
idempotency keys and the row locks a write takes. A person whose requests alternate between the replicas must
not notice there are two.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from annotations.models import Span
from annotations.workspace.idempotency import HEADER
from tests.factories import ArticleFactory
from tests.scale.conftest import PORT_BASE, Visitor, database_url, gunicorn, person

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BODY = "Corvane ships the Quillix accelerator to Meridian Labs in March."


@pytest.fixture(scope="module")
def replicas(django_db_setup) -> Iterator[tuple[str, str]]:
    url = database_url()
    with gunicorn(port=PORT_BASE, database_url=url) as one, gunicorn(port=PORT_BASE + 1, database_url=url) as two:
        yield one, two


def create(visitor: Visitor, base: str, article, label, word: str, key: str):
    start = article.body.index(word)
    return visitor.post(
        f"{base}/articles/{article.pk}/spans/",
        {"label": label.pk, "start": start, "end": start + len(word), "text": word},
        **{HEADER: key},
    )


def test_a_session_from_one_replica_is_valid_on_the_other(replicas, visitor):
    one, two = replicas
    person("ed", "Editors")
    visitor.login(one, "ed")
    for base in (one, two):
        page = visitor.client.get(f"{base}/")
        assert page.status_code == 200, f"{base} answered {page.status_code}"
        assert "ed" in page.text
    visitor.client.cookies.delete("sessionid")
    assert visitor.client.get(f"{two}/").status_code == 302  # without the cookie: the login page


def test_a_span_created_on_one_replica_is_undone_on_the_other(replicas, visitor, labels):
    one, two = replicas
    person("ed", "Editors")
    article = ArticleFactory(body=BODY)
    visitor.login(one, "ed")
    created = create(visitor, one, article, labels["org"], "Corvane", "create-1")
    assert created.status_code == 200, created.text[:500]
    span = Span.objects.get(article=article)
    assert span.text == "Corvane"
    page = visitor.client.get(f"{two}/articles/{article.pk}/annotate/")
    assert page.status_code == 200 and f'data-spans="{span.pk}"' in page.text

    undone = visitor.post(f"{two}/articles/{article.pk}/undo/", **{HEADER: "undo-1"})
    assert undone.status_code == 200, undone.text[:500]
    assert not Span.objects.filter(article=article).exists()
    page = visitor.client.get(f"{one}/articles/{article.pk}/annotate/")
    assert f'data-spans="{span.pk}"' not in page.text


def test_a_retry_on_the_other_replica_gets_the_first_answer(replicas, visitor, labels):
    """The proxy may send a retried write to the other replica: the idempotency key is in the database."""
    one, two = replicas
    person("ed", "Editors")
    article = ArticleFactory(body=BODY)
    visitor.login(one, "ed")
    first = create(visitor, one, article, labels["org"], "Quillix", "same-key")
    again = create(visitor, two, article, labels["org"], "Quillix", "same-key")
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replay") == "true"
    assert first.headers.get("Idempotent-Replay") is None
    assert Span.objects.filter(article=article).count() == 1


def test_two_undos_at_once_on_two_replicas_undo_two_changes_once_each(replicas, visitor, labels):
    """Undo takes the newest entry under a row lock (skipping one another request holds): two at once, one per
    replica, undo the two newest creates, neither twice and nothing else."""
    one, two = replicas
    person("ed", "Editors")
    article = ArticleFactory(body=BODY)
    visitor.login(one, "ed")
    for n, word in enumerate(["Corvane", "Quillix", "Meridian"]):
        assert create(visitor, (one, two)[n % 2], article, labels["org"], word, f"c{n}").status_code == 200
    answers: dict[str, int] = {}

    def undo(base: str) -> None:
        answers[base] = visitor.post(f"{base}/articles/{article.pk}/undo/", **{HEADER: f"u-{base[-4:]}"}).status_code

    threads = [threading.Thread(target=undo, args=(base,)) for base in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {one: 200, two: 200}
    assert list(Span.objects.filter(article=article).values_list("text", flat=True)) == ["Corvane"]
