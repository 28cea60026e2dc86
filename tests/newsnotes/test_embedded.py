"""The embedded PostgreSQL bootstrap, exercised with real processes in a fresh data directory."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from newsnotes.database import DatabaseUrlError, parse_database_url

ROOT = Path(__file__).resolve().parents[2]

# A process that uses the database through Django, then waits to be told to stop.
HOLDER = """
import sys, time, django
django.setup()
from django.db import connection
with connection.cursor() as cur:
    cur.execute("SELECT current_database()")
    print("ready", cur.fetchone()[0], flush=True)
if sys.argv[1] == "wait":
    time.sleep(120)
"""


def spawn(data_dir: Path, mode: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"NEWSNOTES_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "newsnotes.settings", "DEBUG": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "ready newsnotes", proc.stderr.read() if proc.poll() is not None else line


def postmaster_pid(data_dir: Path) -> int | None:
    pidfile = data_dir / "pgdata" / "postmaster.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def wait_stopped(data_dir: Path, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if postmaster_pid(data_dir) is None:
            return True
        time.sleep(0.2)
    return False


def holders(data_dir: Path) -> list[int]:
    path = data_dir / "pgdata" / ".handle_pids.json"
    return json.loads(path.read_text()) if path.exists() else []


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path
    pid = postmaster_pid(tmp_path)
    if pid:  # never leave a server behind, even when a test fails
        psutil.Process(pid).terminate()


def test_sigterm_releases_the_server_and_a_second_start_works(data_dir):
    first = spawn(data_dir, "wait")
    wait_ready(first)
    assert postmaster_pid(data_dir)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=30)
    assert wait_stopped(data_dir), "the last holder got SIGTERM but the server kept running"
    assert holders(data_dir) == []

    second = spawn(data_dir, "once")
    wait_ready(second)
    assert second.wait(timeout=30) == 0
    assert wait_stopped(data_dir)


def test_shared_by_two_processes_and_a_killed_holder_does_not_pin_it(data_dir):
    first = spawn(data_dir, "wait")
    wait_ready(first)
    second = spawn(data_dir, "wait")
    wait_ready(second)
    server = postmaster_pid(data_dir)
    assert sorted(holders(data_dir)) == sorted([first.pid, second.pid])

    first.kill()  # SIGKILL: no chance to clean up, its pid stays in the list
    first.wait()
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=30)
    assert postmaster_pid(data_dir) == server, "a holder was still listed, so the server must keep running"

    third = spawn(data_dir, "once")  # prunes the dead pid, uses the running server, stops it on exit
    wait_ready(third)
    assert third.wait(timeout=30) == 0
    assert wait_stopped(data_dir)


def test_processes_that_need_no_database_never_start_it(data_dir):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "NEWSNOTES_DATA_DIR": str(data_dir),
        "DEBUG": "1",
    }
    subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert not (data_dir / "pgdata").exists()


def test_database_url_parsing():
    config = parse_database_url("postgres://ann:s%40cret@db.example:6543/newsnotes?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "ann",
        "s@cret",
        "db.example",
        "6543",
        "newsnotes",
    )
    # prepare_threshold: statements of newsnotes.prepared are prepared on a direct connection (Django's default
    # turns preparing off); behind PgBouncer it is None again (tests/scale/test_pgbouncer.py).
    assert config["OPTIONS"] == {"sslmode": "require", "options": "-c pgtrigger.ignore={}", "prepare_threshold": 5}
    with pytest.raises(DatabaseUrlError, match="PostgreSQL only"):
        parse_database_url("sqlite:///db.sqlite3")


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, True)],
    ids=["SIGTERM to the watcher", "SIGTERM to both (pkill)", "Ctrl-C"],
)
def test_runserver_autoreloader_releases_the_server(data_dir, signum, to_group):
    import socket
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "NEWSNOTES_DATA_DIR": str(data_dir),
        "DEBUG": "1",
    }
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.read() == b"ok"
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver never answered"
                time.sleep(0.3)
        watcher_and_worker = [server.pid, *(c.pid for c in psutil.Process(server.pid).children())]
        assert holders(data_dir) == [watcher_and_worker[1]], "only the worker, not the watcher, holds the database"
        if to_group:
            os.killpg(server.pid, signum)
        else:
            server.send_signal(signum)
        server.wait(timeout=30)
        assert wait_stopped(data_dir)
        assert holders(data_dir) == []
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
