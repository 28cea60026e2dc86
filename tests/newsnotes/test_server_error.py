"""A request that cannot reach the database gets a 503 sentence with Retry-After, never a traceback or a bare 500."""

import socket

import pytest
from django.db import connection
from django.test import Client
from django.urls import path

from newsnotes import views


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free again once closed: nothing listens there


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # later tests find the migrations' rows
def test_database_down_is_a_503_with_a_sentence():
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_closed_port())
    try:
        response = Client(raise_request_exception=False).get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    text = response.content.decode()
    assert "cannot reach its database" in text
    assert "Traceback" not in text


def _broken(request):
    raise RuntimeError("a defect")


urlpatterns = [path("boom", _broken)]
handler500 = "newsnotes.views.server_error"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_other_errors_stay_a_500_with_a_sentence():
    response = Client(raise_request_exception=False).get("/boom")
    assert response.status_code == 500
    assert views.SERVER_ERROR in response.content.decode()
