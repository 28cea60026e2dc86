"""newsnotes.sessions: Django's database sessions, read by a statement built once per process; what a session holds,
when it expires and what becomes of an unknown key are the ``db`` engine's."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsnotes.permissions import UserWithPermissionsBackend
from newsnotes.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "newsnotes.sessions"


def test_a_session_is_read_in_one_statement_until_it_expires():
    saved = SessionStore()
    saved["note"] = "kept"
    saved.create()
    statements = []
    for _ in range(2):
        loaded = SessionStore(session_key=saved.session_key)
        with CaptureQueriesContext(connection) as queries:
            assert loaded["note"] == "kept" and loaded.session_key == saved.session_key
        statements += [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2 and all(sql.startswith('SELECT "session_key", "session_data"') for sql in statements)
    Session.objects.filter(pk=saved.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(session_key=saved.session_key)
    assert expired.load() == {} and expired.session_key is None  # as db.SessionStore: a new session, a new key
    unknown = SessionStore(session_key="x" * 32)
    assert "note" not in unknown and unknown.session_key is None


def test_a_logged_in_request_reads_its_session_and_user(client):
    user = get_user_model().objects.create_user("session-user", password="pw-for-test-only")
    client.force_login(user)
    response = client.get("/")
    assert response.wsgi_request.user == user
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/").wsgi_request.user.is_anonymous


def test_the_user_is_read_by_the_id_the_session_holds_a_string():
    user = get_user_model().objects.create_user("by-string", password="x")
    loaded = UserWithPermissionsBackend().get_user(str(user.pk))
    assert loaded == user and loaded.username == "by-string" and loaded._state.adding is False
    assert UserWithPermissionsBackend().get_user(str(10**12)) is None
