"""``DATABASE_REPLICA_URL``: exports, agreement and search read from the replica; everything else, and every
write, from and to default (newsnotes/routers.py).

The replica here is the test database under a role that may only read (``default_transaction_read_only``): the
same rows a streaming standby would hold, and a write sent there by mistake fails as it would on a standby.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.utils import InternalError, ProgrammingError
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from psycopg import sql

from annotations.exports import ExportFilters, ExportOptions, export
from annotations.exports.forms import ExportForm
from annotations.exports.jobs import export_job_chunks, export_job_run, export_job_start
from annotations.exports.models import ExportJob
from annotations.models import Span
from newsnotes.database import replica_config
from newsnotes.routers import REPLICA, replica_reads
from tests.annotations.export_fixtures import build_corpus
from tests.factories import ArticleFactory, SpanFactory, UserFactory
from tests.scale.conftest import database_url

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", REPLICA])

READER = "nn_test_replica_reader"


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The ``replica`` alias, as settings.py defines it from DATABASE_REPLICA_URL, on a read-only role."""
    role = sql.Identifier(READER)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = sql.Identifier(connection.settings_dict["NAME"])
        statements = [
            sql.SQL("DROP ROLE IF EXISTS {}").format(role),
            sql.SQL("CREATE ROLE {} LOGIN").format(role),
            sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role),
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(name, role),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(role),
        ]
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
    url = database_url().replace(f"//{connection.settings_dict['USER'] or 'postgres'}@", f"//{READER}@", 1)
    config = replica_config(replica_url=url)
    assert config["TEST"] == {"MIRROR": "default"}
    configured = connections.configure_settings({"default": dict(connections.settings["default"]), REPLICA: config})
    connections.settings[REPLICA] = configured[REPLICA]
    try:
        yield REPLICA
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for statement in ("DROP OWNED BY {}", "DROP ROLE {}"):
                cursor.execute(sql.SQL(statement).format(role).as_string(cursor.connection))


def reads_on_replica(context: CaptureQueriesContext, table: str) -> int:
    return sum(table in query["sql"] for query in context.captured_queries)


def test_the_replica_refuses_writes():
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (READER,)
        with pytest.raises((InternalError, ProgrammingError), match="read-only transaction"):
            cursor.execute("UPDATE annotations_label SET name = name")


def test_only_corpus_and_annotation_reads_inside_replica_reads_go_to_the_replica(labels):
    assert Span.objects.all().db == "default"
    with replica_reads():
        assert Span.objects.all().db == REPLICA
        assert get_user_model().objects.all().db == "default"  # sessions and users: always the primary
        assert labels["org"].__class__.objects.count() == 4  # read through the read-only role
        # A write inside goes to default: on the replica it would fail (see above).
        span = SpanFactory(article=ArticleFactory(body="Corvane and Quillix."), label=labels["org"], start=0, end=7)
        again = Span.objects.get(pk=span.pk)
        assert again._state.db == REPLICA
        again.note = "saved where it must be"
        again.save()  # read from the replica, saved on default (Django would otherwise save where it came from)
    assert Span.objects.get(pk=span.pk).note == "saved where it must be"


def test_an_export_job_reads_from_the_replica_and_writes_its_file_on_default():
    build_corpus()
    owner = UserFactory(username="researcher", is_superuser=True)
    expected = b"".join(export("jsonl", ExportFilters(), ExportOptions()))
    form = ExportForm(QueryDict("format=jsonl"))
    assert form.is_valid(), form.errors
    job = export_job_start(owner=owner, form=form)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FINISHED, job.error
    assert b"".join(export_job_chunks(job=job)) == expected
    assert reads_on_replica(on_replica, "annotations_span") > 0
    assert reads_on_replica(on_replica, "REPEATABLE READ, READ ONLY") == 1  # the snapshot is the replica's


def test_the_span_csv_job_reads_from_the_primary():
    """Its COPY calls a pg_temp function it creates first, which a hot standby (read-only) refuses: it failed
    with 'cannot execute CREATE FUNCTION in a read-only transaction' when routed there."""
    build_corpus()
    owner = UserFactory(username="researcher", is_superuser=True)
    expected = b"".join(export("csv", ExportFilters(), ExportOptions()))
    form = ExportForm(QueryDict("format=csv"))
    assert form.is_valid(), form.errors
    job = export_job_start(owner=owner, form=form)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, CaptureQueriesContext(connection) as on_default:
        export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FINISHED, job.error
    assert b"".join(export_job_chunks(job=job)) == expected
    assert on_replica.captured_queries == []
    assert reads_on_replica(on_default, "newsnotes_canonical_json") > 0


def test_agreement_and_search_pages_read_from_the_replica_and_the_queue_does_not(client):
    build_corpus()
    client.force_login(UserFactory(username="boss", is_superuser=True))
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get("/agreement/")
    assert response.status_code == 200
    assert reads_on_replica(on_replica, "annotations_span") > 0

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get("/", {"q": "Larchfield"})
    assert response.status_code == 200
    assert reads_on_replica(on_replica, "articles_article") > 0

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get("/").status_code == 200
    assert on_replica.captured_queries == []


def test_a_queue_search_reads_its_page_from_the_replica(client):
    """The queue's statements compiled once per process (annotations.queue.statements) go where the router sends
    article reads, as querysets did: the ids, the totals and the rows' span counts of a search, on the replica."""
    build_corpus()
    client.force_login(UserFactory(username="boss", is_superuser=True))
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, CaptureQueriesContext(connection) as on_default:
        response = client.get("/", {"q": "Larchfield"})
    assert response.status_code == 200 and b"Larchfield" in response.content
    assert reads_on_replica(on_replica, "unnest(") >= 2  # the page's status counts and its rows' span counts
    assert reads_on_replica(on_replica, "annotations_span") >= 1
    assert reads_on_replica(on_default, "articles_article") == 0
