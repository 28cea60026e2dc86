"""The import's ``COPY`` statements, run in a thread on the import's own connection while the next batch is prepared.

An import of 10,000 articles / 200,000 spans spent about half its wall time waiting for PostgreSQL at the end of
each batch's ``COPY`` (the span text check, the history rows, the foreign keys: all run when the statement ends)
and the other half in Python preparing the next batch, one after the other. Waiting on the server releases the
interpreter lock, so a thread can hold that wait while the main thread checks and lays out the next batch's rows.

One statement at a time on one connection, in one transaction, as before: the main thread hands over a batch's
writes with ``submit`` and, before any statement of its own, calls ``wait`` until the writer is idle (``wait``
raises what a write raised, as the write itself would have). Nothing here makes the import less all-or-nothing:
the caller's transaction holds every batch, and ``close`` waits for the write in flight before the caller commits
or rolls back.

The thread uses the psycopg connection of the caller's Django connection directly (Django's connection objects
belong to the thread that opened them); database errors are raised as Django's, as from a Django cursor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

Write = Callable[[Any], None]  # given a psycopg cursor of the import's connection


class CopyWriter:
    def __init__(self) -> None:
        connection.ensure_connection()
        self._wrapper = connection
        self._raw = connection.connection
        self._job: Write | None = None
        self._failure: BaseException | None = None
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self._thread.start()

    def __enter__(self) -> CopyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, write: Write) -> None:
        """Run ``write`` in the writer thread once the previous write is done (raising what that one raised)."""
        self.wait()
        with self._changed:
            self._job = write
            self._changed.notify_all()

    def wait(self) -> None:
        """Until no write is running; then raise the failure of the last one, if it failed."""
        with self._changed:
            while self._job is not None:
                self._changed.wait()
            failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Wait for the write in flight (its failure is left to ``wait``) and end the thread."""
        with self._changed:
            while self._job is not None:
                self._changed.wait()
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._job is None and not self._closed:
                    self._changed.wait()
                if self._job is None:
                    return
                job = self._job
            try:
                with self._wrapper.wrap_database_errors, self._raw.cursor() as cursor:
                    job(cursor)
            except BaseException as failure:  # raised by the main thread's next wait()
                self._failure = failure
            with self._changed:
                self._job = None
                self._changed.notify_all()
