"""Sessions kept in the database as Django's ``db`` engine keeps them, read by one prepared statement.

Every request that is logged in reads its session first. ``db.SessionStore`` builds and compiles that read through
the ORM each time (``Session.objects.get``): ~0.3-0.6 ms of CPU per request (bench/annotate.py, its floor view and
its create alike) for a read of one row by its key, and PostgreSQL plans it each time. Here the statement is built
once per process from the model and runs prepared (newsnotes.prepared). Writes, expiry and ``clearsessions`` are
the engine's own.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from newsnotes.prepared import prepared_cursor


@functools.cache
def _read() -> tuple[str, list[str]]:
    """The statement reading an unexpired session by its key, and the columns it reads (attribute names), built
    from the model: names quoted, the key and the time as parameters."""
    model = DatabaseSessionStore.get_model_class()
    meta = model._meta
    quote = connections[router.db_for_read(model)].ops.quote_name
    fields = list(meta.concrete_fields)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    key, expiry = quote(str(meta.get_field("session_key").column)), quote(str(meta.get_field("expire_date").column))
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {key} = %s AND {expiry} > %s"  # noqa: S608
    return sql, [field.attname for field in fields]


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        """The session's row if it exists and has not expired (as ``db.SessionStore``'s: ``expire_date`` after now),
        else None, and the key is forgotten, so a new session gets a new key."""
        alias = router.db_for_read(self.model)
        sql, names = _read()
        with prepared_cursor(alias) as cursor:
            cursor.execute(sql, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model.from_db(alias, names, row)
