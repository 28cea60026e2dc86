"""Reading an import's files in a child process, so that Python's parsing and PostgreSQL's writing use two cores.

``import_articles`` spent about as long reading (JSON, offset units, grapheme checks: 4.2 s of CPU for 10,000
articles / 200,000 spans) as storing; a thread could only overlap that with the database's waits, since both
threads share one interpreter lock. ``read_in_child`` forks before anything else runs: the child builds the
records (``make_records`` must never query: the readers parse and resolve offsets only), pickles them a few at a
time (``PIECE_RECORDS``) into a pipe, and exits; the parent yields them. The pipe holds what the parent has not read
yet, so the child is at most a piece ahead (an import of any size still holds a few batches in memory). Notices the
readers give in the child reach ``notify`` in the parent; a reader's ``ImportFailure`` is raised in the parent after
the records before it, as in-process reading would raise it.

Fork copies a process as it is, threads excepted: with another thread running (a test runner's, a progress bar's)
or where there is no fork, the records are read in this process instead, the same way.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator

from django.db import connections

from articles.importers import ArticleRecord, ImportFailure, batches

# Python's cyclic collector runs every 700 allocations; each of its full passes walks every object alive. Reading
# 10,000 articles allocates millions (JSON, records, spans), so it ran thousands of times, each walking Django's own
# objects as well as the batches: 2.9 s of an import's 11.5 s of CPU (child 5.8 -> 4.3 s, parent 5.8 -> 4.3 s).
# What it looks for, reference cycles, the import makes almost none of.
BULK_THRESHOLD = (50_000, 20, 100)

# Records per pickle sent through the pipe. The parent unpickles in its thread reading ahead, and unpickling is C code
# that holds the interpreter lock until it is done: a batch of 500 records (10,000 spans) at once kept the import's
# main and writer threads waiting ~30 ms at a time. In pieces of 50 the lock changes hands between them, and both
# sides spend less (bench/import.py: the parent's unpickling 1.2 -> 0.45 s of CPU, the whole import 0.5 s less).
PIECE_RECORDS = 50


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """For a command's bulk work: what is alive now (Django, the settings, the models) is frozen out of the
    collector's passes (``gc.freeze``: also what Python advises before a fork, so the child does not copy the
    pages the collector would touch) and the collector runs every 50,000 allocations instead of 700. Both are
    undone at the end (the freeze only if nothing was frozen before: Python cannot thaw part of it). For a
    process that ends after its work (a management command), not for a long-lived worker running other jobs
    between."""
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(*BULK_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if not frozen:  # Python unfreezes all or nothing: what someone else froze before stays frozen
            gc.unfreeze()


def read_in_child(
    make_records: Callable[[Callable[[str], None]], Iterable[ArticleRecord]],
    *,
    notify: Callable[[str], None],
    size: int = PIECE_RECORDS,
) -> Iterator[ArticleRecord]:
    """The records ``make_records(notify)`` yields, read in a child process when this one can fork safely."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return iter(make_records(notify))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(make_records, write_fd, size)
    os.close(write_fd)
    return _receive(pid, read_fd, notify)


def _child(make_records, write_fd: int, size: int) -> None:
    # The parent's database connections stay the parent's: a query here would open a connection of its own (as
    # the reader thread of annotations.imports.services would), never write into the parent's session. They are
    # kept referenced, and the child leaves by os._exit, so no finaliser says goodbye to the server for them.
    inherited = []
    for conn in connections.all(initialized_only=True):
        inherited.append(conn.connection)
        conn.connection = None
    notices: list[str] = []
    status = 0
    try:
        with os.fdopen(write_fd, "wb") as out:
            try:
                for batch in batches(make_records(notices.append), size=size):
                    pickle.dump(("batch", batch, notices), out, protocol=pickle.HIGHEST_PROTOCOL)
                    notices.clear()
                pickle.dump(("end", None, notices), out)
            except ImportFailure as failure:
                pickle.dump(("failure", (failure.path, failure.line, failure.message), notices), out)
            except BrokenPipeError:
                raise
            except BaseException:
                pickle.dump(("error", traceback.format_exc(), notices), out)
    except BrokenPipeError:  # the parent stopped reading (a failure, a dry run's end): nothing more to do
        status = 1
    finally:
        sys.stdout.flush()
        os._exit(status)


def _receive(pid: int, read_fd: int, notify: Callable[[str], None]) -> Iterator[ArticleRecord]:
    try:
        with os.fdopen(read_fd, "rb") as source:
            while True:
                try:
                    # Our own child's pickles, through a pipe only the two processes hold.
                    kind, payload, notices = pickle.load(source)  # noqa: S301
                except EOFError:
                    raise RuntimeError("the import's reader process ended without a word") from None
                for notice in notices:
                    notify(notice)
                if kind == "batch":
                    yield from payload
                elif kind == "end":
                    return
                elif kind == "failure":
                    raise ImportFailure(*payload)
                else:
                    raise RuntimeError(f"the import's reader process failed:\n{payload}")
    finally:
        # Stopped early (a failure, a closed generator) or done: the child is told to stop and reaped.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
