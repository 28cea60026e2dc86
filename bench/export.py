"""How close the span CSV export comes to PostgreSQL's own COPY, in one run.

    python bench/export.py --spans 1000000 [--articles N] [--database newsnotes_bench_export]

Builds (or reuses) a corpus with ``bench/corpus.py``, then exports every span as CSV five ways and prints
rows/s, MB/s, the ratio to raw COPY (its time divided by ours: 1.0 is as fast as COPY) and the peak RSS of
the process doing the export (best time of ``--repeat`` interleaved rounds; peak RSS over all of them):

1. raw COPY: ``psql`` running the very query our export uses, ``COPY (...) TO STDOUT WITH (FORMAT csv)``,
   into a file: the server's own speed, with nothing of ours in the way;
2. COPY via psycopg, in this process: ``stream_spans_csv`` (what the CLI and the web download use);
3. server-side cursor + csv.writer, in this process: the alternative we measured and did not pick;
4. CLI: ``manage.py export_spans --format csv -o FILE`` in its own process;
5. HTTP: ``GET /export/download?format=csv`` from gunicorn (one sync worker), downloaded with curl.

All outputs must be byte-identical (checked by SHA-256). Targets: ratio >= 0.5 and peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import ensure_corpus  # noqa: E402

MB = 1024 * 1024


@dataclass
class Result:
    name: str
    rows: int
    size: int
    seconds: float
    peak_rss: int | None  # bytes
    digest: str


class PeakRss:
    """Samples a process's RSS (and its children's) every 20 ms; ``peak`` is the largest seen."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def app_env(url: str) -> dict[str, str]:
    """The app as it runs in production (DEBUG off), on the benchmark database, over plain HTTP on localhost."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "NEWSNOTES_PLAIN_STATIC": "1",
        # Whitenoise warns when STATIC_ROOT is missing; the download serves no static files.
        "STATIC_ROOT": tempfile.mkdtemp(prefix="newsnotes-bench-static-"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "newsnotes.settings",
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(MB):
            digest.update(block)
    return digest.hexdigest()


def count_rows(path: Path) -> int:
    """CSV records in the file: newlines outside quoted cells (quotes come in pairs inside a cell)."""
    rows = 0
    quoted = False
    with path.open("rb") as f:
        while block := f.read(MB):
            if not quoted and b'"' not in block:
                rows += block.count(b"\n")
                continue
            for byte in block:
                if byte == 0x22:
                    quoted = not quoted
                elif byte == 0x0A and not quoted:
                    rows += 1
    return rows


def run_raw_copy(url: str, out: Path) -> Result:
    from annotations.exports.spans_csv import CANONICAL_JSON_FUNCTION, HEADER, copy_sql

    sql, params = copy_sql(None, neutralise=True)
    assert not params
    out.write_bytes(HEADER.encode())
    with out.open("ab") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            [
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                url,
                "-c",
                CANONICAL_JSON_FUNCTION,
                "-c",
                sql,  # as written: flattened onto one line, its "--" comment swallowed the rest of the query
            ],
            stdout=sink,
        )
        with PeakRss(process.pid) as rss:
            process.wait()
        seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit("psql failed")
    return Result("raw COPY (psql)", 0, out.stat().st_size, seconds, rss.peak, sha256_file(out))


def run_in_process(name: str, chunks_factory, out: Path) -> Result:
    with PeakRss(os.getpid()) as rss, out.open("wb") as sink:
        started = time.perf_counter()
        for chunk in chunks_factory():
            sink.write(chunk)
        seconds = time.perf_counter() - started
    return Result(name, 0, out.stat().st_size, seconds, rss.peak, sha256_file(out))


def run_cli(env: dict[str, str], out: Path) -> Result:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "export_spans", "--format", "csv", "-o", str(out), "-v", "0"],
        env=env,
        cwd=ROOT,
    )
    # Sampled rather than getrusage: a forked child's ru_maxrss counts the parent's pages it shared until exec.
    with PeakRss(process.pid) as rss:
        process.wait()
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit("export_spans failed")
    # The time includes starting Python and Django (about a second on this machine).
    return Result("CLI export_spans", 0, out.stat().st_size, seconds, rss.peak, sha256_file(out))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(username: str) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "newsnotes.permissions.UserWithPermissionsBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def run_http(env: dict[str, str], username: str, out: Path) -> Result:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "newsnotes.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "900",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        worker = psutil.Process(server.pid).children()[0]
        cookie = session_cookie(username)
        with PeakRss(worker.pid) as rss:
            started = time.perf_counter()
            subprocess.run(
                [
                    "curl",
                    "-sSf",
                    "-o",
                    str(out),
                    "-H",
                    f"Cookie: sessionid={cookie}",
                    f"{base}/export/download?format=csv",
                ],
                check=True,
            )
            seconds = time.perf_counter() - started
        return Result("HTTP (gunicorn + curl)", 0, out.stat().st_size, seconds, rss.peak, sha256_file(out))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, help="default: one per 20 spans")
    parser.add_argument("--database", default="newsnotes_bench_export")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each way's best time is reported")
    parser.add_argument("--keep", action="store_true", help="keep the exported files (printed at the end)")
    args = parser.parse_args(argv)
    articles = args.articles or max(1, args.spans // 20)

    corpus = ensure_corpus(articles=articles, spans=args.spans, database=args.database)
    env = app_env(corpus.url)
    os.environ.update(env)
    import django

    django.setup()
    from annotations.exports.spans_csv import stream_spans_csv, stream_spans_csv_cursor

    workdir = Path(tempfile.mkdtemp(prefix="newsnotes-bench-export-"))
    print(f"exporting {args.spans:,} spans; files in {workdir}", flush=True)
    print("warming the cache with one unmeasured COPY", flush=True)
    run_raw_copy(corpus.url, workdir / "warmup.csv")
    (workdir / "warmup.csv").unlink()

    runs = [
        lambda: run_raw_copy(corpus.url, workdir / "raw.csv"),
        lambda: run_in_process("COPY via psycopg (in process)", stream_spans_csv, workdir / "copy.csv"),
        lambda: run_in_process("cursor + csv.writer (in process)", stream_spans_csv_cursor, workdir / "cursor.csv"),
        lambda: run_cli(env, workdir / "cli.csv"),
        lambda: run_http(env, corpus.username, workdir / "http.csv"),
    ]
    # Rounds interleave the five ways, and each keeps its best round: the machine's other work then weighs on
    # all of them alike instead of on whichever happened to run during a busy moment.
    best: list[Result | None] = [None] * len(runs)
    peaks = [0] * len(runs)
    for round_number in range(1, args.repeat + 1):
        print(f"round {round_number} of {args.repeat}", flush=True)
        for i, run in enumerate(runs):
            result = run()
            print(f"  {result.name}: {result.seconds:.2f}s", flush=True)
            peaks[i] = max(peaks[i], result.peak_rss or 0)
            if best[i] is None or result.seconds < best[i].seconds:
                best[i] = result
    results = [r for r in best if r is not None]
    for result, peak in zip(results, peaks, strict=True):
        result.peak_rss = peak

    rows = count_rows(workdir / "raw.csv") - 1
    raw = results[0]
    print()
    print(f"{'export':34} {'rows/s':>12} {'MB/s':>8} {'ratio':>6} {'peak RSS':>9}  identical")
    for r in results:
        print(
            f"{r.name:34} {rows / r.seconds:>12,.0f} {r.size / MB / r.seconds:>8.1f} {raw.seconds / r.seconds:>6.2f}"
            f" {(r.peak_rss or 0) / MB:>7.0f}MB  {'yes' if r.digest == raw.digest else 'NO'}"
        )
    print(
        f"\n{rows:,} rows, {raw.size / MB:,.1f} MB; ratio = raw COPY time / our time (target >= 0.5); "
        f"peak RSS of the exporting process (target < 150 MB; in-process rows include the benchmark itself: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB peak overall)"
    )
    if not args.keep:
        for r in workdir.iterdir():
            r.unlink()
        workdir.rmdir()
    if any(r.digest != raw.digest for r in results) or rows != args.spans:
        raise SystemExit("outputs differ or rows are missing")


if __name__ == "__main__":
    main()
