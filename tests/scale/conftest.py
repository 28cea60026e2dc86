"""Real servers for the scaling tests: gunicorn processes and a PgBouncer, on this worktree's test database.

The tests that use them are transactional (their rows are committed, so other processes see them) and restore
the migrations' data afterwards (``serialized_rollback``). Every process started here is stopped by its fixture,
before pytest-django drops the test database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.db import connection

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
# This worktree's ports (one range per developer sharing the machine): override with NEWSNOTES_TEST_PORT_BASE.
PORT_BASE = int(os.environ.get("NEWSNOTES_TEST_PORT_BASE", "8310"))
PGBOUNCER_PORT = int(os.environ.get("NEWSNOTES_TEST_PGBOUNCER_PORT", "6440"))
PASSWORD = "a-long-test-password-1"
# The deployed settings (newsnotes/gunicorn.conf.py: gthread, preload, keep-alive), one worker per server here.
WORKER = [
    "-c",
    str(ROOT / "newsnotes" / "gunicorn.conf.py"),
    "--workers",
    "1",
    "--timeout",
    "120",
    "--access-logfile",
    "-",
]
STARTUP_SECONDS = 90  # a bound on waiting for a server to answer, not an assertion about speed


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next((p for p in ["/usr/sbin/pgbouncer"] if Path(p).exists()), None)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited:\n{log.read_text(errors='replace')[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gunicorn(*, port: int, database_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """NewsNotes under gunicorn with its production settings (HTTPS redirects off) on 127.0.0.1:``port``."""
    log = Path(tempfile.mkstemp(prefix=f"newsnotes-gunicorn-{port}-", suffix=".log")[1])
    base = f"http://127.0.0.1:{port}"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_", "NEWSNOTES_", "PYTEST")) and key != "DEBUG"
    } | {
        "DJANGO_SETTINGS_MODULE": "newsnotes.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "tests-scale-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "NEWSNOTES_PLAIN_STATIC": "1",
        "NEWSNOTES_DATA_DIR": str(log.parent / f"newsnotes-data-{port}"),
    }
    environment |= env or {}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "newsnotes.wsgi:application", "--bind", f"127.0.0.1:{port}", *WORKER],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield base
    finally:
        _stop(process, signal.SIGINT)  # gunicorn's quick shutdown: SIGTERM waits out keep-alive connections
        log.unlink(missing_ok=True)


@contextmanager
def pgbouncer(*, port: int) -> Iterator[int]:
    """PgBouncer in transaction pooling on 127.0.0.1:``port`` in front of the server the tests use.

    ``server_round_robin`` hands a client's next transaction to another server connection whenever several are
    idle: what a busy pool does, made the rule, so state that leaks out of a transaction shows up here.
    """
    binary = pgbouncer_binary()
    assert binary, "pgbouncer is not installed"
    settings = connection.settings_dict
    folder = Path(tempfile.mkdtemp(prefix="newsnotes-pgbouncer-"))
    folder.chmod(0o755)
    user = settings["USER"] or "postgres"
    (folder / "userlist.txt").write_text(f'"{user}" "{settings["PASSWORD"] or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {folder / 'userlist.txt'}",
                "pool_mode = transaction",
                "default_pool_size = 4",
                "server_round_robin = 1",
                "max_client_conn = 100",
                "ignore_startup_parameters = extra_float_digits",
                f"logfile = {folder / 'pgbouncer.log'}",
                f"pidfile = {folder / 'pgbouncer.pid'}",
                "",
            ]
        )
    )
    log = folder / "pgbouncer.log"
    log.touch()
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in [folder, *folder.iterdir()]:
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        yield port
    finally:
        _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def database_url(*, port: int | None = None, query: str = "") -> str:
    """The test database's URL, optionally through another port (PgBouncer)."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    where = port or settings["PORT"] or 5432
    return f"postgres://{settings['USER'] or 'postgres'}{password}@{host}:{where}/{settings['NAME']}{query}"


def person(username: str, *groups: str):
    """A committed user whose password the production settings can check (PBKDF2, few rounds: Django
    upgrades the hash at the first login)."""
    user = UserFactory(username=username)
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt(), iterations=1000)
    user.save(update_fields=["password"])
    for group in groups:
        user.groups.add(Group.objects.get(name=group))
    return user


@dataclass
class Visitor:
    """One person's cookies across servers that share a host name (as behind one proxy port): an httpx client
    that sends the CSRF token the way the page's htmx does."""

    client: httpx.Client

    def csrf(self) -> str:
        return self.client.cookies["csrftoken"]

    def login(self, base: str, username: str) -> None:
        page = self.client.get(f"{base}/login/")
        assert page.status_code == 200
        response = self.client.post(
            f"{base}/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()},
        )
        assert response.status_code == 302, response.text[:500]
        assert "sessionid" in self.client.cookies

    def post(self, url: str, data: dict | None = None, **headers: str) -> httpx.Response:
        return self.client.post(
            url, data=data or {}, headers={"HX-Request": "true", "X-CSRFToken": self.csrf(), **headers}
        )


@pytest.fixture
def visitor() -> Iterator[Visitor]:
    with httpx.Client(timeout=120) as client:
        yield Visitor(client)
