"""ORM queries compiled once per process, then run with this request's ids.

Building and compiling a queryset costs more CPU than PostgreSQL takes to run the small indexed queries of a
workspace request (a millisecond or two each, per request, on the 2-core reference machine). ``compiled`` builds
the query once with stand-in ids, checks that each stand-in appears among the parameters, and keeps the SQL; the
caller runs it with the real ids in their place. The SQL is the ORM's own, so it follows the models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

# Stand-ins no table holds (ids are positive), one per named parameter.
_STAND_INS = (-7_000_001, -7_000_002, -7_000_003, -7_000_004)


class Compiled:
    def __init__(self, sql: str, params: Sequence[Any], names: dict[int, str]) -> None:
        self.sql = sql
        # Each parameter: a name to take from the call's ids, or a constant of the query.
        self.params = [(names.get(param), param) if type(param) is int else (None, param) for param in params]

    def rows(self, **ids: int) -> list[tuple[Any, ...]]:
        values = [ids[name] if name is not None else constant for name, constant in self.params]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, values)
            return cursor.fetchall()


def compiled(*names: str) -> Callable[[Callable[..., QuerySet]], Callable[[], Compiled]]:
    """Decorate a function building a queryset from ids named ``names``: it is built and compiled on first use."""

    def decorate(build: Callable[..., QuerySet]) -> Callable[[], Compiled]:
        @functools.cache
        def statement() -> Compiled:
            stand_ins = dict(zip(names, _STAND_INS, strict=False))
            sql, params = build(**stand_ins).query.sql_with_params()
            missing = [name for name, value in stand_ins.items() if value not in params]
            if missing:
                raise ImproperlyConfigured(f"{build.__qualname__}: {missing} not among the parameters {params!r}")
            return Compiled(sql, params, {value: name for name, value in stand_ins.items()})

        return statement

    return decorate
