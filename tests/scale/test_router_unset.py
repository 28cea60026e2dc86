"""Without ``DATABASE_REPLICA_URL`` there is no ``replica`` alias and every read stays on default."""

import pytest
from django.db import connections

from annotations.models import Span
from newsnotes.database import replica_config
from newsnotes.routers import REPLICA, read_alias, replica_reads


def test_without_a_replica_replica_reads_change_nothing():
    assert REPLICA not in connections.settings
    with replica_reads():
        assert read_alias() == "default"
        assert Span.objects.all().db == "default"


def test_the_replica_url_is_mirrored_in_tests_and_may_go_through_pgbouncer():
    config = replica_config(replica_url="postgres://reader:pw@standby.example:5433/newsnotes?pgbouncer=1")
    assert config["TEST"] == {"MIRROR": "default"}
    assert (config["HOST"], config["PORT"], config["USER"]) == ("standby.example", "5433", "reader")
    assert config["ENGINE"] == "newsnotes.pgbouncer"


@pytest.mark.django_db
def test_the_queue_search_works_without_a_replica(client, editor):
    client.force_login(editor)
    assert client.get("/", {"q": "Corvane"}).status_code == 200
