import pytest
import tqdm

from annotations.models import Label
from tests.factories import user_in

# No monitor thread for progress bars (a command's bar left open would keep one running): import_articles reads its
# files in a forked child only while the process has one thread (annotations.imports.forked), and the tests should
# go that way, as the command does.
tqdm.tqdm.monitor_interval = 0


@pytest.fixture
def labels(db) -> dict[str, Label]:
    """The four labels the data migration creates, by slug."""
    return {label.slug: label for label in Label.objects.all()}


@pytest.fixture
def editor(db):
    return user_in("Editors", username="ed")


@pytest.fixture
def other_editor(db):
    return user_in("Editors", username="ed2")


@pytest.fixture
def reviewer(db):
    return user_in("Reviewers", username="rev")


@pytest.fixture
def researcher(db):
    return user_in("Researchers", username="res")


@pytest.fixture
def curator(db):
    return user_in("Curators", username="cur", is_staff=True)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
