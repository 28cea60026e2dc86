"""Load on the real server: gunicorn as in production, Locust editors over loopback, a bounded time (~2 min).

    pip install -e ".[bench]"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py

Creates the database ``newsnotes_bench_load`` (``--database``) on that server as a copy of
``newsnotes_bench_load_template`` (migrated, demo corpus loaded; built on the first run and again when the
migrations change, or with ``--fresh``; kept for the next run), makes 71 editors with open sessions, then starts
gunicorn with ``newsnotes/gunicorn.conf.py`` as the Dockerfile does (DEBUG off, a generated SECRET_KEY, on
127.0.0.1:``--port``; ``--workers``, ``--threads``, ``--worker-class`` override the config) and runs:

(0) one editor alone, no think time, each endpoint of the mix ``--profile-rounds`` times: wall time and the CPU
    each request cost gunicorn and PostgreSQL (``/proc`` schedstat, exact since nothing else talks to the server);
(a) ``--users`` Locust editors (bench/load_users.py) with 2–5 s of think time between actions (open queue, open
    article, create, relabel, note, create + delete, create + undo) for ``--duration`` seconds: p50/p95/p99 per
    endpoint and errors; then every acknowledged change is checked in the database (each span the server said it
    stored is there exactly once, with the label and note last acknowledged; deleted and undone ones are gone;
    no span lacks its history; no unsettled idempotency claim);
(b) a closed loop (no think time, ``--loop-users`` editors) for ``--loop-duration`` seconds: requests/s at
    saturation.

For (a) and (b) it also prints the CPU per request of the server, PostgreSQL and the Locust client (its share
competes with the server on a small machine), the cores other jobs took meanwhile and the load average, and the
requests/s this machine's cores would serve at the measured CPU per request: on a shared machine latency
measures the neighbours, CPU per request much less so. Prints one summary table with the targets; the working
database is dropped at the end unless ``--keep``. Targets: p95 < 100 ms for page and create and 0 errors in (a);
>= 144 requests/s in (b) (2x the 72 req/s of issue 13).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
CONFIG = ROOT / "newsnotes" / "gunicorn.conf.py"
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


def prepare(env: dict[str, str], *, users: int, workdir: Path, migrated: bool = False) -> Path:
    """Migrate and load the demo corpus (unless ``migrated``: a copy of the template), make ``users`` editors
    with sessions; write what the editors need."""
    if not migrated:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run([sys.executable, "manage.py", "load_demo", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = workdir / "setup.json"
    subprocess.run([sys.executable, __file__, "--in-django", "setup", str(setup), str(users)], env=env, check=True)
    return setup


def template_stamp() -> str:
    """What the template database was built from: the migrations and the demo corpus (a hash of their files)."""
    digest = hashlib.sha256()
    for path in sorted(
        [*ROOT.glob("*/migrations/*.py"), *ROOT.glob("*/*/migrations/*.py"), *ROOT.glob("articles/demo/*")]
    ):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return "newsnotes bench/load.py template " + digest.hexdigest()[:16]


def create_database(server_url: str, name: str, env: dict[str, str], *, fresh: bool) -> bool:
    """Create ``name`` as a copy of ``<name>_template`` (migrated, demo corpus loaded), building the template first
    when it is missing, stale (other migrations) or ``fresh``: migrating takes a minute, a copy a second.
    True when the template was (re)built."""
    import psycopg

    template = f"{name}_template"
    stamp = template_stamp()
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
    built = fresh or row is None or row[0] != stamp
    if built:
        admin(server_url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        admin(server_url, f'CREATE DATABASE "{template}"')
        template_env = {**env, "DATABASE_URL": with_database(server_url, template)}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=template_env, check=True)
        subprocess.run([sys.executable, "manage.py", "load_demo", "-v", "0"], cwd=ROOT, env=template_env, check=True)
        admin(server_url, f"COMMENT ON DATABASE \"{template}\" IS '{stamp}'")
    admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return built


def start_gunicorn(env: dict[str, str], *, port: int, log: Path, options: tuple[str, ...] = ()) -> subprocess.Popen:
    """gunicorn with newsnotes/gunicorn.conf.py (as the Dockerfile and compose run it), ``options`` on top."""
    command = [str(BIN / "gunicorn"), "-c", str(CONFIG), "newsnotes.wsgi:application"]
    server = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}", *options],
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


TICK = os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent during a phase by the server (gunicorn's process group), PostgreSQL (the backends of the
    bench database), the client (Locust's process group) and the whole machine, sampled from /proc twice a
    second. On a machine shared with other jobs, latency measures the neighbours too; CPU per request does not.
    A process that exits loses at most its last half second (gunicorn recycles workers rarely; backends live
    CONN_MAX_AGE)."""

    def __init__(self, *, server: int, database: str) -> None:
        self.groups = {"server": server}
        self.database = database
        self.first: dict[int, tuple[str, int]] = {}
        self.last: dict[int, tuple[str, int]] = {}
        self.stop = threading.Event()
        self.machine = (0, 0)

    def _busy(self) -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4], sum(fields)  # busy (not idle, not iowait), all

    def _sample(self) -> None:
        by_group = {pgid: name for name, pgid in self.groups.items()}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                name = by_group.get(int(fields[2]))  # process group
                if name is None and stat[stat.index("(") + 1 : stat.rindex(")")] == "postgres":
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    name = "database" if f" {self.database} " in command else None
            except (OSError, ValueError):
                continue
            if name is not None:
                ticks = int(fields[11]) + int(fields[12])  # utime + stime
                self.first.setdefault(int(entry.name), (name, ticks))
                self.last[int(entry.name)] = (name, ticks)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._sample()

    def start(self, **groups: int) -> None:
        self.groups.update(groups)
        self._sample()
        self.machine = self._busy()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def finish(self) -> dict[str, float]:
        """CPU seconds per part, and the machine's busy CPU seconds over the phase (``machine``)."""
        self.stop.set()
        self.thread.join()
        self._sample()
        busy, total = self._busy()
        spent = {"server": 0.0, "database": 0.0, "client": 0.0}
        for pid, (name, ticks) in self.last.items():
            spent[name] = spent.get(name, 0.0) + (ticks - self.first[pid][1]) / TICK
        cores = os.cpu_count() or 1
        spent["machine"] = (busy - self.machine[0]) / TICK
        spent["seconds"] = (total - self.machine[1]) / TICK / cores
        return spent


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
        # Stopping, an editor ends at its next think time; only one still waiting for an answer after this long is
        # cut off (its write may then be stored unacknowledged, which the check would count as a wrong state).
        "--stop-timeout",
        "20",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(prefix.parent / "locust.log").open("a"),
        start_new_session=True,  # its own process group: CpuMeter counts the client apart
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
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: newsnotes/gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: the config's)")
    parser.add_argument("--worker-class", help="gunicorn worker class (default: the config's, gthread)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of phase (a)")
    parser.add_argument("--loop-users", type=int, default=20)
    parser.add_argument("--loop-duration", type=int, default=30, help="seconds of phase (b)")
    parser.add_argument("--profile-rounds", type=int, default=10, help="rounds of (0), one editor alone; 0: skip")
    parser.add_argument("--fresh", action="store_true", help="rebuild the template database")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    options: list[str] = []
    for flag, value in (("-w", args.workers), ("--threads", args.threads), ("-k", args.worker_class)):
        if value is not None:
            options += [flag, str(value)]

    server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    admin(server_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    env = server_env(with_database(server_url, args.database))
    workdir = Path(tempfile.mkdtemp(prefix="newsnotes-load-"))
    server = None
    started = time.monotonic()
    try:
        built = create_database(server_url, args.database, env, fresh=args.fresh)
        # Phase (b) has editors of its own: (a)'s have labelled places that (b)'s would pick again.
        # And one more editor for the profile (0).
        setup = prepare(env, users=args.users + args.loop_users + 1, workdir=workdir, migrated=True)
        server = start_gunicorn(env, port=args.port, options=tuple(options), log=workdir / "gunicorn.log")
        print(
            f"gunicorn -c newsnotes/gunicorn.conf.py {' '.join(options)} ({describe(options)}) on "
            f"127.0.0.1:{args.port}; demo corpus ({len(json.loads(setup.read_text())['bodies'])} articles, "
            f"database copied from {args.database}_template{', rebuilt' if built else ''}); ready after "
            f"{time.monotonic() - started:.0f} s; {os.cpu_count()} cores, machine shared with other jobs"
        )
        if args.profile_rounds:
            profile_table(profile(args, server, setup, rounds=args.profile_rounds))
            print(f"    load average {os.getloadavg()[0]:.1f}")
        ledger = workdir / "ledger.jsonl"
        human, human_cpu = phase(args, server, setup, ledger, users=args.users, seconds=args.duration, think="2,5")
        checked = verify(env, ledger)
        loop, loop_cpu = phase(
            args,
            server,
            setup,
            workdir / "ledger-loop.jsonl",
            users=args.loop_users,
            seconds=args.loop_duration,
            think="0,0",
            first_editor=args.users,
        )
        report(args, human, human_cpu, checked, loop, loop_cpu)
        print(f"\ntotal {time.monotonic() - started:.0f} s")
    finally:
        if server is not None:
            stop(server)
        if not args.keep:
            try:
                admin(server_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            except Exception as error:
                print(f"could not drop {args.database}: {error}")


def describe(options: list[str]) -> str:
    """The server's shape: newsnotes/gunicorn.conf.py's settings with ``options`` on top."""
    import runpy

    conf = runpy.run_path(str(CONFIG))
    given = dict(zip(options[::2], options[1::2], strict=True))
    workers = given.get("-w", conf["workers"])
    threads = given.get("--threads", conf["threads"])
    return f"{workers} {given.get('-k', conf['worker_class'])} workers x {threads} threads"


def server_cpu_ns(group: int, database: str) -> tuple[int, int]:
    """CPU time so far (ns, every thread) of gunicorn's process group and of the bench database's backends."""
    server = database_ns = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            in_group = int(stat[stat.rindex(")") + 2 :].split()[2]) == group
            if not in_group and not (
                name == "postgres" and f" {database} ".encode() in (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            ):
                continue
            ns = sum(int((task / "schedstat").read_text().split()[0]) for task in (entry / "task").iterdir())
        except (OSError, ValueError):
            continue
        if in_group:
            server += ns
        else:
            database_ns += ns
    return server, database_ns


def profile(args, server, setup: Path, *, rounds: int) -> dict[str, list[tuple[float, float, float]]]:
    """One editor alone, no think time: each endpoint of the mix ``rounds`` times, in sequence, each request's wall
    time and the CPU it cost the server and PostgreSQL (/proc schedstat deltas: exact, since nothing else
    talks to this server meanwhile). What each endpoint costs, apart from queueing behind the others."""
    import random
    import re
    import uuid

    import requests

    data = json.loads(setup.read_text())
    me = data["sessions"][-1]
    labels = data["labels"]
    bodies = data["bodies"]
    base = f"http://127.0.0.1:{args.port}"
    session = requests.Session()
    session.cookies.set("sessionid", me["sessionid"])
    rng = random.Random(7)
    # As bench/load_users.py's WORD (not imported: importing it starts Locust's gevent patching).
    words = re.compile(r"\b[A-Z][a-z]{3,}\b(?![\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])")
    costs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in ENDPOINTS[:-1]}

    def timed(name: str, method: str, path: str, **kwargs) -> requests.Response:
        before = server_cpu_ns(server.pid, args.database)
        started = time.perf_counter()
        response = session.request(method, base + path, timeout=60, **kwargs)
        wall = (time.perf_counter() - started) * 1000
        after = server_cpu_ns(server.pid, args.database)
        if response.status_code != 200:
            raise SystemExit(f"profile: {name} answered {response.status_code}: {response.text[:300]}")
        costs[name].append((wall, (after[0] - before[0]) / 1e6, (after[1] - before[1]) / 1e6))
        return response

    articles = list(bodies)
    used: set[tuple[str, int]] = set()
    for round_number in range(rounds + 2):  # two rounds to warm the workers up, not counted
        if round_number == 2:
            for values in costs.values():
                values.clear()
        pk = articles[round_number % len(articles)]
        timed("queue", "GET", "/")
        page = timed("page", "GET", f"/articles/{pk}/annotate/")
        token = re.search(r'"x-csrftoken": "([^"]+)"', page.text)
        headers = {"HX-Request": "true", "X-CSRFToken": token.group(1) if token else ""}
        places = [m for m in words.finditer(bodies[pk]) if (pk, m.start()) not in used]
        rng.shuffle(places)

        def write(name: str, path: str, fields: dict, pk=pk, headers=headers) -> int | None:
            sent = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            answer = timed(name, "POST", f"/articles/{pk}/{path}", data=fields, headers=sent)
            selected = re.search(r'data-selected="(\d+)"', answer.text)
            return int(selected.group(1)) if selected else None

        def create(pk=pk, places=places, write=write) -> int | None:
            word = places.pop()
            used.add((pk, word.start()))
            fields = {"label": labels["person"], "start": word.start(), "end": word.end(), "text": word.group()}
            return write("create", "spans/", fields)

        if len(places) < 3:
            continue
        span = create()
        write("relabel", "spans/relabel/", {"span": span, "label": labels["org"]})
        write("note", "spans/details/", {"span": span, "note": f"profiled {round_number}"})
        write("delete", "spans/delete/", {"span": create()})
        create()
        write("undo", "undo/", {})
    return costs


def profile_table(costs: dict[str, list[tuple[float, float, float]]]) -> None:
    import statistics

    print("\n(0) one editor alone, each endpoint in turn (medians; CPU from /proc schedstat, all threads):")
    print(f"{'endpoint':<14}{'requests':>9}{'wall ms':>9}{'server CPU':>12}{'db CPU':>9}")
    for name, rows in costs.items():
        if rows:
            wall, server, database = (statistics.median(column) for column in zip(*rows, strict=True))
            print(f"{name:<14}{len(rows):>9}{wall:>9.1f}{server:>12.1f}{database:>9.1f}")


def phase(args, server, setup: Path, ledger: Path, *, users: int, seconds: int, think: str, first_editor: int = 0):
    """One Locust run; its per-endpoint stats and what it cost in CPU (``CpuMeter``) with the load average."""
    prefix = ledger.parent / ("a" if think != "0,0" else "b")
    meter = CpuMeter(server=server.pid, database=args.database)
    client = locust(
        port=args.port,
        users=users,
        seconds=seconds,
        think=think,
        setup=setup,
        ledger=ledger,
        prefix=prefix,
        first_editor=first_editor,
    )
    meter.start(client=client.pid)
    try:
        client.wait(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        client.kill()
        client.wait()
        print(f"locust did not stop within {seconds + 60} s: killed")
    cpu = meter.finish()
    cpu["load"] = os.getloadavg()[0]
    return stats(prefix), cpu


def cpu_line(name: str, rows: dict, cpu: dict) -> str:
    """CPU per request by part, the client's share, and what the server would serve on this machine's cores."""
    count = rows.get("Aggregated", {}).get("count", 0) or 1
    per = {part: cpu[part] * 1000 / count for part in ("server", "database", "client")}
    cores = os.cpu_count() or 1
    own = cpu["server"] + cpu["database"] + cpu["client"]
    others = max(0.0, cpu["machine"] - own) / max(cpu["seconds"], 1e-9)
    return (
        f"{name:<4}{per['server']:>9.1f}{per['database']:>9.1f}{per['client']:>9.1f}"
        f"{100 * cpu['client'] / max(own, 1e-9):>9.0f}%{others:>10.2f}{cpu['load']:>8.1f}"
        f"{cores * 1000 / max(per['server'] + per['database'], 1e-9):>12.0f}"
        f"{cores * 1000 / max(sum(per.values()), 1e-9):>12.0f}"
    )


def report(args, human, human_cpu, checked, loop, loop_cpu) -> None:
    table(f"(a) {args.users} editors, think time 2-5 s, {args.duration} s", human)
    print("    database after (a): " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in checked.items()))
    table(f"(b) closed loop, {args.loop_users} editors, no think time, {args.loop_duration} s", loop)
    print("\nCPU per request (ms; /proc, whole phase), the client's share, other jobs' cores, load average, and the")
    print("requests/s this many cores would serve at that CPU per request (client elsewhere / client here):")
    print(
        f"{'':<4}{'server':>9}{'database':>9}{'client':>9}{'client':>10}{'others':>10}{'load':>8}"
        f"{'req/s ex.':>12}{'req/s incl.':>12}"
    )
    print(cpu_line("(a)", human, human_cpu))
    print(cpu_line("(b)", loop, loop_cpu))
    a, b = human.get("Aggregated", {}), loop.get("Aggregated", {})
    worst = max(human.get(n, {}).get("p95", 0) for n in ("page", "create"))
    lost = checked["lost"] + checked["duplicated"] + checked["wrong_state"] + checked["resurrected"]
    page, create = human.get("page", {}).get("p95", 0), human.get("create", {}).get("p95", 0)
    count = b.get("count", 0) or 1
    cores = os.cpu_count() or 1
    capacity = cores * 1000 / max((loop_cpu["server"] + loop_cpu["database"]) * 1000 / count, 1e-9)
    rows = [
        ("(a) page p95 / create p95 (ms)", f"{page:.0f} / {create:.0f}", "< 100"),
        ("(a) errors / requests", f"{a.get('failures', 0):.0f} / {a.get('count', 0):.0f}", "0"),
        ("(a) acknowledged spans lost/duplicated/wrong", f"{lost}", "0"),
        ("(b) requests/s at saturation (measured)", f"{b.get('rps', 0):.1f}", ">= 144"),
        (f"(b) requests/s {cores} free cores would serve (CPU)", f"{capacity:.0f}", ">= 144"),
        ("(b) errors / requests", f"{b.get('failures', 0):.0f} / {b.get('count', 0):.0f}", "0"),
    ]
    print(f"\nsummary (load average {human_cpu['load']:.1f} after (a), {loop_cpu['load']:.1f} after (b))")
    print(f"{'measure':<50}{'value':>14}{'target':>10}")
    for name, value, target in rows:
        print(f"{name:<50}{value:>14}{target:>10}")
    met = "met" if worst < 100 else "MISSED"
    print(f"verdict: page/create p95 {met}; saturation {'met' if b.get('rps', 0) >= 144 else 'MISSED'}")


if __name__ == "__main__":
    main()
