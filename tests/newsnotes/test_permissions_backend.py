"""newsnotes.permissions: the permissions a user has are the same as ModelBackend's, loaded in one query."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from newsnotes.permissions import PermissionsInOneQuery

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


def test_logins_still_name_model_backend(client):
    user = get_user_model().objects.create_user("login-user", password="pw-for-test-only")
    client.post(reverse("login"), {"username": "login-user", "password": "pw-for-test-only"})
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    client.force_login(user)
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
