"""Load on the real server: gunicorn as in production, Locust editors over loopback, a bounded time.

    pip install -e ".[bench]"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py

Creates the database ``newsnotes_bench_load`` (``--database``) on that server, migrates it, loads the demo corpus
(``manage.py load_demo``) and 50 editors with open sessions, then starts ``gunicorn newsnotes.wsgi`` (DEBUG off, a
generated SECRET_KEY, ``--workers`` workers on 127.0.0.1:``--port``) and runs two phases with ``locust --headless``
(the editors are bench/load_users.py):

(a) ``--users`` editors with 2–5 s of think time between actions (open queue, open article, create, relabel,
    note, create + delete, create + undo) for ``--duration`` seconds: p50/p95/p99 per endpoint and errors; then
    every acknowledged change is checked in the database (each span the server said it stored is there exactly
    once, with the label and note last acknowledged; deleted and undone ones are gone; no span lacks its
    history; no unsettled idempotency claim);
(b) a closed loop (no think time, ``--loop-users`` editors) for ``--loop-duration`` seconds: requests/s at
    saturation.

Prints one summary table; the database is dropped at the end unless ``--keep``. Targets: p95 < 100 ms for page and
create and 0 errors in (a); >= 144 requests/s in (b) (2x the 72 req/s of issue 13).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
ENDPOINTS = ["queue", "page", "create", "relabel", "note", "delete", "undo", "write check"]


def server_env(database_url: str) -> dict[str, str]:
    """Production settings on plain HTTP loopback: DEBUG off, a fresh SECRET_KEY, no HTTPS redirect."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "NEWSNOTES_PLAIN_STATIC": "1",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "newsnotes.settings",
    }


def admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        # DROP DATABASE waits for every backend of the server to acknowledge it; on a shared server do not hang.
        conn.execute("SET statement_timeout = '60s'")
        conn.execute(sql)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}", query=""))


def prepare(env: dict[str, str], *, users: int, workdir: Path) -> Path:
    """Migrate, load the demo corpus, make ``users`` editors with sessions; write what the editors need."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "load_demo", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = workdir / "setup.json"
    subprocess.run([sys.executable, __file__, "--in-django", "setup", str(setup), str(users)], env=env, check=True)
    return setup


def start_gunicorn(env: dict[str, str], *, port: int, workers: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        # --no-control-socket: gunicorn's default control socket is one path per machine user, shared by all.
        [BIN / "gunicorn", "newsnotes.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return server
        except urllib.error.HTTPError:
            return server  # it answers
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited: {log.read_text()[-2000:]}") from None
            time.sleep(0.5)
    stop(server)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def locust(
    *, port: int, users: int, seconds: int, think: str, setup: Path, ledger: Path, prefix: Path, first_editor: int = 0
) -> subprocess.Popen:
    """Start Locust headless against loopback; the caller waits (bench/faults.py acts meanwhile)."""
    env = {
        **os.environ,
        "LOAD_SETUP": str(setup),
        "LOAD_LEDGER": str(ledger),
        "LOAD_THINK": think,
        "LOAD_FIRST_EDITOR": str(first_editor),
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "load_users.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 5)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "30",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(prefix.parent / "locust.log").open("a")
    )


def stats(prefix: Path) -> dict[str, dict[str, float]]:
    """Per endpoint from Locust's CSV: count, failures, p50/p95/p99 ms, requests/s; "Aggregated" for all."""
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as file:
        for row in csv.DictReader(file):
            rows[row["Name"]] = {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
                "rps": float(row["Requests/s"] or 0),
            }
    return rows


def expected(ledger: Path) -> tuple[dict[int, dict], list[dict]]:
    """Each acknowledged span's last acknowledged state (None: deleted or undone), and other ledger notes."""
    spans: dict[int, dict] = {}
    notes = []
    for line in ledger.read_text().splitlines():
        entry = json.loads(line)
        kind = entry["kind"]
        if kind == "span":
            spans[entry["span"]] = {**entry, "present": True}
        elif kind == "relabel":
            spans[entry["span"]]["label"] = entry["label"]
        elif kind == "note":
            spans[entry["span"]]["note"] = entry["note"]
        elif kind in ("delete", "undo"):
            spans[entry["span"]]["present"] = False
        else:
            notes.append(entry)
    return spans, notes


