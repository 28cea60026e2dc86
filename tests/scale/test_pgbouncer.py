"""NewsNotes through PgBouncer in transaction pooling (docs/scaling.md: PgBouncer), against Debian's pgbouncer.

PgBouncer here hands a client's transactions round-robin to its server connections (``server_round_robin``), so
whatever outlives a transaction (a prepared statement, a cursor WITH HOLD, a pg_temp function created in one
statement and called in the next) fails instead of passing by luck. Skipped, saying so, without pgbouncer
(bin/ensure-pgbouncer installs it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connections, transaction

from annotations.exports import stream_spans_csv
from annotations.exports.spans_csv import stream_spans_csv_cursor
from annotations.models import Span
from annotations.workspace.idempotency import HEADER
from newsnotes.database import parse_database_url
from tests.annotations.export_fixtures import build_corpus
from tests.factories import ArticleFactory
from tests.scale.conftest import PGBOUNCER_PORT, PORT_BASE, database_url, gunicorn, person, pgbouncer, pgbouncer_binary

pytestmark = [
    pytest.mark.skipif(pgbouncer_binary() is None, reason="pgbouncer is not installed (bin/ensure-pgbouncer)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "bouncer"]),
]

BOUNCER = "bouncer"


@pytest.fixture(scope="module")
def bouncer_port(django_db_setup) -> Iterator[int]:
    with pgbouncer(port=PGBOUNCER_PORT) as port:
        yield port


def _warm_pool(port: int, servers: int = 3) -> None:
    """Open ``servers`` server connections at once, so round-robin has several to alternate between."""
    clients = [psycopg.connect(database_url(port=port).replace("postgres://", "postgresql://")) for _ in range(servers)]
    try:
        for client in clients:
            client.execute("SELECT 1")  # opens a transaction: each client holds its own server connection
        for client in clients:
            client.commit()
    finally:
        for client in clients:
            client.close()


@pytest.fixture(scope="module", autouse=True)
def bouncer(bouncer_port) -> Iterator[str]:
    """A Django connection alias ``bouncer``: the test database through PgBouncer, set up as settings.py does
    for ``NEWSNOTES_PGBOUNCER=1``. Defined before the tests' database access is set up (they name it)."""
    config = parse_database_url(database_url(port=bouncer_port), pgbouncer=True)
    configured = connections.configure_settings({"default": dict(connections.settings["default"]), BOUNCER: config})
    connections.settings[BOUNCER] = configured[BOUNCER]
    try:
        yield BOUNCER
    finally:
        connections[BOUNCER].close()
        del connections[BOUNCER]
        del connections.settings[BOUNCER]


def test_the_pgbouncer_settings(bouncer):
    settings = connections[bouncer].settings_dict
    assert settings["ENGINE"] == "newsnotes.pgbouncer"
    assert settings["OPTIONS"]["prepare_threshold"] is None
    assert "options" not in settings["OPTIONS"]


@pytest.fixture(autouse=True)
def warm(bouncer_port) -> None:
    _warm_pool(bouncer_port)


def test_span_csv_by_copy_through_pgbouncer_is_the_direct_export(bouncer):
    """The COPY export first creates a pg_temp function, then calls it: both must run on one server connection.
    In autocommit they were two transactions, and round-robin sent the COPY where the function did not exist."""
    build_corpus()
    direct = b"".join(stream_spans_csv())
    for _ in range(3):  # each export lands on the next server connection
        assert b"".join(stream_spans_csv(Span.objects.using(bouncer).all())) == direct
    assert direct.count(b"\n") > 6


def test_span_csv_by_server_side_cursor_through_pgbouncer(bouncer):
    """A named cursor without hold, fetched from in one transaction, streams through transaction pooling."""
    build_corpus()
    direct = b"".join(stream_spans_csv())
    assert b"".join(stream_spans_csv_cursor(using=bouncer, fetch=2)) == direct


def test_iterator_uses_a_server_side_cursor_inside_a_transaction_and_none_outside(bouncer):
    for n in range(7):
        ArticleFactory(title=f"Story {n}", body=f"Body number {n} of the corpus.")
    expected = sorted(f"Story {n}" for n in range(7))
    articles = Span.objects.none().model._meta.get_field("article").related_model.objects.using(bouncer)
    with transaction.atomic(using=bouncer):
        titles = sorted(articles.values_list("title", flat=True).iterator(chunk_size=2))
        with connections[bouncer].cursor() as cursor:
            # While the loop above ran, its cursor was open on the server; now, in this transaction, it ended.
            cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '\\_django\\_curs\\_%%'")
            assert cursor.fetchone() == (0,)
    assert titles == expected
    # Outside a transaction a WITH HOLD cursor would outlive its statement on a server connection the next
    # FETCH may not reach; the rows come client-side instead, the same rows, asked for many times over (no
    # prepared statement is left behind on a server connection either).
    for _ in range(8):
        assert sorted(articles.values_list("title", flat=True).iterator(chunk_size=2)) == expected


