"""The job worker stops cleanly on SIGTERM even while its poll's transaction is under way (newsnotes db_worker)."""

import signal

import pytest
from django.core.management import get_commands
from django.db import transaction

from newsnotes.management.commands.db_worker import Worker
from tests.jobs import worker


def _worker() -> Worker:
    return worker(interval=1, batch=False, worker_id="test-worker")


def test_manage_py_db_worker_is_ours():
    assert get_commands()["db_worker"] == "newsnotes"


@pytest.mark.django_db
def test_sigterm_inside_the_poll_transaction_waits_for_its_end():
    worker = _worker()
    with transaction.atomic():  # as the poll's exclusive_transaction, perhaps mid-COMMIT
        worker.shutdown(signal.SIGTERM, None)  # the library would sys.exit here, inside the transaction
        assert worker.running is False
    # Not running: the loop ends after this transaction instead of sleeping (django-tasks-db's Worker.run).


def test_sigterm_while_idle_still_exits_at_once_and_cleanly():
    worker = _worker()  # no test transaction around this one: the worker is between polls
    with pytest.raises(SystemExit) as exit_:
        worker.shutdown(signal.SIGTERM, None)
    assert exit_.value.code == 0
