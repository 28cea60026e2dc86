"""Django's database sessions, read with one prepared statement (newsnotes.prepared).

Every request reads its session first. Django builds that query with the ORM each time (a ``get`` with two
filters, compiled anew) and PostgreSQL plans it each time; the same statement, built once and prepared, costs a
fraction of both. The table, the rows and everything else (saving, expiry, ``clearsessions``) are Django's own.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from newsnotes.prepared import prepared_cursor

_FIELDS = ["session_key", "session_data", "expire_date"]


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        with prepared_cursor() as cursor:
            cursor.execute(_statement(self.model._meta.db_table), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django does: an unknown or expired key starts a new session
            return None
        return self.model.from_db(connection.alias, _FIELDS, row)


@functools.cache
def _statement(table: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _FIELDS)
    return f"SELECT {columns} FROM {quote(table)} WHERE session_key = %s AND expire_date > %s"  # noqa: S608
