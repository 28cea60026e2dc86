"""ORM queries compiled once per process, then run with this request's ids.

Building and compiling a queryset costs more CPU than PostgreSQL takes to run the small indexed queries of a
workspace request (a millisecond or two each, per request, on the 2-core reference machine). ``compiled`` builds
the query once with stand-in ids, checks that each stand-in appears among the parameters, and keeps the SQL; the
caller runs it with the real ids in their place. The SQL is the ORM's own, so it follows the models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

from newsnotes.prepared import prepared_cursor

# Stand-ins, one per named parameter: in range for any integer column (Django refuses a negative offset outright),
# and no constant of these queries.
_STAND_INS = tuple(range(2_000_000_001, 2_000_000_009))


class Compiled:
    def __init__(self, sql: str, params: Sequence[Any], names: dict[int, str]) -> None:
        self.sql = sql
        # Each parameter: a name to take from the call's ids, or a constant of the query.
        # (psycopg may hand integers of small columns back wrapped, as ``Int4``: an int subclass.)
        self.params = [
            (names.get(int(param)), param) if isinstance(param, int) and not isinstance(param, bool) else (None, param)
            for param in params
        ]

    def values(self, **ids: Any) -> list[Any]:
        """The parameters to run the statement with: the call's ids in place of the stand-ins."""
        return [ids[name] if name is not None else constant for name, constant in self.params]

    def rows(self, **ids: int) -> list[tuple[Any, ...]]:
        with prepared_cursor() as cursor:
            self.send(cursor, **ids)
            return cursor.fetchall()

    def send(self, cursor: Any, **ids: int) -> None:
        """Execute on ``cursor``, whose caller fetches the rows (after a pipeline, say)."""
        cursor.execute(self.sql, self.values(**ids))


def pipelined(*sends: Callable[[Any], None]) -> list[list[tuple[Any, ...]]]:
    """Run each ``send(cursor)`` (an ``execute`` on the cursor it is given) on a cursor of its own, all of them
    sent to PostgreSQL together in one round trip (psycopg's pipeline mode), in order; each one's rows.

    Each statement must be a single statement starting with SELECT: pghistory prefixes its context to any other
    statement run while a request writes, and a statement with a prefix is two, which a pipeline refuses.
    """
    connection.ensure_connection()
    with ExitStack() as stack:
        cursors = [stack.enter_context(prepared_cursor()) for _ in sends]
        with connection.wrap_database_errors, connection.connection.pipeline():
            for send, cursor in zip(sends, cursors, strict=True):
                send(cursor)
        return [cursor.fetchall() for cursor in cursors]


def compiled(*names: str) -> Callable[[Callable[..., QuerySet]], Callable[[], Compiled]]:
    """Decorate a function building a queryset from ids named ``names``: it is built and compiled on first use."""

    def decorate(build: Callable[..., QuerySet]) -> Callable[[], Compiled]:
        @functools.cache
        def statement() -> Compiled:
            stand_ins = dict(zip(names, _STAND_INS, strict=False))
            sql, params = build(**stand_ins).query.sql_with_params()
            found = {int(param) for param in params if isinstance(param, int) and not isinstance(param, bool)}
            missing = [name for name, value in stand_ins.items() if value not in found]
            if missing:
                raise ImproperlyConfigured(f"{build.__qualname__}: {missing} not among the parameters {params!r}")
            return Compiled(sql, params, {value: name for name, value in stand_ins.items()})

        return statement

    return decorate
