import pytest


@pytest.fixture
def curator_client(client, curator, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    client.force_login(curator)
    return client
