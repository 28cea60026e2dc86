"""Boilerplate families: quality and speed on a synthetic syndicated corpus.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/boilerplate.py --articles 50000
    DATABASE_URL=... .venv/bin/python bench/boilerplate.py --sizes 10000 50000   # memory flat in corpus size?

Builds (or reuses) ``newsnotes_bench_boilerplate`` on that server: articles of ``bench/corpus.py``'s
``article_text``, 30% of them ending in one or two of six footers or calls to action with the variations
syndication really makes (tracking links, dates, product names, one or two words edited, doubled spaces, glued
to the story's last paragraph or set apart), and decoys that must not become families: quotes shared by two or
three stories about one event (half of them at the end), unquoted paragraphs shared by two stories, shared
headlines at the top, and common short closing phrases. Then it times the whole-corpus rebuild, checks
``--new`` more articles one by one with the incremental check, and prints paragraph-level precision and recall
of both against the planted footers, and the peak RSS of this process (and of the rebuild's worker processes).

``--sizes A B`` runs the whole benchmark once per size, each in a fresh process with its own database
(``<database>_<size>``), and prints the peak RSS of both runs and their ratio: the rebuild streams through
PostgreSQL, so its memory should not follow the corpus.

A copy is correct when at least 90% of it lies inside a planted footer; a planted footer is found when copies
cover at least 90% of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import NAMES, WORDS, _migrate, article_text, database_url  # noqa: E402
from bench.django_setup import development_setup  # noqa: E402

DATABASE = "newsnotes_bench_boilerplate"
SEED = 20261129
SOURCES = 20

FOOTERS = [
    "{product} is the leading open-source AI Linux distribution and service provider. Since implementing AI in "
    "{year}, it has offered a fast, powerful, secure, and privacy-respecting open-source OS with both local and "
    "remote AI capabilities. The local AI operates offline, ensuring no data ever leaves your computer. Based on "
    "Debian Linux, {product} is available with numerous privacy- and anonymity-enabled services free of charge.",
    "What are your thoughts on this? I’d love to hear about your own experiences in the comments below.",
    "Subscribe to the {brand} newsletter for a weekly digest of the stories that matter in chips, cloud and AI, "
    "delivered every {weekday} morning: {url}",
    "This story was produced by {agency} and distributed through its syndication service on {date}. "
    "Reproduction requires a licence; write to licensing@{agency_domain} for terms.",
    "Sponsored: {vendor} helps engineering teams ship reliable software faster with automated testing, "
    "observability and incident response in one platform. Start a free trial at {url}.",
    "{site} may earn a commission when you buy through links on our site. Prices and availability were "
    "accurate at the time of publishing on {date} and may change without notice.",
]
PRODUCTS = ["Gnoppix", "Gnoppix Pro", "Gnoppix AI"]
BRANDS = ["Wirefeed", "ChipWire Daily", "Cloudcast"]
AGENCIES = [("Tallgrass News Agency", "tallgrass.example"), ("Northwire", "northwire.example")]
VENDORS = ["Quillix", "Quillix Cloud", "Larchfield DevOps"]
SITES = ["This site", "NewsNotes Daily", "The Chip Letter"]
WEEKDAYS = ["Monday", "Tuesday", "Friday"]
MONTHS = ["January", "March", "June", "September", "November"]
COMMON = [
    "The company did not immediately respond to a request for comment.",
    "Shares of {name} rose {n} percent in after-hours trading.",
    "Pricing and availability were not disclosed.",
    "{name} declined to comment on the report.",
]


@dataclass
class Planted:
    body: str
    footers: list[tuple[int, int]] = field(default_factory=list)


def _fill(template: str, rng: random.Random) -> str:
    agency, agency_domain = rng.choice(AGENCIES)
    date = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2024, 2026)}"
    url = (
        f"https://go.{rng.choice(['wirefeed', 'quillix', 'cloudcast'])}.example/r/{rng.randrange(10**6)}"
        f"?utm_source=feed&utm_campaign={rng.randrange(10**4)}"
    )
    text = template.format(
        product=rng.choice(PRODUCTS), year=rng.choice([2022, 2023]), brand=rng.choice(BRANDS),
        weekday=rng.choice(WEEKDAYS), url=url, agency=agency, agency_domain=agency_domain, date=date,
        vendor=rng.choice(VENDORS), site=rng.choice(SITES),
    )  # fmt: skip
    words = text.split(" ")
    # An editor's touch: one or two words changed or dropped in some copies.
    for _ in range(rng.choices([0, 1, 2], weights=[85, 11, 4])[0]):
        i = rng.randrange(1, len(words) - 1)
        if rng.random() < 0.5:
            words[i] = rng.choice(WORDS)
        else:
            del words[i]
    # Feeds mangle white space.
    return "".join(w + (" " if rng.random() > 0.03 else "  ") for w in words).rstrip()


def article(number: int, groups: dict) -> Planted:
    """Article ``number`` with its planted footers (deterministic)."""
    _, body, _, _ = article_text(number)
    rng = random.Random(SEED * 31 + number)
    paragraphs = body.split("\n\n")
    # Decoys first: a shared headline at the top, a quote or unquoted paragraph shared with another story about
    # the same event (middle or end), a common short closing phrase.
    headline = groups["headline"].get(number)
    if headline is not None:
        paragraphs.insert(0, headline)
    shared = groups["shared"].get(number)
    if shared is not None:
        text, at_end = shared
        if at_end:
            paragraphs.append(text)
        else:
            paragraphs.insert(min(2, len(paragraphs)), text)
    if rng.random() < 0.15:
        phrase = rng.choice(COMMON).format(name=rng.choice(NAMES), n=rng.randint(2, 12))
        paragraphs[-1] += " " + phrase
    body = "\n\n".join(paragraphs)
    planted = Planted(body=body)
    if rng.random() < 0.30:
        first = rng.randrange(len(FOOTERS))
        chosen = [first]
        if rng.random() < 0.3:
            chosen.append(rng.choice([i for i in range(len(FOOTERS)) if i != first]))
        for index in chosen:
            footer = _fill(FOOTERS[index], rng)
            glue = rng.choices(["\n\n", "\n", " "], weights=[70, 15, 15])[0]
            start = len(planted.body) + len(glue)
            planted.body += glue + footer
            planted.footers.append((start, start + len(footer)))
    return planted


def decoy_groups(total: int) -> dict:
    """Which articles share a headline, a quote or a paragraph (groups of two or three neighbours)."""
    rng = random.Random(SEED)
    headline: dict[int, str] = {}
    shared: dict[int, tuple[str, bool]] = {}
    number = 1
    while number <= total:
        roll = rng.random()
        if roll < 0.02:
            size = rng.randint(5, 12)
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 10))).capitalize()
            for n in range(number, min(total, number + size - 1) + 1):
                headline[n] = title
            number += size
        elif roll < 0.06:
            quoted = rng.random() < 0.7
            size = rng.randint(2, 3) if quoted else 2
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(18, 30)))
            speaker = rng.choice(NAMES) + " " + rng.choice(NAMES)
            text = f"“{words.capitalize()},” said {speaker}." if quoted else words.capitalize() + "."
            at_end = rng.random() < 0.5
            for n in range(number, min(total, number + size - 1) + 1):
                shared[n] = (text, at_end)
            number += size
        else:
            number += 1
    return {"headline": headline, "shared": shared}


def _connect(url: str):
    import psycopg

    return psycopg.connect(url)


def build(url: str, total: int, extra: int) -> None:
    """Articles 1..total in the database (reused when already there); total+1..total+extra are kept for later."""
    with _connect(url) as conn:
        have = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM articles_article").fetchone()
        if have == (total, total):
            print(f"reusing {total:,} articles", flush=True)
            return
        print(f"building {total:,} articles", flush=True)
        conn.execute(
            "TRUNCATE articles_article, articles_source, annotations_boilerplatefamily RESTART IDENTITY CASCADE"
        )
        history = [
            name
            for (name,) in conn.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger\\_%' "
                "AND tgrelid = 'articles_article'::regclass"
            )
        ]
        conn.execute("SELECT set_config('pgtrigger.ignore', %s, false)", ["{" + ",".join(history) + "}"])
        with conn.cursor().copy("COPY articles_source (id, name, domain) FROM STDIN") as copy:
            for n in range(1, SOURCES + 1):
                copy.write_row((n, f"Source {n}", f"source{n}.example"))
        conn.execute("SELECT setval('articles_source_id_seq', %s)", [SOURCES])
        _insert(conn, range(1, total + 1), decoy_groups(total + extra))
        conn.execute("SELECT setval('articles_article_id_seq', %s)", [total])
        conn.commit()
        conn.execute("ANALYZE articles_article")


def _insert(conn, numbers, groups) -> None:
    now = dt.datetime.now(dt.UTC)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    started = time.perf_counter()
    with conn.cursor().copy(
        "COPY articles_article (id, title, source_id, url, byline, published_at, language, body, body_sha256, "
        "status, imported_at, metadata) FROM STDIN"
    ) as copy:
        for n in numbers:
            body = article(n, groups).body
            rng = random.Random(n)
            source = rng.randint(1, SOURCES)
            copy.write_row(
                (
                    n, f"Article {n}", source, f"https://source{source}.example/news/{n}", "",
                    base + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)), "en", body,
                    hashlib.sha256(body.encode()).hexdigest(), "new", now, "{}",
                )
            )  # fmt: skip
            if n % 10_000 == 0:
                print(f"  {n:,} articles ({n / (time.perf_counter() - started):,.0f}/s)", flush=True)


def _delete_after(connection, last: int) -> None:
    """Remove the incremental run's articles (and what was derived from them), keeping the corpus reusable."""
    with connection.cursor() as cursor:
        for table in ("annotations_boilerplatecopy", "annotations_boilerplatepassage", "annotations_suggestion"):
            cursor.execute(f"DELETE FROM {table} WHERE article_id > %s", [last])  # noqa: S608
        cursor.execute("DELETE FROM articles_article WHERE id > %s", [last])


