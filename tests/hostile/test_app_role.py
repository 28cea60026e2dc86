"""The app's database role (no TRUNCATE, no ownership: README "History") must still run every piece of the app.

``make run`` on the embedded default connects as that role; a service that needs more than it has fails there
and nowhere in a suite that runs as a superuser. These tests switch Django's own connection to a role granted
exactly what ``manage.py migrate`` grants the app's role, then run the services that do bulk work.
"""

import secrets

import pytest
from django.db import connection
from psycopg import sql

from annotations.suggestions.boilerplate import boilerplate_rebuild
from newsnotes.roles import app_role_grant
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FOOTER = (
    "Quillix is the leading open-source platform for newsroom automation, trusted by editors in forty countries. "
    "Learn more at quillix.example today."
)


@pytest.fixture
def as_app_role():
    role, password = f"nn_app_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        app_role_grant(cursor=cursor, app_role=role, password=password)
    saved = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=role, PASSWORD=password)
    try:
        yield role
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        with connection.cursor() as cursor:
            for statement in ("DROP OWNED BY {}", "DROP ROLE {}"):
                cursor.execute(sql.SQL(statement).format(sql.Identifier(role)).as_string(cursor.connection))


def test_the_app_role_rebuilds_boilerplate_families(as_app_role):
    """It did TRUNCATE the passage tables, which the app's role may not: ``make run``'s demo load failed."""
    for n, outlet in enumerate(["a.example", "b.example", "c.example", "d.example"]):
        ArticleFactory(body=f"Story {n} from {outlet} about chips and the market.\n\n{FOOTER}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == as_app_role
    result = boilerplate_rebuild()
    assert result is not None