def verify(env: dict[str, str], ledger: Path) -> dict[str, int]:
    """Acknowledged changes against the database, and nothing half-written (counts of each kind of problem)."""
    spans, notes = expected(ledger)
    check = ledger.parent / "expected.json"
    check.write_text(json.dumps({str(k): v for k, v in spans.items()}))
    command = [sys.executable, __file__, "--in-django", "check", str(check)]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["unclear_errors"] = sum(n["kind"] == "unclear-error" for n in notes)
    result["unsettled_writes"] = sum(n["kind"] == "unsettled" for n in notes)
    result["settled_after_lost_answer"] = sum(n["kind"] == "settled" for n in notes)
    return result


def table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'endpoint':<14}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    for name in [*[n for n in ENDPOINTS if n in rows], "Aggregated"]:
        r = rows.get(name)
        if r:
            print(
                f"{name:<14}{r['count']:>9}{r['failures']:>8}{r['p50']:>9.0f}{r['p95']:>9.0f}{r['p99']:>9.0f}"
                f"{r['rps']:>9.1f}"
            )


def make_editors(setup: str, users: str) -> None:
    """(In Django.) ``users`` editors with open sessions; labels and article bodies for the Locust editors."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from annotations.models import Label
    from annotations.workflow.models import WorkflowSettings
    from articles.models import Article

    settings.ALLOWED_HOSTS.append("testserver")
    # Every editor may take every article: the bench measures requests, not the slot rules.
    WorkflowSettings.objects.update(editors_per_article=int(users))
    editors = Group.objects.get(name="Editors")
    sessions = []
    for i in range(int(users)):
        user = get_user_model().objects.create_user(f"load-editor-{i:02d}", password=None)
        user.groups.add(editors)
        client = Client()
        client.force_login(user)
        sessions.append({"user": user.pk, "sessionid": client.cookies["sessionid"].value})
    labels = {label.slug: label.pk for label in Label.objects.all()}
    # A reviewed article takes no more spans (the demo has one): editors work on the others.
    open_articles = Article.objects.exclude(status=Article.Status.REVIEWED)
    bodies = {str(pk): body for pk, body in open_articles.values_list("pk", "body")}
    Path(setup).write_text(json.dumps({"sessions": sessions, "labels": labels, "bodies": bodies}))


NO_HISTORY = """SELECT count(*) FROM annotations_span s WHERE NOT EXISTS
    (SELECT 1 FROM annotations_spanevent e WHERE e.pgh_obj_id = s.id AND e.pgh_label = 'insert')"""
# An undo entry for a span that was never written (a span deleted later is fine: undo then says so).
UNDO_WITHOUT_SPAN = """SELECT count(*) FROM annotations_undoentry u WHERE u.entry->>'op' IN ('create', 'relabel')
    AND NOT EXISTS (SELECT 1 FROM annotations_spanevent e WHERE e.pgh_obj_id = (u.entry->>'span')::bigint)"""


def check_database(expected_file: str) -> None:
    """(In Django.) Print, as JSON, how the database differs from what the editors were told is stored."""
    from django.db import connection

    from annotations.models import Span
    from annotations.workspace.models import WriteOutcome

    want = json.loads(Path(expected_file).read_text())
    rows = {
        row[0]: row for row in Span.objects.filter(pk__in=[int(k) for k in want]).values_list("pk", "label_id", "note")
    }
    lost = duplicated = wrong = resurrected = 0
    for key, w in want.items():
        row = rows.get(int(key))
        if not w["present"]:
            resurrected += row is not None
            continue
        if row is None:
            lost += 1
            continue
        place = {"article_id": w["article"], "annotator_id": w["user"], "start": w["start"], "end": w["end"]}
        duplicated += Span.objects.filter(**place).count() != 1
        wrong += (row[1], row[2]) != (w["label"], w["note"])
    with connection.cursor() as cursor:
        cursor.execute(NO_HISTORY)
        no_history = cursor.fetchone()[0]
        cursor.execute(UNDO_WITHOUT_SPAN)
        orphan_undo = cursor.fetchone()[0]
    result = {
        "acknowledged": sum(w["present"] for w in want.values()),
        "removed": sum(not w["present"] for w in want.values()),
        "lost": lost,
        "duplicated": duplicated,
        "wrong_state": wrong,
        "resurrected": resurrected,
        "spans_without_history": no_history,
        "undo_without_span": orphan_undo,
        "unsettled_claims": WriteOutcome.objects.filter(status=0).count(),
    }
    print(json.dumps(result))


def in_django(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "setup":
        make_editors(*argv[1:])
    else:
        check_database(*argv[1:])


def main() -> None:
    if sys.argv[1:2] == ["--in-django"]:
        return in_django(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="newsnotes_bench_load")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=90, help="seconds of phase (a)")
    parser.add_argument("--loop-users", type=int, default=30)
    parser.add_argument("--loop-duration", type=int, default=40, help="seconds of phase (b)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    admin(server_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    admin(server_url, f'CREATE DATABASE "{args.database}"')
    env = server_env(with_database(server_url, args.database))
    workdir = Path(tempfile.mkdtemp(prefix="newsnotes-load-"))
    server = None
    try:
        # Phase (b) has editors of its own: (a)'s have labelled places that (b)'s would pick again.
        setup = prepare(env, users=args.users + args.loop_users, workdir=workdir)
        server = start_gunicorn(env, port=args.port, workers=args.workers, log=workdir / "gunicorn.log")
        print(
            f"gunicorn newsnotes.wsgi, {args.workers} workers on 127.0.0.1:{args.port}; demo corpus "
            f"({len(json.loads(setup.read_text())['bodies'])} articles); {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f} at the start (machine shared with other jobs)"
        )
        ledger = workdir / "ledger.jsonl"
        locust(
            port=args.port,
            users=args.users,
            seconds=args.duration,
            think="2,5",
            setup=setup,
            ledger=ledger,
            prefix=workdir / "a",
        ).wait()
        human = stats(workdir / "a")
        checked = verify(env, ledger)
        locust(
            port=args.port,
            users=args.loop_users,
            seconds=args.loop_duration,
            think="0,0",
            setup=setup,
            ledger=workdir / "ledger-loop.jsonl",
            first_editor=args.users,
            prefix=workdir / "b",
        ).wait()
        loop = stats(workdir / "b")
        report(args, human, checked, loop)
    finally:
        if server is not None:
            stop(server)
        if not args.keep:
            try:
                admin(server_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            except Exception as error:
                print(f"could not drop {args.database}: {error}")


def report(args, human, checked, loop) -> None:
    table(f"(a) {args.users} editors, think time 2-5 s, {args.duration} s", human)
    print("    database after (a): " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in checked.items()))
    table(f"(b) closed loop, {args.loop_users} editors, no think time, {args.loop_duration} s", loop)
    a, b = human.get("Aggregated", {}), loop.get("Aggregated", {})
    worst = max(human.get(n, {}).get("p95", 0) for n in ("page", "create"))
    lost = checked["lost"] + checked["duplicated"] + checked["wrong_state"] + checked["resurrected"]
    page, create = human.get("page", {}).get("p95", 0), human.get("create", {}).get("p95", 0)
    rows = [
        ("(a) page p95 / create p95 (ms)", f"{page:.0f} / {create:.0f}", "< 100"),
        ("(a) errors / requests", f"{a.get('failures', 0):.0f} / {a.get('count', 0):.0f}", "0"),
        ("(a) acknowledged spans lost/duplicated/wrong", f"{lost}", "0"),
        ("(b) requests/s at saturation", f"{b.get('rps', 0):.1f}", ">= 144"),
        ("(b) errors / requests", f"{b.get('failures', 0):.0f} / {b.get('count', 0):.0f}", "0"),
    ]
    print("\nsummary")
    print(f"{'measure':<46}{'value':>14}{'target':>10}")
    for name, value, target in rows:
        print(f"{name:<46}{value:>14}{target:>10}")
    met = "met" if worst < 100 else "MISSED"
    print(f"verdict: page/create p95 {met}; saturation {'met' if b.get('rps', 0) >= 144 else 'MISSED'}")


if __name__ == "__main__":
    main()
