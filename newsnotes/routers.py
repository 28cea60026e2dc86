"""Heavy reads on a read replica (``DATABASE_REPLICA_URL``; docs/scaling.md: Read replica).

A replica lags its primary by a little, so only reads that tolerate that go there, and only when asked for:
code that runs one wraps it in ``replica_reads()`` (or streams through ``on_replica``), and the
``ReplicaReadsMiddleware`` does so for the pages listed in ``REPLICA_VIEWS``. Today that is exports (the job
worker and the direct download; the span CSV excepted, see annotations/exports/spans_csv.py), the agreement
page and its CSV, and queue search. Everything else, and every
write, uses ``default``: a page that reads what the same request (or the editor's last click) wrote must never
see an older copy. Without ``DATABASE_REPLICA_URL`` the alias is not defined and every read stays on ``default``.

Only the corpus and its annotations (``REPLICA_APPS``) are read there: sessions, users and permissions are read
from the primary even inside ``replica_reads()``, so logging in on one page and opening a heavy one next works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

REPLICA = "replica"
REPLICA_APPS = frozenset({"articles", "annotations"})
# URL name → whether this request's read is heavy enough to go to the replica (GET and HEAD only).
REPLICA_VIEWS: dict[str, Callable[[HttpRequest], bool]] = {
    "annotations:agreement": lambda request: True,
    "annotations:agreement-csv": lambda request: True,
    "annotations:article-list": lambda request: bool(request.GET.get("q", "").strip()),
}

_reads_on_replica: ContextVar[bool] = ContextVar("newsnotes_reads_on_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """Where corpus and annotation reads go right now: the replica inside ``replica_reads()`` if there is one."""
    return REPLICA if _reads_on_replica.get() and replica_configured() else DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside: corpus and annotation reads go to the replica, when one is configured; writes still go to default."""
    token = _reads_on_replica.set(True)
    try:
        yield
    finally:
        _reads_on_replica.reset(token)


def on_replica[T](chunks: Iterable[T]) -> Iterator[T]:
    """``chunks`` (a lazy export) consumed with its reads on the replica: for a streamed response, whose body is
    produced after the view has returned."""
    with replica_reads():
        yield from chunks


class ReplicaRouter:
    """Reads of ``REPLICA_APPS`` models inside ``replica_reads()`` go to the replica; every write to default."""

    def db_for_read(self, model, **hints) -> str | None:
        if model._meta.app_label in REPLICA_APPS:
            return read_alias()
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        # Explicit: without a router's answer Django saves an instance where it was read from, the replica.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        both = {obj1._state.db, obj2._state.db}
        return True if both <= {DEFAULT_DB_ALIAS, REPLICA} else None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return None if db == DEFAULT_DB_ALIAS else False


class ReplicaReadsMiddleware:
    """Runs the views named in ``REPLICA_VIEWS`` inside ``replica_reads()``; a no-op without a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured() or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        heavy = REPLICA_VIEWS.get(match.view_name)
        if heavy is None or not heavy(request):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)