@pytest.fixture(scope="module")
def app_through_pgbouncer(bouncer_port) -> Iterator[str]:
    url = database_url(port=bouncer_port, query="?pgbouncer=1")
    with gunicorn(port=PORT_BASE + 2, database_url=url) as base:
        yield base


def test_the_app_through_pgbouncer_creates_undoes_and_exports(app_through_pgbouncer, visitor, labels, bouncer_port):
    base = app_through_pgbouncer
    _warm_pool(bouncer_port)
    person("ed", "Editors", "Researchers")
    article = ArticleFactory(body="Corvane ships the Quillix accelerator to Meridian Labs in March.")
    visitor.login(base, "ed")
    for n, word in enumerate(["Corvane", "Quillix", "Meridian"]):
        start = article.body.index(word)
        created = visitor.post(
            f"{base}/articles/{article.pk}/spans/",
            {"label": labels["org"].pk, "start": start, "end": start + len(word), "text": word},
            **{HEADER: f"create-{n}"},
        )
        assert created.status_code == 200, created.text[:500]
    undone = visitor.post(f"{base}/articles/{article.pk}/undo/", **{HEADER: "undo-1"})
    assert undone.status_code == 200, undone.text[:500]
    assert sorted(Span.objects.filter(article=article).values_list("text", flat=True)) == ["Corvane", "Quillix"]

    direct = b"".join(stream_spans_csv())
    for _ in range(2):  # COPY, twice: a pg_temp function left on one server connection proves nothing
        csv = visitor.client.get(f"{base}/export/download", params={"format": "csv"})
        assert csv.status_code == 200
        assert csv.content == direct
    # JSONL: several queries in one read-only transaction, articles read through a server-side cursor.
    jsonl = visitor.client.get(f"{base}/export/download", params={"format": "jsonl"})
    assert jsonl.status_code == 200
    (record,) = [json.loads(line) for line in jsonl.content.decode().splitlines()]
    assert record["label"] == [[0, 7, "ORG"], [18, 25, "ORG"]]  # Meridian was undone


def test_an_import_through_pgbouncer_copies_in_binary_in_one_transaction(bouncer_port, labels, tmp_path):
    """import_articles through PgBouncer: its statements, its binary COPYs (formatted ahead in the main thread, sent
    by the writer thread on the same connection) and its slots run in one transaction, so on one server
    connection; a claim's attributes (jsonb) and the exported times (timestamptz) arrive as the file gives them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from articles.models import Article

    _warm_pool(bouncer_port)
    mara = person("mara", "Editors")
    emoji = "Team 👩🏽‍💻 says "
    rows = []
    for n in range(1, 1201):  # three batches of 500
        body = f"{emoji}Corvane hired Mara Okonkwo for story {n}.\r\nCorvane confirmed it."
        first = body.index("Corvane")
        rows.append(
            {
                "text": body,
                "title": f"Story {n}",
                "url": f"https://wire.example/{n}",
                "offsets": "codepoints",
                "label": [[first, first + 7, "ORG"]],
                "spans": [
                    {
                        "start": first,
                        "end": first + 7,
                        "label": "ORG",
                        "text": "Corvane",
                        "annotator": "mara",
                        "attributes": {"source": "wire", "n": n},
                        "created_at": "2026-03-04T05:06:07.123456+00:00",
                    }
                ],
            }
        )
    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_", "NEWSNOTES_", "PYTEST"))
    } | {
        "DJANGO_SETTINGS_MODULE": "newsnotes.settings",
        "DATABASE_URL": database_url(port=bouncer_port, query="?pgbouncer=1"),
        "DEBUG": "1",
    }
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "import_articles", str(path)],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "imported 1200 articles and 1200 spans" in done.stdout
    assert Article.objects.count() == 1200
    article = Article.objects.get(url="https://wire.example/1200")
    assert article.body == f"{emoji}Corvane hired Mara Okonkwo for story 1200.\nCorvane confirmed it."
    (span,) = Span.objects.filter(article=article)
    assert (span.annotator, span.text, span.start) == (mara, "Corvane", len(emoji))
    assert span.attributes == {"source": "wire", "n": 1200}
    assert span.created_at.isoformat() == "2026-03-04T05:06:07.123456+00:00"
    assert article.assignments.filter(user=mara).exists()
