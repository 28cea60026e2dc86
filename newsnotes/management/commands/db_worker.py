"""db_worker: django-tasks-db's worker, which SIGTERM stops cleanly even while it polls for a task.

The library's handler calls ``sys.exit(0)`` at once when no task runs. When the signal lands while the poll's
transaction is committing, the exit interrupts psycopg inside the protocol, the rollback that follows fails and the
worker exits 1 (a test's worker did, once, under load). Here a signal inside a transaction only clears
``running``: the loop ends when the transaction is over (it skips its sleep when not running), and a task claimed
in that transaction still runs to its end, as in any graceful shutdown. A second signal still forces the exit.
"""

from __future__ import annotations

from types import FrameType

from django.db import connections
from django_tasks_db.management.commands import db_worker


class Worker(db_worker.Worker):
    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        in_transaction = any(c.in_atomic_block for c in connections.all(initialized_only=True))
        if self.running and not self.running_task and in_transaction:
            db_worker.logger.warning("Received signal %s - stopping once this poll's transaction ends.", signum)
            self.running = False
            return
        super().shutdown(signum, frame)


class Command(db_worker.Command):
    def handle(self, *args, **options) -> None:
        # The library's handle builds its module's Worker by name; it builds this one for this command only.
        original = db_worker.Worker
        db_worker.Worker = Worker  # type: ignore[misc]
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original  # type: ignore[misc]