def score(copies: dict[int, list[tuple[int, int]]], planted: dict[int, list[tuple[int, int]]]) -> tuple:
    """(precision, recall, copies, footers) at paragraph level, 90% overlap either way."""

    def covered(span: tuple[int, int], by: list[tuple[int, int]]) -> int:
        return sum(max(0, min(span[1], e) - max(span[0], s)) for s, e in by)

    good = total = 0
    for article_id, found in copies.items():
        for span in found:
            total += 1
            good += covered(span, planted.get(article_id, [])) >= 0.9 * (span[1] - span[0])
    hit = footers = 0
    for article_id, truth in planted.items():
        for span in truth:
            footers += 1
            hit += covered(span, copies.get(article_id, [])) >= 0.9 * (span[1] - span[0])
    return (good / total if total else 1.0), (hit / footers if footers else 1.0), total, footers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--new", type=int, default=300, help="articles then checked one by one (incremental)")
    parser.add_argument("--database", default=DATABASE, help=f"benchmark database (default {DATABASE})")
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"), help="compare peak RSS at two sizes")
    parser.add_argument("--report", help=argparse.SUPPRESS)  # where a child run writes its figures (JSON)
    args = parser.parse_args(argv)
    if args.sizes:
        compare_sizes(args)
        return

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    url = database_url(args.database, server)
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone():
            admin.execute(f'CREATE DATABASE "{args.database}"')
    _migrate(url)
    build(url, args.articles, args.new)
    groups = decoy_groups(args.articles + args.new)

    development_setup(url)
    from django.db import connection
    from tqdm import tqdm

    from annotations.suggestions.boilerplate import boilerplate_check_articles, boilerplate_rebuild
    from annotations.suggestions.models import BoilerplateCopy

    def copies_of(ids: range) -> dict[int, list[tuple[int, int]]]:
        found: dict[int, list[tuple[int, int]]] = {}
        for a, s, e in BoilerplateCopy.objects.filter(
            article_id__gte=ids.start, article_id__lt=ids.stop, family__status="active"
        ).values_list("article_id", "start", "end"):
            found.setdefault(a, []).append((s, e))
        return found

    def planted_in(ids: range) -> dict[int, list[tuple[int, int]]]:
        return {n: p.footers for n in ids if (p := article(n, groups)).footers}

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bar = tqdm(total=args.articles, unit="article", desc="rebuild", file=sys.stderr)
    last = [0]

    def progress(done: int, total: int) -> None:
        bar.update(done - last[0])
        last[0] = done

    started = time.perf_counter()
    result = boilerplate_rebuild(progress=progress)
    rebuild_seconds = time.perf_counter() - started
    bar.close()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    corpus = range(1, args.articles + 1)
    precision, recall, n_copies, n_footers = score(copies_of(corpus), planted_in(corpus))

    # Incremental: new articles arrive one at a time after the rebuild.
    new = range(args.articles + 1, args.articles + args.new + 1)
    _delete_after(connection, args.articles)
    with psycopg.connect(url) as conn:
        _insert(conn, new, groups)
        conn.commit()
    timings, cpu = [], []
    try:
        for n in new:
            t0, c0 = time.perf_counter(), time.process_time()
            boilerplate_check_articles(article_ids=[n])
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        inc_precision, inc_recall, inc_copies, inc_footers = score(copies_of(new), planted_in(new))
    finally:
        _delete_after(connection, args.articles)
    timings.sort()

    print()
    print(f"corpus: {args.articles:,} articles on {urlsplit(url).path[1:]}; {n_footers:,} planted footers")
    print(
        f"rebuild: {rebuild_seconds:.1f} s ({args.articles / rebuild_seconds:,.0f} articles/s), "
        f"{result.passages:,} passages, {result.families} families, {result.copies:,} copies"
    )
    print(f"rebuild quality: precision {precision:.4f}, recall {recall:.4f} ({n_copies:,} copies)")
    print(
        f"incremental: {len(timings)} articles one by one, median {statistics.median(timings):.1f} ms, "
        f"p95 {timings[int(0.95 * (len(timings) - 1))]:.1f} ms (this process's CPU: median "
        f"{statistics.median(cpu):.1f} ms); precision {inc_precision:.4f}, "
        f"recall {inc_recall:.4f} ({inc_copies} copies of {inc_footers} footers)"
    )
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak RSS: {rss_before:.0f} MB before the rebuild, {rss_after:.0f} MB after "
        f"(largest worker process: {workers:.0f} MB)"
    )
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    targets = [
        ("precision >= 0.99", precision >= 0.99),
        ("recall >= 0.95", recall >= 0.95),
        ("rebuild < 60 s", rebuild_seconds < 60),
        ("incremental median < 10 ms", statistics.median(timings) < 10),
    ]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
    if args.report:
        figures = {
            "articles": args.articles, "precision": precision, "recall": recall, "rebuild_seconds": rebuild_seconds,
            "incremental_median_ms": statistics.median(timings), "rss_before_mb": rss_before,
            "rss_after_mb": rss_after, "worker_rss_mb": workers,
        }  # fmt: skip
        Path(args.report).write_text(json.dumps(figures))


