"""newsnotes.permissions: the permissions a user has are the same as ModelBackend's, loaded with the user in one
query (sessions of UserWithPermissionsBackend) or in one query after it (older sessions naming ModelBackend)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from newsnotes.permissions import PermissionsInOneQuery, UserWithPermissionsBackend

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_same_permissions_as_model_backend_in_one_query():
    user = get_user_model().objects.create_user("perm-user", password="x")
    user.groups.add(Group.objects.get(name="Editors"))
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    expected = ModelBackend().get_all_permissions(_fresh(user))
    assert "auth.view_group" in expected and "annotations.add_span" in expected
    user = _fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert PermissionsInOneQuery().get_all_permissions(user) == expected
        assert user.has_perm("annotations.add_span") and not user.has_perm("articles.review_article")
        assert user.get_all_permissions() == expected
    assert len(queries) == 1


def test_inactive_users_have_none_and_superusers_all():
    inactive = get_user_model().objects.create_user("inactive", password="x", is_active=False)
    inactive.groups.add(Group.objects.get(name="Editors"))
    assert PermissionsInOneQuery().get_all_permissions(_fresh(inactive)) == set()
    assert not _fresh(inactive).has_perm("annotations.add_span")
    root = get_user_model().objects.create_superuser("root", password="x")
    assert PermissionsInOneQuery().get_all_permissions(_fresh(root)) == ModelBackend().get_all_permissions(_fresh(root))


def test_logins_name_the_one_query_backend(client):
    user = get_user_model().objects.create_user("login-user", password="pw-for-test-only")
    client.post(reverse("login"), {"username": "login-user", "password": "pw-for-test-only"})
    assert client.session["_auth_user_backend"] == "newsnotes.permissions.UserWithPermissionsBackend"
    client.force_login(user)
    assert client.session["_auth_user_backend"] == "newsnotes.permissions.UserWithPermissionsBackend"


def test_the_user_comes_with_their_permissions_in_one_query():
    user = get_user_model().objects.create_user("one-query", password="x")
    user.groups.add(Group.objects.get(name="Editors"))
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    expected = ModelBackend().get_all_permissions(_fresh(user))
    with CaptureQueriesContext(connection) as queries:
        loaded = UserWithPermissionsBackend().get_user(user.pk)
        assert loaded == user and loaded.get_all_permissions() == expected
        assert loaded.has_perm("annotations.add_span") and not loaded.has_perm("articles.review_article")
    assert len(queries) == 1
    # A user granted nothing has no permission, and asks no more.
    bare = get_user_model().objects.create_user("bare", password="x")
    with CaptureQueriesContext(connection) as queries:
        assert UserWithPermissionsBackend().get_user(bare.pk).get_all_permissions() == set()
    assert len(queries) == 1


def test_superusers_have_every_permission_and_inactive_or_missing_users_are_nobody():
    root = get_user_model().objects.create_superuser("root", password="x")
    loaded = UserWithPermissionsBackend().get_user(root.pk)
    assert loaded.get_all_permissions() == ModelBackend().get_all_permissions(_fresh(root))
    assert loaded.has_perm("articles.review_article")
    inactive = get_user_model().objects.create_user("inactive", password="x", is_active=False)
    assert UserWithPermissionsBackend().get_user(inactive.pk) is None
    assert UserWithPermissionsBackend().get_user(10**9) is None


@pytest.mark.parametrize(
    "backend", ["newsnotes.permissions.UserWithPermissionsBackend", "django.contrib.auth.backends.ModelBackend"]
)
def test_a_page_reads_the_permissions_once_whichever_backend_the_session_names(client, backend):
    """Sessions made before the one-query backend name ModelBackend: they stay valid."""
    user = get_user_model().objects.create_user("page-user", password="x")
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user, backend=backend)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries]
    session, first = reads[0], reads[1]
    assert "django_session" in session and "auth_user" in first
    permission_reads = [sql for sql in reads if "auth_permission" in sql]
    if backend.endswith("UserWithPermissionsBackend"):
        assert permission_reads == [first]  # in the user's own statement
    else:
        assert len(permission_reads) == 1 and permission_reads[0] != first
