"""Statements PostgreSQL plans once per connection: the ones every request runs.

Django binds parameters on the client and never prepares (``prepare_threshold`` off unless asked, for poolers).
For the small indexed reads a request makes, planning was most of what PostgreSQL spent: a workspace write's
three answer reads took 1.0 ms to plan and 0.2 ms to run; a note cost PostgreSQL 3.7 ms of CPU, 2.5 ms with
them prepared. ``prepared_cursor`` gives a cursor that binds on the server and prepares every statement (after
five runs PostgreSQL keeps a generic plan and stops planning it), where a connection outlives a transaction.

Behind PgBouncer in transaction pooling a statement prepared on one server connection cannot run on another, so
there (``prepare_threshold=None``: newsnotes.database.behind_pgbouncer) it is Django's own cursor. A statement
must be one statement whose parameters PostgreSQL can type: not one that pghistory prefixes with its context
(anything but SELECT while a request writes), as a prepared statement holds a single command.
"""

from __future__ import annotations

from typing import Any, cast

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


class _PreparingCursor(psycopg.Cursor):
    """psycopg's server-side binding cursor, every statement prepared."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None):
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    """A cursor of ``using`` whose statements are prepared, in Django's cursor wrapper (errors are Django's);
    Django's own cursor where nothing may be prepared, and while queries are logged (DEBUG, a test counting
    queries): Django logs a server-side bound statement without its parameters, and the log should show the SQL
    that ran, ready to paste."""
    connection = connections[using]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None or connection.queries_logged:
        return connection.cursor()
    # django-stubs type make_cursor's argument as Django's wrapper; at run time it is the driver's cursor.
    return connection.make_cursor(cast(Any, _PreparingCursor(raw)))
