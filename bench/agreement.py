"""How long agreement takes on 10,000 articles × 3 editors × 20 spans, against a bare SELECT of the same spans.

    python bench/agreement.py [--articles 10000] [--spans-per-editor 20] [--repeat 3] [--database NAME]

Builds (or reuses) a corpus with ``bench/corpus.py``'s articles (``ensure_corpus`` with no spans of its own),
three editors (in the Editors group) and, per article, 20 spans each: the first editor's are ``article_spans``;
the other two keep most of them, relabel some, move some and add their own, so they partly agree. Every
article is done, so every layer counts as finished.

Each step runs in a fresh child process (Django set up outside the timing), which reports its time and its
peak RSS (``ru_maxrss``):

1. ``select``: a bare ``SELECT article_id, annotator_id, label_id, start, "end"`` of every span through a
   server-side cursor, rows fetched and dropped: the floor;
2. ``first-run``: ``agreement_compute`` with no stored boundaries: it tokenizes every article and stores them;
3. ``agreement``: ``agreement_compute`` with boundaries stored (every later run): the figure the target is for;
4. ``agreement-one-source``: the same on one source (~1/20 of the corpus), so peak RSS can be compared: flat
   memory means the same peak for 500 articles and for 10,000.

Steps 1 and 3 run ``--repeat`` times interleaved; the best time counts. Target: agreement < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import _migrate, article_spans, article_text, ensure_corpus  # noqa: E402

DATABASE = "newsnotes_bench_agreement"
EDITORS = ["bench-ana", "bench-bo", "bench-cy"]
LABELS = ["person", "org", "claim", "sponsored"]


def editor_layers(number: int, per_editor: int) -> list[list[tuple[str, int, int]]]:
    """Three layers of ``per_editor`` distinct spans for article ``number``, partly agreeing (deterministic)."""
    _, body, words, sentences = article_text(number)
    base = [
        (label, start, end) for label, start, end, _, _ in article_spans(number, body, words, sentences, per_editor)
    ]
    extra = [s[:3] for s in article_spans(number + 10_000_019, body, words, sentences, per_editor * 3)]
    layers = [base]
    for k in (1, 2):
        rng = random.Random(number * 31 + k)
        pool = iter(extra[k - 1 :: 2])
        layer: dict[tuple[str, int, int], None] = {}
        for label, start, end in base:
            roll = rng.random()
            if roll < 0.7:
                layer[(label, start, end)] = None
            elif roll < 0.85:
                layer[(rng.choice([other for other in LABELS if other != label]), start, end)] = None
        for candidate in pool:
            if len(layer) >= per_editor:
                break
            layer[candidate] = None
        layers.append(list(layer)[:per_editor])
    return layers


def _existing(url: str) -> tuple[int, int, int] | None:
    """(articles, spans, bench editors) in the benchmark database, or None if it does not exist yet."""
    try:
        conn = psycopg.connect(url)
    except psycopg.OperationalError:
        return None
    with conn:
        try:
            return conn.execute(
                "SELECT (SELECT count(*) FROM articles_article), (SELECT count(*) FROM annotations_span), "
                "(SELECT count(*) FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id "
                " JOIN auth_group g ON g.id = ug.group_id AND g.name = 'Editors' WHERE u.username = ANY(%s))",
                [EDITORS],
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return None


def build(url: str, database: str, articles: int, per_editor: int) -> None:
    if _existing(url) == (articles, articles * per_editor * len(EDITORS), len(EDITORS)):
        _migrate(url)
        print(f"reusing {database}: {articles:,} articles, {per_editor} spans each by {len(EDITORS)} editors")
        return
    ensure_corpus(articles=articles, spans=0, database=database, force=True)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        history = [
            name
            for (name,) in conn.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger\\_%' "
                "AND tgrelid = 'annotations_span'::regclass"
            )
        ]
        conn.execute("SELECT set_config('pgtrigger.ignore', %s, false)", ["{" + ",".join(history) + "}"])
        conn.execute("TRUNCATE annotations_span, annotations_articletokens")
        conn.execute("UPDATE articles_article SET status = 'ready_for_review'")
        ids = []
        for name in EDITORS:
            row = conn.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
                "is_active, date_joined) VALUES ('!', false, %s, '', '', '', false, true, now()) "
                "ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username RETURNING id",
                [name],
            ).fetchone()
            assert row is not None
            ids.append(row[0])
            conn.execute(
                "INSERT INTO auth_user_groups (user_id, group_id) SELECT %s, id FROM auth_group "
                "WHERE name = 'Editors' ON CONFLICT DO NOTHING",
                [row[0]],
            )
        labels: dict[str, int] = dict(conn.execute("SELECT slug, id FROM annotations_label").fetchall())
        with conn.cursor().copy(
            'COPY annotations_span (article_id, label_id, start, "end", text, annotator_id, origin, note, attributes, '
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for number in range(1, articles + 1):
                _, body, _, _ = article_text(number)
                for user_id, layer in zip(ids, editor_layers(number, per_editor), strict=True):
                    for label, start, end in layer:
                        copy.write_row(
                            (number, labels[label], start, end, body[start:end], user_id, "manual", "", "{}")
                            + (time.strftime("%Y-%m-%dT%H:%M:%SZ"),) * 2
                        )
                if number % max(1, articles // 10) == 0:
                    print(f"  editor spans: {number:,}/{articles:,} articles", flush=True)
        # Every editor's layer is finished: their slot on every article is done (annotations.workflow).
        conn.execute("DELETE FROM annotations_assignment")
        conn.execute(
            "INSERT INTO annotations_assignment (article_id, user_id, assigned_at, explicit, leased_until, "
            "started_at, done_at) SELECT a.id, u, now(), false, now(), now(), now() "
            "FROM articles_article a CROSS JOIN unnest(%s::bigint[]) AS u",
            [ids],
        )
        conn.execute("ANALYZE annotations_span")
        conn.execute("ANALYZE annotations_assignment")
        conn.commit()
    print(f"editor spans written in {time.perf_counter() - started:.1f}s", flush=True)


def child(step: str) -> None:
    """One measured step, in this fresh process; prints ``{"seconds", "peak_rss", ...}`` as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")
    django.setup()
    from django.db import connection

    from annotations.agreement.queries import Scope
    from annotations.agreement.report import agreement_compute
    from articles.models import Source

    extra: dict = {}
    connection.ensure_connection()
    started = time.perf_counter()
    if step == "select":
        rows = 0
        with connection.chunked_cursor() as cursor:
            cursor.execute('SELECT article_id, annotator_id, label_id, start, "end" FROM annotations_span')
            while batch := cursor.fetchmany(2000):
                rows += len(batch)
        extra["rows"] = rows
    elif step == "first-run":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE annotations_articletokens")
        started = time.perf_counter()
        tokenized: list[int] = []
        report = agreement_compute(Scope(), on_tokenized=tokenized.append)
        extra = {"articles": report.articles, "tokenized": sum(tokenized)}
    elif step.startswith("agreement"):
        scope = Scope(source=Source.objects.get(domain="source1.example")) if step.endswith("one-source") else Scope()
        report = agreement_compute(scope)
        extra = {"articles": report.articles, "overall": report.average[None]}
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss": peak, **extra}))


