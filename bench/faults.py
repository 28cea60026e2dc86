"""Faults under load: SIGKILL a gunicorn worker mid-request, then crash-restart PostgreSQL, while editors work.

    pip install -e ".[bench]"
    .venv/bin/python bench/faults.py [--port 8450] [--users 50] [--duration 90]

Never touches a shared server: it creates its own throwaway PostgreSQL cluster (``initdb`` from
``--pg-bin``, data under /tmp, port ``--port``; run as the ``postgres`` user when started as root), the bench
database in it (demo corpus, editors with sessions; as bench/load.py), and gunicorn on ``--port`` + 1. While
``--users`` Locust editors (bench/load_users.py, think time 2–5 s) work for ``--duration`` seconds:

* at 1/4 of the time, a gunicorn worker that is running a request gets SIGKILL (gunicorn starts another);
* at 1/2, PostgreSQL is stopped with ``-m immediate`` (a crash: no shutdown checkpoint, in-flight transactions
  lost), a request is made while it is down (it must be a 503 with a sentence), and it is started again.

The editors settle every write whose answer they lost by asking ``/writes/`` with its Idempotency-Key, as the page
does (static/js/requests.js), and count it only if the server says it was saved. Afterwards: every acknowledged
span is in the database exactly once with its last acknowledged label and note, deleted and undone ones are gone,
no span lacks its history event, no undo entry names a span never written, no idempotency claim is left unsettled,
and no 5xx answer was a traceback or an empty page. The cluster is deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # bench/load.py, beside this file

DATABASE = "newsnotes_bench_faults"


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Cluster:
    """A throwaway PostgreSQL cluster on loopback: ``initdb``, ``pg_ctl start/stop``, removed by ``drop``."""

    def __init__(self, bin_dir: Path, port: int) -> None:
        self.bin, self.port = bin_dir, port
        self.root = Path(tempfile.mkdtemp(prefix=f"newsnotes-faults-pg-{port}-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        command = [str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        subprocess.run(as_postgres(command), check=True, stdout=subprocess.DEVNULL)

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=on -c max_connections=200"
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, *args]
        subprocess.run(as_postgres(command), check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self.ctl("start")

    def crash(self) -> None:
        self.ctl("stop", "-m", "immediate")

    def drop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.ctl("stop", "-m", "fast")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


def busy_worker(master: int, seconds: float = 5.0) -> tuple[int, bool]:
    """A worker of gunicorn ``master``, preferably one caught running (state R: serving a request)."""
    import psutil

    deadline = time.monotonic() + seconds
    workers = psutil.Process(master).children()
    while time.monotonic() < deadline:
        for worker in workers:
            try:
                if worker.status() == psutil.STATUS_RUNNING:
                    return worker.pid, True
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.002)
    return workers[0].pid, False


def probe(port: int, sessionid: str, article: str) -> tuple[int, str]:
    """One editor's page request: its status and the first sentence a person reads."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/articles/{article}/annotate/", headers={"Cookie": f"sessionid={sessionid}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http://127.0.0.1 only)
            return response.status, ""
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        sentence = text.split("<p>", 1)[-1].split("</p>", 1)[0] if "<p>" in text else text[:160]
        return error.code, sentence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8450, help="PostgreSQL's port; gunicorn takes the next")
    parser.add_argument("--pg-bin", type=Path, default=Path("/usr/lib/postgresql/15/bin"))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=90)
    parser.add_argument("--down", type=float, default=5.0, help="seconds PostgreSQL stays down")
    args = parser.parse_args()

    cluster = Cluster(args.pg_bin, args.port)
    server = None
    try:
        cluster.start()
        load.admin(cluster.url, f'CREATE DATABASE "{DATABASE}"')
        env = load.server_env(load.with_database(cluster.url, DATABASE))
        workdir = Path(tempfile.mkdtemp(prefix="newsnotes-faults-"))
        setup = load.prepare(env, users=args.users, workdir=workdir)
        web = args.port + 1
        server = load.start_gunicorn(env, port=web, options=("-w", str(args.workers)), log=workdir / "gunicorn.log")
        ledger = workdir / "ledger.jsonl"
        editors = load.locust(
            port=web,
            users=args.users,
            seconds=args.duration,
            think="2,5",
            setup=setup,
            ledger=ledger,
            prefix=workdir / "faults",
        )
        started = time.monotonic()
        first = json.loads(setup.read_text())
        session, article = first["sessions"][0]["sessionid"], next(iter(first["bodies"]))

        time.sleep(args.duration / 4)
        pid, running = busy_worker(server.pid)
        os.kill(pid, 9)
        killed_at = time.monotonic() - started
        print(f"t={killed_at:.0f} s: SIGKILL gunicorn worker {pid} ({'mid-request' if running else 'idle'})")

        time.sleep(max(0.0, args.duration / 2 - (time.monotonic() - started)))
        cluster.crash()
        crashed_at = time.monotonic() - started
        down_status, down_sentence = probe(web, session, article)
        time.sleep(args.down)
        cluster.start()
        restarted = time.monotonic()
        print(f"t={crashed_at:.0f} s: PostgreSQL stopped (immediate); a page then: {down_status} “{down_sentence}”")
        status = 0
        while status != 200 and time.monotonic() - restarted < 60:
            status, _ = probe(web, session, article)
        recovered = time.monotonic() - restarted
        print(f"PostgreSQL started again after {args.down:.0f} s down; pages answer 200 again {recovered:.1f} s later")

        editors.wait()
        rows = load.stats(workdir / "faults")
        checked = load.verify(env, ledger)
        report(args, rows, checked, running, down_status, recovered)
    finally:
        if server is not None:
            load.stop(server)
        cluster.drop()


def report(args, rows, checked, running, down_status, recovered) -> None:
    load.table(f"{args.users} editors, think time 2-5 s, {args.duration} s, with the two faults", rows)
    print("database afterwards: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in checked.items()))
    broken = sum(
        checked[k]
        for k in ("lost", "duplicated", "wrong_state", "resurrected", "spans_without_history", "undo_without_span")
    )
    print("\nsummary")
    print(f"{'check':<52}{'result':>10}")
    print(f"{'worker killed while serving a request':<52}{'yes' if running else 'no (idle)':>10}")
    print(f"{'page while PostgreSQL is down (want 503 + sentence)':<52}{down_status:>10}")
    print(f"{'seconds until pages answer again after restart':<52}{recovered:>10.1f}")
    print(f"{'acknowledged changes lost / half-written':<52}{broken:>10}")
    print(f"{'unsettled idempotency claims':<52}{checked['unsettled_claims']:>10}")
    print(f"{'5xx answers without a sentence (traceback/empty)':<52}{checked['unclear_errors']:>10}")
    print(f"{'writes whose answer was lost, then settled':<52}{checked['settled_after_lost_answer']:>10}")
    print(f"{'writes never settled':<52}{checked['unsettled_writes']:>10}")
    ok = broken == 0 and checked["unclear_errors"] == 0 and down_status == 503 and checked["unsettled_writes"] == 0
    print(f"verdict: {'nothing acknowledged lost, nothing half-written, clear messages' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
