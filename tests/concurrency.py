"""Calls raced against each other, as two tabs or two editors at once would make them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread and database connection, released together by a barrier; their results
    in order. Tests that use it need ``django_db(transaction=True, serialized_rollback=True)``: each thread sees
    only what is committed."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
