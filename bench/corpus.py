"""A synthetic corpus for benchmarks, written straight into PostgreSQL with COPY.

    python bench/corpus.py --articles 10000 --spans 200000 [--database newsnotes_bench] [--force]

or from another benchmark: ``from bench.corpus import ensure_corpus; corpus = ensure_corpus(articles=..., spans=...)``.

The database (default ``newsnotes_bench``) is created on the server named by ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``) and migrated. A corpus of the requested size is reused; any
other is replaced. Articles are ~400 words of sentences drawn from the demo corpus' vocabulary (with a few
accented, CJK and emoji words), from 20 sources; spans sit on word boundaries with ``text == body[start:end]``
(the database trigger checks every one), all by one user, ``bench``, who may export. Claims carry a verdict
and speaker, some spans a note. Everything is seeded: the same sizes give the same corpus.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "newsnotes_bench"
USERNAME = "bench"
SEED = 20260304
EXTRA_WORDS = ["café", "naïve", "Zürich", "東京", "Škoda", "façade", "🚀", "👩‍💻", "São", "Łódź"]
VERDICTS = ["unverified", "supported", "disputed", "false"]
STATUSES = ["new", "in_annotation", "ready_for_review", "reviewed"]
SECTIONS = ["AI", "Chips", "Cloud", "Security", "Policy", "Devices", "Funding", "Open Source"]


@dataclass(frozen=True)
class Corpus:
    url: str  # postgres:// URL of the benchmark database
    database: str
    articles: int
    spans: int
    username: str
    built: bool  # False when an existing corpus was reused


def database_url(database: str, server: str | None = None) -> str:
    parts = urlsplit(server or os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    return urlunsplit(parts._replace(path="/" + database))


def _vocabulary() -> tuple[list[str], list[str]]:
    words: set[str] = set()
    with (ROOT / "articles" / "demo" / "corpus.jsonl").open(encoding="utf-8") as corpus:
        for line in corpus:
            words.update(re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]", json.loads(line)["body"]))
    ordered = sorted(words)
    names = [w for w in ordered if w[0].isupper() and len(w) > 3]
    return [*ordered, *EXTRA_WORDS], names


WORDS, NAMES = _vocabulary()


def article_text(number: int) -> tuple[str, str, list[tuple[int, int]], list[tuple[int, int]]]:
    """Title, body, word offsets and sentence offsets of article ``number`` (deterministic)."""
    rng = random.Random(SEED * 1_000_003 + number)
    parts: list[str] = []
    words: list[tuple[int, int]] = []
    sentences: list[tuple[int, int]] = []
    position = 0
    target = rng.randint(330, 470)
    count = 0
    while count < target:
        if parts:
            gap = "\n\n" if rng.random() < 0.25 else " "
            parts.append(gap)
            position += len(gap)
        sentence_start = position
        length = rng.randint(8, 26)
        for i in range(length):
            word = rng.choice(NAMES) if rng.random() < 0.12 else rng.choice(WORDS)
            if i == 0:
                word = word[:1].upper() + word[1:]
            if i:
                separator = ", " if rng.random() < 0.06 else " "
                parts.append(separator)
                position += len(separator)
            parts.append(word)
            words.append((position, position + len(word)))
            position += len(word)
        parts.append(".")
        position += 1
        sentences.append((sentence_start, position))
        count += length
    body = "".join(parts)
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 10))).capitalize() + f" ({number})"
    return title, body, words, sentences


def article_spans(number: int, body: str, words, sentences, n: int) -> list[tuple]:
    """``n`` distinct spans on word boundaries: (label slug, start, end, note, attributes)."""
    rng = random.Random(SEED * 7 + number)
    seen: set[tuple[str, int, int]] = set()
    spans = []
    attempts = 0
    while len(spans) < n and attempts < n * 20:
        attempts += 1
        roll = rng.random()
        if roll < 0.1:
            label = "claim"
            start, end = rng.choice(sentences)
        elif roll < 0.13:
            label = "sponsored"
            first = rng.randrange(len(sentences))
            start, end = sentences[first][0], sentences[min(first + rng.randint(0, 3), len(sentences) - 1)][1]
        else:
            label = "person" if roll < 0.6 else "org"
            first = rng.randrange(len(words))
            start, end = words[first][0], words[min(first + rng.randint(0, 2), len(words) - 1)][1]
        if (label, start, end) in seen:
            continue
        seen.add((label, start, end))
        attributes = {}
        if label == "claim":
            attributes = {"speaker": body[slice(*rng.choice(words))], "verdict": rng.choice(VERDICTS)}
        note = 'Check against the press release, "quoted" here.' if rng.random() < 0.05 else ""
        spans.append((label, start, end, note, attributes))
    return spans


def _split(total: int, parts: int, number: int) -> int:
    """Spans for article ``number`` (1-based) when ``total`` are spread evenly over ``parts`` articles."""
    return total // parts + (1 if number <= total % parts else 0)


def _progress(what: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0.0
    print(f"  {what}: {done:,}/{total:,} ({rate:,.0f}/s)", flush=True)


def _migrate(url: str) -> None:
    # manage.py migrate in a child process, with settings pointed at the benchmark database: the caller may
    # already have Django set up for another database (a test run, a benchmark timing the app).
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "1")}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"], check=True, env=env, cwd=ROOT
    )


def _counts(conn) -> tuple[int, int, bool]:
    articles = conn.execute("SELECT count(*) FROM articles_article").fetchone()[0]
    spans = conn.execute("SELECT count(*) FROM annotations_span").fetchone()[0]
    user = conn.execute("SELECT 1 FROM auth_user WHERE username = %s", [USERNAME]).fetchone()
    return articles, spans, user is not None


def ensure_corpus(
    *, articles: int, spans: int, database: str = DEFAULT_DATABASE, server: str | None = None, force: bool = False
) -> Corpus:
    """Create (or reuse) a corpus of exactly ``articles`` articles and ``spans`` spans in ``database``."""
    if articles < 1 or spans < 0:
        raise ValueError("need at least one article and no negative span count")
    url = database_url(database, server)
    admin_url = server or os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            print(f"creating database {database}", flush=True)
            admin.execute(f'CREATE DATABASE "{database}"')
    _migrate(url)
    with psycopg.connect(url) as conn:
        if not force and _counts(conn) == (articles, spans, True):
            print(f"reusing {database}: {articles:,} articles, {spans:,} spans", flush=True)
            return Corpus(url, database, articles, spans, USERNAME, built=False)
    _build(url, articles, spans)
    return Corpus(url, database, articles, spans, USERNAME, built=True)


def _build(url: str, articles: int, spans: int) -> None:
    print(f"building {articles:,} articles and {spans:,} spans in {urlsplit(url).path[1:]}", flush=True)
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(url) as conn:
        # History tables (any with pghistory's pgh_obj_id column) describe rows that are about to go.
        history_tables = [
            f'"{name}"'
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'pgh_obj_id' "
                "AND table_schema = 'public'"
            )
        ]
        conn.execute(
            "TRUNCATE "
            + ", ".join(["annotations_span", "articles_article", "articles_source", *history_tables])
            + " RESTART IDENTITY CASCADE"
        )
        user = conn.execute("SELECT id FROM auth_user WHERE username = %s", [USERNAME]).fetchone()
        if user is None:
            user = conn.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
                "is_active, date_joined) VALUES ('!', false, %s, '', '', '', false, true, %s) RETURNING id",
                [USERNAME, now],
            ).fetchone()
        user_id = user[0]
        conn.execute(
            "INSERT INTO auth_user_groups (user_id, group_id) SELECT %s, id FROM auth_group WHERE name = 'Researchers' "
            "ON CONFLICT DO NOTHING",
            [user_id],
        )
        labels = dict(conn.execute("SELECT slug, id FROM annotations_label").fetchall())
        # The history triggers (django-pghistory) record who changed what; a synthetic load has no such story,
        # and in one COPY statement their per-row work grows quadratically (measured: 5k spans 1.8 s, 20k 8.7 s;
        # skipped, 20k take 0.8 s). They are skipped for this transaction only; the text-check trigger still runs.
        history = [
            name
            for (name,) in conn.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger\\_%' "
                "AND tgrelid IN ('annotations_span'::regclass, 'articles_article'::regclass) "
                "AND tgname NOT LIKE 'pgtrigger\\_span\\_text\\_matches\\_body\\_%' "
                "AND tgname NOT LIKE 'pgtrigger\\_article\\_body\\_locked\\_by\\_spans\\_%'"
            )
        ]
        ignore = "{" + ",".join(history) + "}"
        conn.execute("SELECT set_config('pgtrigger.ignore', %s, false)", [ignore])
        with conn.cursor().copy("COPY articles_source (id, name, domain) FROM STDIN") as copy:
            for n in range(1, 21):
                copy.write_row((n, f"Source {n}", f"source{n}.example"))
        conn.execute("SELECT setval('articles_source_id_seq', 20)")
        conn.commit()

        started = time.perf_counter()
        step = max(1, articles // 10)
        base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        with conn.cursor().copy(
            "COPY articles_article (id, title, source_id, url, byline, published_at, language, body, body_sha256, "
            "status, imported_at, metadata) FROM STDIN"
        ) as copy:
            for n in range(1, articles + 1):
                title, body, _, _ = article_text(n)
                rng = random.Random(n)
                source = rng.randint(1, 20)
                copy.write_row(
                    (
                        n,
                        title,
                        source,
                        f"https://source{source}.example/news/{n}",
                        rng.choice(NAMES) + " " + rng.choice(NAMES),
                        base + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
                        "en",
                        body,
                        hashlib.sha256(body.encode()).hexdigest(),
                        rng.choice(STATUSES),
                        now,
                        json.dumps({"section": rng.choice(SECTIONS)}),
                    )
                )
                if n % step == 0:
                    _progress("articles", n, articles, started)
        conn.execute("SELECT setval('articles_article_id_seq', %s)", [articles])
        conn.commit()
        article_seconds = time.perf_counter() - started

        started = time.perf_counter()
        written = 0
        step = max(1, spans // 10)
        next_report = step
        with conn.cursor().copy(
            'COPY annotations_span (article_id, label_id, start, "end", text, annotator_id, origin, note, attributes, '
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, articles + 1):
                wanted = _split(spans, articles, n)
                if not wanted:
                    continue
                _, body, words, sentences = article_text(n)
                made = article_spans(n, body, words, sentences, wanted)
                if len(made) < wanted:
                    raise RuntimeError(f"article {n} has room for only {len(made)} distinct spans; use more articles")
                for label, start, end, note, attributes in made:
                    copy.write_row(
                        (
                            n,
                            labels[label],
                            start,
                            end,
                            body[start:end],
                            user_id,
                            "manual",
                            note,
                            json.dumps(attributes),
                            now,
                            now,
                        )
                    )
                written += wanted
                if written >= next_report:
                    _progress("spans", written, spans, started)
                    next_report += step
        conn.commit()
        span_seconds = time.perf_counter() - started
        conn.execute("ANALYZE articles_article")
        conn.execute("ANALYZE annotations_span")
        conn.commit()
    print(
        f"built in {article_seconds + span_seconds:,.1f}s: {articles / article_seconds:,.0f} articles/s, "
        f"{spans / span_seconds if span_seconds else 0:,.0f} spans/s (text checked by the database trigger)",
        flush=True,
    )


def article_row(n: int, now: dt.datetime) -> dict:
    """Article ``n``'s fields as ``_build`` stores them (title, body, url, source, byline, published_at...)."""
    title, body, _, _ = article_text(n)
    rng = random.Random(n)
    source = rng.randint(1, 20)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return {
        "title": title,
        "body": body,
        "url": f"https://source{source}.example/news/{n}",
        "source": f"source{source}.example",
        "byline": rng.choice(NAMES) + " " + rng.choice(NAMES),
        "published_at": base + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
        "language": "en",
        "status": rng.choice(STATUSES),
        "metadata": {"section": rng.choice(SECTIONS)},
    }


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jsonl_lines(*, articles: int, spans: int, now: dt.datetime, first: int = 1) -> Iterator[str]:
    """The corpus as NewsNotes' own ``jsonl`` export writes it (doccano lines with ``offsets`` and ``spans``
    details: annotator, origin, note, attributes, times), one line per article, numbered from ``first``."""
    stamp = _iso(now)
    for n in range(first, first + articles):
        row = article_row(n, now)
        _, body, words, sentences = article_text(n)
        made = article_spans(n, body, words, sentences, _split(spans, articles, n - first + 1))
        details = [
            {
                "start": start,
                "end": end,
                "label": label,
                "text": body[start:end],
                "annotator": USERNAME,
                "origin": "manual",
                "note": note,
                "attributes": attributes,
                "created_at": stamp,
                "updated_at": stamp,
            }
            for label, start, end, note, attributes in made
        ]
        line = {
            "text": row["body"],
            "label": [[d["start"], d["end"], d["label"]] for d in details],
            **{k: v for k, v in row.items() if k != "body"},
            "published_at": _iso(row["published_at"]),
            "offsets": "codepoints",
            "spans": details,
        }
        yield json.dumps(line, ensure_ascii=False) + "\n"


def write_jsonl(path: Path, *, articles: int, spans: int, first: int = 1) -> int:
    """Write the corpus to ``path`` as our ``jsonl`` export (see ``jsonl_lines``); returns the bytes written."""
    now = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    size = 0
    with path.open("w", encoding="utf-8") as out:
        for line in jsonl_lines(articles=articles, spans=spans, now=now, first=first):
            size += out.write(line)
    return size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--force", action="store_true", help="rebuild even if a corpus of this size exists")
    args = parser.parse_args(argv)
    corpus = ensure_corpus(articles=args.articles, spans=args.spans, database=args.database, force=args.force)
    print(f"corpus ready: {corpus.url}")


if __name__ == "__main__":
    main()
