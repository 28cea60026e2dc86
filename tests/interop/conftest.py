"""Fixtures of the interop suite: our exports written once, the tools' environments, their servers on loopback.

Run with ``make interop`` (``bin/interop`` installs the tools into ``.interop/`` first). Servers listen on
127.0.0.1 only, on free ports, with SQLite in a temporary folder, and are stopped when the session ends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction

from annotations.exports import ExportFilters, ExportOptions, export
from tests.interop import corpus

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".interop"
FIXTURES = ROOT / "tests" / "fixtures" / "interop"
START_TIMEOUT = 120  # seconds a server may take to answer after it starts


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a tool: none of ours (DJANGO_SETTINGS_MODULE, DATABASE_URL...) leaks into it."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "PIP_CONFIG_FILE")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "PYTHONUTF8": "1", **extra}


def tool_python(env: str) -> Path:
    python = TOOLS / env / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run `bin/interop setup` (make interop does)")
    return python


def run_tool(env: str, script: str, *args: str, timeout: int = 300) -> object:
    """Run ``tests/interop/tools/<script>`` in a tool's environment; it prints one JSON document."""
    done = subprocess.run(
        [str(tool_python(env)), str(ROOT / "tests" / "interop" / "tools" / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=clean_env(),
    )
    if done.returncode:
        raise AssertionError(f"{script} {' '.join(map(str, args))} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


@dataclass
class Exports:
    folder: Path
    expected: list[corpus.Expected]
    bodies: dict[int, str]  # article id -> text, in id order

    def path(self, name: str) -> Path:
        return self.folder / name


@pytest.fixture(scope="session")
def exports(django_db_setup, django_db_blocker, tmp_path_factory) -> Exports:
    """Every format exported from the interop corpus into files; the database is rolled back afterwards."""
    folder = tmp_path_factory.mktemp("exports")
    files = {
        "spans.csv": ("csv", ExportOptions()),
        "spans-raw.csv": ("csv", ExportOptions(neutralise=False)),
        "articles.csv": ("articles-csv", ExportOptions()),
        "corpus.jsonl": ("jsonl", ExportOptions()),
        "corpus-utf16.jsonl": ("jsonl", ExportOptions(utf16=True)),
        "label-studio.json": ("label-studio", ExportOptions()),
        "corpus.conll": ("conll", ExportOptions()),
        "brat.zip": ("brat", ExportOptions()),
        "w3c.jsonld": ("w3c", ExportOptions()),
    }
    with django_db_blocker.unblock(), transaction.atomic():
        from articles.models import Article

        expected = corpus.build()
        bodies = dict(Article.objects.order_by("pk").values_list("pk", "body"))
        for name, (key, options) in files.items():
            heard: list[str] = []
            (folder / name).write_bytes(b"".join(export(key, ExportFilters(), options, on_dropped=heard.append)))
            (folder / (name + ".messages")).write_text("".join(m + "\n" for m in heard), encoding="utf-8")
        transaction.set_rollback(True)
    return Exports(folder, expected, bodies)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """Processes started in their own session (so stopping one stops its workers) with their output in a log."""

    def __init__(self, name: str, log_dir: Path) -> None:
        self.name = name
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        log = (self.log_dir / f"{self.name}-{len(self.processes)}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                argv, env=clean_env(**env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def wait_for_line(self, text: str) -> None:
        """Until the last process started writes ``text`` to its log (a worker saying it is ready)."""
        process, log = self.processes[-1], self.log_dir / f"{self.name}-{len(self.processes) - 1}.log"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {process.returncode}; see {self.log_dir}")
            if text in log.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not log {text!r} within {START_TIMEOUT} s; see {self.log_dir}")

    def wait_for(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {process.returncode}; see {self.log_dir}")
            try:
                with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (our own loopback server)
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise AssertionError(f"{self.name} did not answer {url} within {START_TIMEOUT} s; see {self.log_dir}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob(f"{self.name}-*.log")))


class Http:
    """A small JSON client for the tools' HTTP APIs."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base
        self.headers = headers

    def call(self, method: str, path: str, body=None, *, raw: bytes | None = None, content_type: str | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = content_type or "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                payload = response.read()
                return response.status, payload
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, method: str, path: str, body=None, expect=(200, 201)):
        status, payload = self.call(method, path, body)
        if status not in expect:
            raise AssertionError(f"{method} {path}: HTTP {status}: {payload[:2000]!r}")
        return json.loads(payload) if payload else None


LS_EMAIL = "admin@interop.test"
LS_PASSWORD = "interop-pass-1"  # a throwaway server on loopback, deleted with its temporary folder
LS_TOKEN = "interop0123456789abcdef0123456789abcdef"


@dataclass
class LabelStudio:
    url: str
    api: Http


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory) -> LabelStudio:
    """Label Studio 1.23.2 on 127.0.0.1 with SQLite and a fresh admin; no other users."""
    folder = tmp_path_factory.mktemp("label-studio")
    port = free_port()
    server = Server("label-studio", folder)
    binary = tool_python("label-studio").parent / "label-studio"
    server.start(
        [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port),
         "--data-dir", str(folder / "data"), "--username", LS_EMAIL, "--password", LS_PASSWORD,
         "--user-token", LS_TOKEN],
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(folder / "data"),
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
        },
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_for(url + "/api/version")
        yield LabelStudio(url, Http(url, {"Authorization": f"Token {LS_TOKEN}"}))
    finally:
        server.stop()


DOCCANO_PASSWORD = "interop-pass-1"  # throwaway users of a server on loopback


@dataclass
class Doccano:
    url: str
    home: Path

    def login(self, username: str) -> Http:
        anonymous = Http(self.url, {})
        key = anonymous.json("POST", "/v1/auth/login/", {"username": username, "password": DOCCANO_PASSWORD})["key"]
        return Http(self.url, {"Authorization": f"Token {key}"})

    def create_user(self, username: str) -> None:
        manage = [str(tool_python("doccano").parent / "doccano"), "createuser", "--username", username,
                  "--password", DOCCANO_PASSWORD, "--email", f"{username}@example.org"]  # fmt: skip
        subprocess.run(manage, env=clean_env(**self.env()), check=True, capture_output=True, timeout=120)

    def env(self) -> dict[str, str]:
        return {
            "DOCCANO_HOME": str(self.home),
            "DATABASE_URL": f"sqlite:///{self.home}/db.sqlite3",
            "MEDIA_ROOT": str(self.home / "media"),
            "STANDALONE": "True",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DEBUG": "False",
        }


@pytest.fixture(scope="session")
def doccano(tmp_path_factory) -> Doccano:
    """doccano 1.8.4 on 127.0.0.1: its web server (gunicorn, one worker) and task queue (celery), SQLite."""
    folder = tmp_path_factory.mktemp("doccano")
    home = folder / "home"
    home.mkdir()
    handle = Doccano("", home)
    bin_dir = tool_python("doccano").parent
    backend = next((bin_dir.parent / "lib").glob("python3.11/site-packages/backend"))
    subprocess.run(
        [str(bin_dir / "doccano"), "init"], env=clean_env(**handle.env()), check=True, capture_output=True,
        timeout=300,
    )  # fmt: skip
    handle.create_user("admin")
    port = free_port()
    server = Server("doccano", folder)
    handle.url = f"http://127.0.0.1:{port}"
    try:
        # The task queue first, until it is ready: started together, it and the web server's first health check
        # both created the SQLite broker's queue row, and the loser exited (UNIQUE constraint failed:
        # kombu_queue.name; seen once in CI).
        server.start(
            [str(bin_dir / "celery"), "--app=config", f"--workdir={backend}", "worker", "--pool=solo",
             "--concurrency=1", "--loglevel=info"],
            handle.env(),
        )  # fmt: skip
        server.wait_for_line(" ready.")
        # doccano's own `webserver` command binds 0.0.0.0; its gunicorn application, bound to loopback, is the same.
        server.start(
            [str(bin_dir / "gunicorn"), "--chdir", str(backend), "-b", f"127.0.0.1:{port}", "-w", "1",
             "config.wsgi"],
            handle.env(),
        )  # fmt: skip
        server.wait_for(handle.url + "/v1/health/")
        yield handle
    finally:
        server.stop()
