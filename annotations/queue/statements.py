"""SQL built by the ORM once per process and *shape* of a request, then run with the request's values.

``newsnotes.compiled`` does this for queries whose only variables are ids. The queue page's queries vary with
the filters too: which are set (a search, a status, a source...) changes the SQL, their values do not. So a
statement here is keyed by the shape (``key``) and built with stand-ins for the values: distinct integers for ids
and an unlikely string for text, found again among the parameters after compiling and replaced by the request's
values when run. A stand-in that shows up in the SQL text itself (a value the ORM inlined, as it does with
``LIMIT``) or was changed on its way into a parameter (a LIKE pattern) would make the statement wrong for any
other value: that raises. Values the ORM writes into the SQL belong in the key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import router
from django.db.models import Model

from articles.models import Article
from newsnotes.compiled import Compiled
from newsnotes.prepared import prepared_cursor

# Stand-ins: in range for any integer column, apart from newsnotes.compiled's, and no constant of these queries.
_INTS = {name: 2_000_000_101 + n for n, name in enumerate(("user", "source", "label", "ids"))}
_TEXTS = {"tsquery": "'queue-stand-in-tsquery'"}
STAND_INS: Mapping[str, Any] = {**_INTS, **_TEXTS}


class Statement:
    def __init__(self, sql: str, params: Sequence[Any]) -> None:
        for name, value in STAND_INS.items():
            if str(value) in sql:
                raise ImproperlyConfigured(f"the stand-in for {name} was written into the SQL: {sql}")
        by_value = {(type(value), value): name for name, value in STAND_INS.items()}
        for param in params:
            for name, value in _TEXTS.items():
                if isinstance(param, str) and value in param and param != value:
                    raise ImproperlyConfigured(f"the stand-in for {name} was changed into {param!r}: {sql}")
        self.sql = sql
        # Each parameter: the name of a value to take from the call, or a constant of the query. (psycopg may hand
        # integers back wrapped, as ``Int4``: an int subclass; booleans are ints too but never stand-ins.)
        self.params = [
            (
                by_value.get((int if isinstance(param, int) and not isinstance(param, bool) else type(param), param)),
                param,
            )
            for param in params
        ]

    def values(self, given: Mapping[str, Any]) -> list[Any]:
        return [given[name] if name is not None else constant for name, constant in self.params]

    def rows(self, **given: Any) -> list[tuple[Any, ...]]:
        return fetch(self.sql, self.values(given), model=Article)  # every queue statement reads articles


def fetch(sql: str, params: Sequence[Any], *, model: type[Model]) -> list[tuple[Any, ...]]:
    """The rows of ``sql``, read where the router sends reads of ``model``, as a queryset of it would be: on the
    replica during a queue search (``newsnotes.routers``), else on ``default``."""
    with prepared_cursor(router.db_for_read(model)) as cursor:  # the queue's statements, planned once
        cursor.execute(sql, params)
        return cursor.fetchall()


def compiled_rows(statement: Compiled, *, model: type[Model], **ids: Any) -> list[tuple[Any, ...]]:
    """``statement.rows(**ids)`` (``newsnotes.compiled``), read where the router sends reads of ``model``."""
    return fetch(statement.sql, statement.values(**ids), model=model)


class Statements:
    """Statements built by ``build(key)`` (which gets the stand-ins through the key's own values, see callers),
    one per key. Keys are shapes, a handful per page: no bound is needed, but one is kept against misuse."""

    LIMIT = 512

    def __init__(self, build: Callable[..., tuple[str, Sequence[Any]]]) -> None:
        self.build = build
        self.built: dict[Hashable, Statement] = {}

    def __call__(self, *key: Hashable) -> Statement:
        statement = self.built.get(key)
        if statement is None:
            if len(self.built) >= self.LIMIT:
                self.built.clear()
            statement = self.built[key] = Statement(*self.build(*key))
        return statement


def statements(build: Callable[..., tuple[str, Sequence[Any]]]) -> Statements:
    """Decorate ``build(*key) -> (sql, params)``, written with ``STAND_INS`` for the values a request varies."""
    return Statements(build)