def measure(url: str, step: str) -> dict:
    # DEBUG off: with it, Django keeps every query's SQL (with its packed parameters) in memory.
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "bench-only-" + "x" * 40}
    out = subprocess.run(
        [sys.executable, __file__, "--child", step], check=True, env=env, cwd=ROOT, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--spans-per-editor", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return
    from bench.corpus import database_url

    url = database_url(args.database)
    build(url, args.database, args.articles, args.spans_per_editor)
    spans = args.articles * args.spans_per_editor * len(EDITORS)
    print(f"\n{args.articles:,} articles × {len(EDITORS)} editors × {args.spans_per_editor} spans = {spans:,} spans")
    first = measure(url, "first-run")
    selects, runs = [], []
    for _ in range(args.repeat):
        selects.append(measure(url, "select"))
        runs.append(measure(url, "agreement"))
    one_source = measure(url, "agreement-one-source")
    floor = min(r["seconds"] for r in selects)
    best = min(r["seconds"] for r in runs)
    mb = 1024 * 1024

    def line(name: str, seconds: float, peak: int, note: str = "") -> None:
        print(f"{name:<44} {seconds:8.2f} s {seconds / floor:8.1f}× {peak / mb:8.0f} MB  {note}")

    print(f"\n{'step':<44} {'time':>10} {'ratio':>9} {'peak RSS':>11}")
    line("bare SELECT of the spans (floor)", floor, max(r["peak_rss"] for r in selects), f"{selects[0]['rows']:,} rows")
    line("first run: agreement, tokenizing and storing", first["seconds"], first["peak_rss"], f"{first['tokenized']:,}")
    line("agreement (boundaries stored)", best, max(r["peak_rss"] for r in runs), f"{runs[0]['articles']:,} articles")
    line(
        "agreement, one source",
        one_source["seconds"],
        one_source["peak_rss"],
        f"{one_source['articles']:,} articles",
    )
    print("\noverall (averaged over pairs):", json.dumps(runs[0]["overall"]))
    print(f"target < 10 s: {'met' if best < 10 else 'MISSED'} ({best:.2f} s, best of {args.repeat})")


if __name__ == "__main__":
    main()
