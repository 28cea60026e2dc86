import pytest
from django.db import connection


@pytest.mark.django_db
def test_connections_set_the_trigger_session_option():
    # Without it every history trigger traps an error per row; see newsnotes/database.py.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        assert cursor.fetchone()[0] == "{}"
