"""``annotations.imports.forked``: an import's files read in a child process, records and failures as in-process."""

import os
import threading

import pytest
from django.db import connection, transaction

from annotations.imports.forked import read_in_child
from articles.importers import ArticleRecord, ImportFailure
from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: the records are read in-process"),
]


def records_of(count: int, *, fail_at: int | None = None, crash_at: int | None = None):
    """A reader as the command's: notices, then records naming the process that made them."""

    def make(notify):
        notify("read in the child" if os.getpid() != parent else "read here")
        for n in range(1, count + 1):
            if n == fail_at:
                raise ImportFailure("corpus.jsonl", n, "not valid JSON")
            if n == crash_at:
                raise ZeroDivisionError("a bug in a reader")
            yield ArticleRecord(title=f"{n} from {os.getpid()}", body=f"Text {n}.", location=f"corpus.jsonl:{n}")

    parent = os.getpid()
    return make


@pytest.fixture(autouse=True)
def one_thread():
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this test process: the records would be read in-process")


def test_records_come_from_another_process_in_order_with_their_notices():
    notices: list[str] = []
    records = list(read_in_child(records_of(2500), notify=notices.append, size=1000))
    assert [r.title.split()[0] for r in records] == [str(n) for n in range(1, 2501)]
    assert {r.title.split()[-1] for r in records} != {str(os.getpid())}
    assert notices == ["read in the child"]


def test_a_readers_failure_is_raised_here_after_the_records_before_it():
    notices: list[str] = []
    seen: list[str] = []
    with pytest.raises(ImportFailure) as raised:
        for record in read_in_child(records_of(2500, fail_at=1700), notify=notices.append, size=1000):
            seen.append(record.location)
    assert (raised.value.path, raised.value.line, raised.value.message) == ("corpus.jsonl", 1700, "not valid JSON")
    assert str(raised.value) == "corpus.jsonl:1700: not valid JSON"
    assert seen == [f"corpus.jsonl:{n}" for n in range(1, 1001)]  # the whole batches before the failing one
    assert notices == ["read in the child"]


def test_a_bug_in_the_child_is_raised_with_its_traceback():
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug in a reader"):
        list(read_in_child(records_of(10, crash_at=3), notify=lambda notice: None))


def test_stopping_early_ends_and_reaps_the_child():
    records = read_in_child(records_of(50_000), notify=lambda notice: None, size=100)
    assert next(records).location == "corpus.jsonl:1"
    records.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, running or unreaped


def test_the_parents_connection_and_transaction_are_untouched():
    ArticleFactory(title="Before")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        list(read_in_child(records_of(3000), notify=lambda notice: None))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() == (backend,)
        assert Article.objects.filter(title="Before").exists()


def test_few_collections_freezes_and_slows_the_collector_for_the_work_and_restores_it_after():
    import gc

    from annotations.imports.forked import BULK_THRESHOLD, few_collections

    gc.unfreeze()  # whatever the test process froze before (Python thaws all or nothing)
    threshold = gc.get_threshold()
    with few_collections():
        assert gc.get_threshold() == BULK_THRESHOLD
        assert gc.get_freeze_count() > 0  # what was alive is out of the collector's passes
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, 0)
    with pytest.raises(RuntimeError), few_collections():
        raise RuntimeError
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, 0)
    gc.freeze()  # frozen by someone before: stays frozen after
    with few_collections():
        pass
    assert gc.get_freeze_count() > 0 and gc.get_threshold() == threshold
    gc.unfreeze()
