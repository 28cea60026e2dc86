"""Curators add, deactivate and reset the passwords of editors, reviewers and researchers, through the admin and
the service; superusers and other curators stay out of their reach (issue 14 point 9)."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from annotations.curation.users import user_create, user_deactivate, user_set_password, user_update
from tests.factories import UserFactory
from tests.html import one, select

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def other_curator(db):
    user = UserFactory(username="cur2", is_staff=True)
    user.groups.add(Group.objects.get(name="Curators"))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def change_url(user: User) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def password_url(user: User) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def test_curator_adds_an_editor_through_the_admin(curator_client):
    add = curator_client.get(reverse("admin:auth_user_add"))
    assert add.status_code == 200
    offered = {box.getparent().text_content().strip() for box in select(add.content, "input[name=roles]")}
    assert offered == {"Editors", "Reviewers", "Researchers"}
    assert not select(add.content, "input[name=is_superuser]")
    editors = Group.objects.get(name="Editors")
    response = curator_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newed",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
            "roles": [editors.pk],
            "email": "newed@example.org",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="newed")
    assert [g.name for g in created.groups.all()] == ["Editors"]
    assert created.check_password("a-long-pass-phrase-9") and not created.is_staff and not created.is_superuser


def test_curator_cannot_give_the_curator_role_when_adding(curator_client):
    curators = Group.objects.get(name="Curators")
    response = curator_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "sneaky",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
            "roles": [curators.pk],
        },
    )
    assert response.status_code == 200
    assert select(response.content, ".errorlist")
    assert not User.objects.filter(username="sneaky").exists()


def test_curator_deactivates_an_editor_and_resets_a_researchers_password(curator_client, editor, researcher):
    page = curator_client.get(change_url(editor))
    assert page.status_code == 200
    assert one(page.content, "input[name=is_active]").get("checked") is not None
    # A link to set a new password, never the stored hash.
    assert one(page.content, "a.nn-password-reset").get("href") == password_url(editor)
    assert editor.password.split("$")[-1] not in page.content.decode()
    editors = Group.objects.get(name="Editors")
    response = curator_client.post(
        change_url(editor), {"groups": [editors.pk], "email": "", "first_name": "", "last_name": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    editor.refresh_from_db()
    assert not editor.is_active and [g.name for g in editor.groups.all()] == ["Editors"]

    assert curator_client.get(password_url(researcher)).status_code == 200
    response = curator_client.post(
        password_url(researcher), {"password1": "reset-by-curator-7", "password2": "reset-by-curator-7"}
    )
    assert response.status_code == 302
    researcher.refresh_from_db()
    assert researcher.check_password("reset-by-curator-7")


@pytest.mark.parametrize("target_name", ["superuser", "other_curator", "curator"])
def test_curator_cannot_change_or_reset_superusers_or_curators(request, curator_client, target_name):
    target = request.getfixturevalue(target_name)
    page = curator_client.get(change_url(target))
    # Read-only view: no form field a curator could submit.
    assert page.status_code == 200 and not select(page.content, "input[name=is_active]")
    assert curator_client.post(change_url(target), {"first_name": "x"}).status_code == 403
    before = User.objects.get(pk=target.pk).password
    response = curator_client.post(password_url(target), {"password1": "taken-over-77", "password2": "taken-over-77"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active and target.password == before


def test_curator_cannot_delete_accounts(curator_client, editor):
    assert curator_client.get(reverse("admin:auth_user_delete", args=[editor.pk])).status_code == 403


def test_editor_cannot_reach_the_user_admin(client, editor, other_editor):
    client.force_login(editor)
    assert client.get(change_url(other_editor)).status_code == 302  # to the admin login


@pytest.mark.parametrize("target_name", ["superuser", "other_curator", "curator"])
def test_service_refuses_superusers_and_curators(request, curator, target_name):
    target = request.getfixturevalue(target_name)
    with pytest.raises(PermissionDenied):
        user_deactivate(actor=curator, target=target)
    with pytest.raises(PermissionDenied):
        user_set_password(actor=curator, target=target, password="x-long-enough-1")
    with pytest.raises(PermissionDenied):
        user_update(actor=curator, target=target, roles=[], is_active=False)
    target.refresh_from_db()
    assert target.is_active


def test_service_refuses_promoting_to_curator(curator, editor):
    curators = Group.objects.get(name="Curators")
    with pytest.raises(PermissionDenied):
        user_update(actor=curator, target=editor, roles=[curators], is_active=True)
    with pytest.raises(PermissionDenied):
        user_create(actor=curator, username="x", password="x-long-enough-1", roles=[curators])
    assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert not User.objects.filter(username="x").exists()


def test_service_refuses_non_curators(editor, other_editor):
    with pytest.raises(PermissionDenied):
        user_deactivate(actor=editor, target=other_editor)
    with pytest.raises(PermissionDenied):
        user_create(actor=editor, username="y", password="x-long-enough-1", roles=[])
