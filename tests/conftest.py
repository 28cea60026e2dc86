import pytest
from django.contrib.auth.models import Group

from annotations.models import Label
from tests.factories import UserFactory


@pytest.fixture
def labels(db) -> dict[str, Label]:
    """The four labels the data migration creates, by slug."""
    return {label.slug: label for label in Label.objects.all()}


def _user_in(group: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return _user_in("Editors", username="ed")


@pytest.fixture
def other_editor(db):
    return _user_in("Editors", username="ed2")


@pytest.fixture
def reviewer(db):
    return _user_in("Reviewers", username="rev")


@pytest.fixture
def researcher(db):
    return _user_in("Researchers", username="res")


@pytest.fixture
def curator(db):
    return _user_in("Curators", username="cur", is_staff=True)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
