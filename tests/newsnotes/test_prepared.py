"""newsnotes.prepared: the statements every request runs (session, user, the workspace's compiled reads) are
prepared once per connection on a direct connection, and are exactly Django's reads otherwise."""

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from newsnotes.prepared import prepared_cursor
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def _runs() -> dict[str, int]:
    """How often each statement prepared on this connection (kept across tests) has run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


@pytest.fixture
def editor_client(labels):
    user = get_user_model().objects.create_user("prep-editor", password="x")
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client, user


def test_a_requests_session_user_and_page_reads_are_prepared(editor_client):
    client, _ = editor_client
    article = ArticleFactory(body="Corvane hired Mara Okonkwo. " * 20)
    url = reverse("annotations:article-annotate", args=[article.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    prepared = _prepared()
    assert any('FROM "django_session" WHERE "session_key"' in s for s in prepared)
    assert any("ARRAY(SELECT content_type.app_label" in s for s in prepared)  # the user with permissions
    assert any("SELECT revision.key" in s for s in prepared)  # the page's reads


def test_while_queries_are_logged_they_run_unprepared_and_the_log_shows_their_sql(editor_client):
    client, _ = editor_client
    article = ArticleFactory(body="Corvane hired Mara Okonkwo. " * 20)
    before = _runs()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("annotations:article-annotate", args=[article.pk])).status_code == 200
    assert _runs() == before
    session = next(q["sql"] for q in queries.captured_queries if "django_session" in q["sql"])
    assert session.startswith("SELECT") and "$1" not in session and "%s" not in session


def test_without_preparing_the_cursor_is_djangos_own(monkeypatch):
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    with prepared_cursor() as cursor:
        assert isinstance(cursor.cursor, psycopg.ClientCursor)  # Django's own, binding on the client
        cursor.execute("SELECT 1 WHERE 1 = %s", [1])
        assert cursor.fetchall() == [(1,)]
