"""Import throughput: the real ``manage.py import_articles`` against a raw ``COPY`` of the same rows (the floor).

    python bench/import.py [--articles 10000] [--spans 200000]
    python bench/import.py --big [--gigabytes 1.0]

A fresh database (``<DATABASE_URL's name>_bench_import``, dropped and recreated) is migrated and given the user
``bench``. The corpus of ``bench/corpus.py`` is written as our own ``jsonl`` export (doccano lines with per-span
annotator, note, attributes and times) into a temporary folder and imported by the command in a child process:
its wall time, the moment its transaction commits (the first article becomes visible to another connection)
and its peak RSS (``wait4``'s ``ru_maxrss`` of that process alone). The import leaves the full-text vectors
NULL and queues the job that fills them, then the boilerplate and suggestion checks: ``manage.py db_worker
--batch`` runs both; "fully indexed" is the command's time plus the worker's until no vector is missing (seen
from another connection), "fully done" plus the whole worker run (its RSS is printed apart: another process).
Then the tables are emptied and the floor loads the very same article and span rows with two binary ``COPY``
statements in one transaction (as the import sends them; the rows are prepared before its clock starts), into
the same tables with the same indexes, constraints, triggers (span text check, history, the vector's) — with the
vectors deferred as the import defers them — and commits (the floor's "committed"), then fills the vectors with
the job's own statement (its "fully indexed"). The ratios are floor time / import time for each: 1.0 would be an
import as fast as PostgreSQL can take the rows.

``--big`` writes a ~1 GB file of the same kind and reports the import's peak RSS only (no floor, no worker).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import USERNAME, jsonl_lines, write_jsonl  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def _urls() -> tuple[str, str]:
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    parts = urlsplit(server)
    name = (parts.path.lstrip("/") or "newsnotes") + "_bench_import"
    return server, urlunsplit(parts._replace(path="/" + name))


def fresh_database(server: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], check=True, env=env, cwd=ROOT)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined) VALUES ('!', false, %s, '', '', '', false, true, now())",
            [USERNAME],
        )
        conn.execute(
            "INSERT INTO auth_user_groups (user_id, group_id) SELECT u.id, g.id FROM auth_user u, auth_group g "
            "WHERE u.username = %s AND g.name = 'Editors'",
            [USERNAME],
        )


def run_import(url: str, path: Path) -> dict:
    """The command in a child process: wall time, commit time (seen from another connection), peak RSS."""
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DEBUG", None)  # as in production: no query log
    committed: list[float] = []
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_articles", str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                if conn.execute("SELECT 1 FROM articles_article LIMIT 1").fetchone() is not None:
                    committed.append(time.perf_counter() - started)
                    return
                time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = child.stdout.read() if child.stdout else b""
    err = child.stderr.read() if child.stderr else b""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    watcher.join()
    if child.returncode != 0:
        raise SystemExit(f"import failed ({child.returncode}):\n{out.decode()}\n{err.decode()[-3000:]}")
    return {
        "seconds": seconds,
        "committed": committed[0] if committed else seconds,
        "rss_mb": usage.ru_maxrss / 1024,
        "output": out.decode().strip(),
    }


def _pending(conn) -> int:
    return conn.execute("SELECT count(*) FROM articles_article WHERE search_document IS NULL").fetchall()[0][0]


def run_checks(url: str) -> dict:
    """The jobs the import queued, run by the real worker (``db_worker --batch``): the full-text vectors first (a
    higher priority), then the boilerplate and suggestion checks. Wall time until no vector is missing (seen
    from another connection), until the worker is done, and its RSS."""
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DEBUG", None)
    indexed: list[float] = []
    stop = threading.Event()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--interval", "0"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def watch() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                if _pending(conn) == 0:
                    indexed.append(time.perf_counter() - started)
                    return
                time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    err = child.stderr.read() if child.stderr else b""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"worker failed:\n{err.decode()[-3000:]}")
    with psycopg.connect(url) as conn:
        jobs: dict[str, int] = dict(
            conn.execute("SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1")
        )
        if _pending(conn):
            raise SystemExit("the worker is done and some articles still have no full-text vector")
    if set(jobs) - {"SUCCESSFUL"}:
        raise SystemExit(f"queued jobs not all successful: {jobs}")
    return {
        "seconds": seconds,
        "indexed": indexed[0] if indexed else seconds,
        "rss_mb": usage.ru_maxrss / 1024,
        "jobs": jobs.get("SUCCESSFUL", 0),
    }


def counts(url: str) -> dict[str, int]:
    tables = {
        "articles": "articles_article",
        "spans": "annotations_span",
        "span history": "annotations_spanevent",
        "article history": "annotations_articleevent",
        "slots": "annotations_assignment",
    }
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608
            for name, table in tables.items()
        }


def floor_rows(path: Path, conn) -> tuple[list[tuple], list[tuple]]:
    """The article and span rows the import stored, prepared before the clock starts."""
    labels = dict(conn.execute("SELECT slug, id FROM annotations_label").fetchall())
    sources = dict(conn.execute("SELECT domain, id FROM articles_source").fetchall())
    user = conn.execute("SELECT id FROM auth_user WHERE username = %s", [USERNAME]).fetchall()[0][0]
    now = dt.datetime.now(dt.UTC)
    articles, spans = [], []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, start=1):
            row = json.loads(line)
            body = row["text"]
            articles.append(
                (
                    n,
                    row["title"],
                    sources[row["source"]],
                    row["url"],
                    row["byline"],
                    _moment(row["published_at"]),
                    row["language"],
                    body,
                    hashlib.sha256(body.encode()).hexdigest(),
                    row["status"],
                    now,
                    row["metadata"],
                )
            )
            for span in row["spans"]:
                spans.append(
                    (
                        n,
                        labels[span["label"]],
                        span["start"],
                        span["end"],
                        span["text"],
                        user,
                        span["origin"],
                        span["note"],
                        span["attributes"],
                        _moment(span["created_at"]),
                        _moment(span["updated_at"]),
                    )
                )
    return articles, spans


def _moment(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


FLOOR_ARTICLE_COLUMNS = (
    "id, title, source_id, url, byline, published_at, language, body, body_sha256, status, imported_at, metadata"
)
FLOOR_SPAN_COLUMNS = (
    'article_id, label_id, start, "end", text, annotator_id, origin, note, attributes, created_at, updated_at'
)


def _floor_copy(conn, table: str, columns: str, rows: list[tuple]) -> None:
    """One binary ``COPY`` of ``rows``, as the import writes them (``articles.services.copy_data``): the fastest
    way psycopg and PostgreSQL have to move rows, typed by the table's own columns."""
    names = [name.strip().strip('"') for name in columns.split(",")]
    types = [
        oid
        for (oid,) in conn.execute(
            "SELECT a.atttypid FROM unnest(%s::text[]) WITH ORDINALITY AS c(name, n) "
            "JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.name ORDER BY c.n",
            [names, table],
        )
    ]
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def run_floor(url: str, path: Path) -> dict:
    with psycopg.connect(url) as conn:
        history = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'pgh_obj_id' "
                "AND table_schema = 'public'"
            )
        ]
        conn.execute(
            "TRUNCATE annotations_assignment, annotations_span, articles_article, "
            + ", ".join(history)
            + " RESTART IDENTITY CASCADE"
        )
        conn.commit()
        articles, spans = floor_rows(path, conn)
        # The app's session setting (newsnotes/database.py): pgtrigger's triggers read it on every row.
        conn.execute("SELECT set_config('pgtrigger.ignore', '{}', false)")
        conn.commit()
        started = time.perf_counter()
        # As the import does: the vectors are left NULL inside the COPY and filled after the commit.
        conn.execute("SELECT set_config('newsnotes.defer_search', 'on', true)")
        _floor_copy(conn, "articles_article", FLOOR_ARTICLE_COLUMNS, articles)
        _floor_copy(conn, "annotations_span", FLOOR_SPAN_COLUMNS, spans)
        conn.commit()
        committed = time.perf_counter() - started
        # The vectors as the job fills them: its own statement (the trigger computes each vector), batch by batch.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")
        from articles.indexing import FILL_BATCH, FILL_SQL  # reads no setting and opens no connection

        conn.autocommit = True
        after = 0
        while True:
            ids = [pk for (pk,) in conn.execute(FILL_SQL, [after, FILL_BATCH])]
            if not ids:
                break
            after = max(ids)
        seconds = time.perf_counter() - started
        if _pending(conn):
            raise SystemExit("the floor left articles without a full-text vector")
    return {"committed": committed, "seconds": seconds, "articles": len(articles), "spans": len(spans)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--big", action="store_true", help="import a ~1 GB file and report peak RSS only")
    parser.add_argument("--gigabytes", type=float, default=1.0, help="size of the --big file")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    server, url = _urls()
    print(f"database {urlsplit(url).path[1:]} (fresh); machine: {os.cpu_count()} cores, shared", flush=True)
    fresh_database(server, url)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        path = Path(folder) / "corpus.jsonl"
        started = time.perf_counter()
        if args.big:
            size = _write_big(path, int(args.gigabytes * 1024**3))
        else:
            size = write_jsonl(path, articles=args.articles, spans=args.spans)
        print(f"wrote {path.name}: {size / 1024**2:,.1f} MB in {time.perf_counter() - started:,.1f}s", flush=True)
        result = run_import(url, path)
        stored = counts(url)
        docs = stored["articles"]
        print(result["output"])
        print(f"stored: {', '.join(f'{v:,} {k}' for k, v in stored.items())}")
        print(
            f"import: committed after {result['committed']:,.1f}s ({docs / result['committed']:,.0f} docs/s), "
            f"command done after {result['seconds']:,.1f}s; "
            f"peak RSS {result['rss_mb']:,.0f} MB for a {size / 1024**2:,.0f} MB file"
        )
        if args.big:
            return _finish(server, url, args.keep)
        checks = run_checks(url)
        result["indexed"] = result["seconds"] + checks["indexed"]
        result["done"] = result["seconds"] + checks["seconds"]
        print(
            f"jobs ({checks['jobs']}, by db_worker --batch; peak RSS {checks['rss_mb']:,.0f} MB): full-text vectors "
            f"filled after {checks['indexed']:,.1f}s, boilerplate and suggestion checks done after "
            f"{checks['seconds']:,.1f}s"
        )
        print(
            f"import: fully indexed after {result['indexed']:,.1f}s ({docs / result['indexed']:,.0f} docs/s), "
            f"fully done after {result['done']:,.1f}s ({docs / result['done']:,.0f} docs/s)"
        )
        floor = run_floor(url, path)
        n = floor["articles"]
        print(
            f"floor (COPY {n:,} articles + {floor['spans']:,} spans, same tables, indexes, triggers, vectors "
            f"deferred as the import does, then filled by the job's statement): committed after "
            f"{floor['committed']:,.1f}s ({n / floor['committed']:,.0f} docs/s), fully indexed after "
            f"{floor['seconds']:,.1f}s ({n / floor['seconds']:,.0f} docs/s)"
        )
        print(
            f"ratio to the floor: {floor['committed'] / result['committed']:.2f}x committed, "
            f"{floor['seconds'] / result['indexed']:.2f}x fully indexed (1.0 = as fast as COPY); "
            f"fully done (checks too) {floor['seconds'] / result['done']:.2f}x the floor's indexed time"
        )
        print(f"load average after the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _finish(server, url, args.keep)


def _write_big(path: Path, target: int) -> int:
    """Our jsonl corpus, article after article, until the file holds ``target`` bytes (20 spans per article)."""
    size = 0
    first = 1
    now = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    with path.open("w", encoding="utf-8") as out:
        while size < target:
            for line in jsonl_lines(articles=1000, spans=20_000, now=now, first=first):
                size += len(line.encode())
                out.write(line)
            first += 1000
    return size


def _finish(server: str, url: str, keep: bool) -> None:
    if keep:
        return
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


if __name__ == "__main__":
    main()