def compare_sizes(args) -> None:
    """The benchmark at two sizes, each in a fresh process (peak RSS is a high-water mark), and the RSS ratio."""
    runs = []
    for size in args.sizes:
        report = Path(f"/tmp/bench-boilerplate-{os.getpid()}-{size}.json")
        command = [sys.executable, __file__, "--articles", str(size), "--new", str(args.new)]
        subprocess.run([*command, "--database", f"{args.database}_{size}", "--report", str(report)], check=True)
        runs.append(json.loads(report.read_text()))
        report.unlink()
    print()
    for run in runs:
        print(
            f"{run['articles']:>7,} articles: peak RSS {run['rss_after_mb']:.0f} MB "
            f"({run['rss_after_mb'] - run['rss_before_mb']:.0f} MB above the process before the rebuild; "
            f"largest worker {run['worker_rss_mb']:.0f} MB), rebuild {run['rebuild_seconds']:.1f} s, "
            f"precision {run['precision']:.4f}, recall {run['recall']:.4f}, "
            f"incremental median {run['incremental_median_ms']:.1f} ms"
        )
    small, large = runs
    ratio = large["rss_after_mb"] / small["rss_after_mb"]
    print(
        f"peak RSS ratio {large['articles']:,} / {small['articles']:,} articles: {ratio:.2f} "
        f"(target: memory flat in corpus size, <= 1.20: {'met' if ratio <= 1.2 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
