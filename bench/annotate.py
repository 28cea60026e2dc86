"""Server time of the annotate page and of span creation, next to a floor view (one INSERT, nothing rendered).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/annotate.py

Creates the database ``newsnotes_bench_annotate`` on that server (dropped at the end), an article of 10,000
words with 1,000 of one editor's spans (entities, and claims around some of them), then times requests made
in-process with Django's test Client (``time.perf_counter`` around each call: URL routing, middleware, session,
view, queries, template; no network). Prints medians, p95 and ratios to the floor; asserts nothing.
The creates label names not labelled yet, as an editor does (each suggests the name's other places); a separate
line labels stop words ("the") PERSON, the worst case, whose propagation is capped at ``MAX_PER_CREATE``.
Targets on the 2-core reference machine: annotate page < 50 ms, create p95 < 30 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import sys
import time
import types
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

BENCH_DB = "newsnotes_bench_annotate"
FORM = "application/x-www-form-urlencoded"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import django_setup  # noqa: E402

VOCABULARY = (
    "the chip maker said its new processor ships in may after delays at the fab analysts expect prices to fall "
    "while regulators review the merger and engineers test firmware updates across devices"
)
WORDS = VOCABULARY.split()
NAMES = ["Mara Okonkwo", "Larchfield Systems", "Quillix", "Renée Dubois", "東京 Labs", "Amal Haddad", "Ivo Petrov"]
# More people and companies, as a month of tech news names: each recurs a few times in the article.
SURNAMES = ["Adeyemi", "Brandt", "Castellanos", "Dvořák", "Eklund", "Fujita", "Gallagher", "Hakimi", "Iversen"]
SURNAMES += ["Jovanović", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Oyelaran", "Pereira", "Quintero"]
FIRST = ["Ada", "Bilal", "Chiara", "Dmitri", "Esther", "Farid", "Greta", "Hiro", "Inès", "Jonas", "Kemi", "Luca"]
MORE_NAMES = [f"{first} {last}" for first, last in zip(FIRST * 2, SURNAMES, strict=False)]
MORE_NAMES += [
    f"{last} {kind}" for last, kind in zip(SURNAMES, ["Labs", "Networks", "Devices", "Cloud"] * 5, strict=False)
]
ORGS = {
    "Larchfield Systems",
    "Quillix",
    "東京 Labs",
    *(name for name in MORE_NAMES if name.split()[-1] in ("Labs", "Networks", "Devices", "Cloud")),
}


def server_urls() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(url)
    bench = urlunsplit(parts._replace(path=f"/{BENCH_DB}", query="conn_max_age=600"))
    return url, bench


def admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password or None,
        dbname=parts.path.lstrip("/") or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def make_body(words: int, rng: random.Random) -> tuple[str, list[tuple[int, int, str]], list[tuple[int, int]]]:
    """A body of ``words`` words in paragraphs; where its named entities and its sentences are (code points)."""
    text: list[str] = []
    entities: list[tuple[int, int, str]] = []
    sentences: list[tuple[int, int]] = []
    length = 0
    count = 0
    while count < words:
        parts: list[str] = []
        offset = length
        for _ in range(rng.randint(8, 18)):
            # About one word in six or seven belongs to a name: tech news is dense with people and companies.
            if rng.random() < 0.15:
                name = rng.choice(NAMES if rng.random() < 0.7 else MORE_NAMES)
                kind = "org" if name in ORGS else "person"
                entities.append((offset, offset + len(name), kind))
                parts.append(name)
                count += len(name.split())
            else:
                parts.append(rng.choice(WORDS))
                count += 1
            offset += len(parts[-1]) + 1
        sentence = " ".join(parts) + rng.choice([".", ".", ".", "!", " 👩🏽‍💻."])
        sentence = sentence[0].upper() + sentence[1:]
        sentences.append((length, length + len(sentence)))
        separator = "\n\n" if rng.random() < 0.15 else " "
        text.append(sentence + separator)
        length += len(sentence) + len(separator)
    body = "".join(text).rstrip()
    return body, entities, [(s, min(e, len(body))) for s, e in sentences]


@contextmanager
def counting(connection):
    """The SQL statements run meanwhile (the request cycle clears Django's own query log)."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(f"{(time.perf_counter() - started) * 1000:7.2f} ms  {' '.join(sql.split())}")

    with connection.execute_wrapper(record):
        yield statements


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds per call (CPU time shows our Python work apart from
    the database's, and is less disturbed by other load on the machine)."""
    wall, cpu = [], []
    for i in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = call(i)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code >= 400:
            raise SystemExit(f"request failed with {response.status_code}: {response.content[:300]!r}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=1_000)
    parser.add_argument("--creates", type=int, default=200)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--worst", type=int, default=20, help="creates labelling a stop word, timed apart")
    parser.add_argument("--rejects", type=int, default=40, help="suggestions rejected after the creates")
    parser.add_argument(
        "--database", default=BENCH_DB, help="scratch database to create and drop (default %(default)s)"
    )
    parser.add_argument(
        "--leave-out",
        default="",
        metavar="PARTS",
        help="what a create costs, part by part: comma-separated parts of the create left out (answer: a constant "
        "response instead of the redrawn regions; propagation: no suggestions; undo: no undo entry). For "
        "measuring only: the page is then not told what changed",
    )
    args = parser.parse_args()
    globals()["BENCH_DB"] = args.database

    server, bench = server_urls()
    admin(server, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin(server, f'CREATE DATABASE "{BENCH_DB}"')
    django_setup.production_settings(bench)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        admin(server, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def install_floor(urlconf: str) -> None:
    """The floor every request is measured against: a login-required POST view doing one INSERT, served at
    ``/bench/floor/`` beside the app's own urls (``urlconf`` names the module made for them)."""
    from django.conf import settings
    from django.contrib.auth.decorators import login_required
    from django.db import connection
    from django.http import HttpResponse
    from django.urls import include, path
    from django.views.decorators.http import require_POST

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, n integer NOT NULL)")

    @require_POST
    @login_required
    def floor(request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_floor (n) VALUES (%s)", [1])
        return HttpResponse(status=204)

    urls = types.ModuleType(urlconf)
    setattr(urls, "urlpatterns", [path("bench/floor/", floor), path("", include("newsnotes.urls"))])  # noqa: B010
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__


def leave_out(parts: set[str]) -> None:
    """Replace parts of the create view by nothing (``--leave-out``), to measure what each costs."""
    from django.http import HttpResponse

    from annotations.workspace import views

    unknown = parts - {"answer", "propagation", "undo"}
    if unknown:
        raise SystemExit(f"--leave-out: unknown part(s) {', '.join(sorted(unknown))}")
    if "answer" in parts:
        # The body's version the bench's create() reads from each answer, constant.
        # Neither the reads made in the write's transaction nor the drawing after it.
        setattr(views, "_answer_reads", lambda request, article, change: None)  # noqa: B010
        views._answer = lambda request, article, done, reads=None: HttpResponse(b'id="ws-body-patch" data-version="0"')
    if "propagation" in parts:
        setattr(views, "suggestions_propagate_span_ids", lambda span, body: [])  # noqa: B010
    if "undo" in parts:
        setattr(views.undo, "undo_record", lambda history, entry: None)  # noqa: B010


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from annotations.models import Label, Span
    from annotations.suggestions.models import Suggestion
    from annotations.suggestions.propagation import MAX_PER_CREATE
    from articles.models import Article, body_sha256

    call_command("migrate", verbosity=0)
    install_floor("bench_annotate_urls")
    leave_out(set(filter(None, args.leave_out.split(","))))

    rng = random.Random(20250101)
    body, entities, sentences = make_body(args.words, rng)
    article = Article.objects.create(title="Bench article", body=body, body_sha256=body_sha256(body))
    user = get_user_model().objects.create_user("bench-editor", password="unused-bench-password")
    user.groups.add(Group.objects.get(name="Editors"))
    labels = {label.slug: label for label in Label.objects.all()}

    # Mostly entities; the rest claims, whole sentences around some of them (nesting and crossing).
    spans = rng.sample(entities, int(args.spans * 0.8))
    spans += [(start, end, "claim") for start, end in rng.sample(sentences, args.spans - len(spans))]
    used = {(start, end) for start, end, _ in spans}
    Span.objects.bulk_create(
        Span(article=article, label=labels[kind], start=s, end=e, text=body[s:e], annotator=user)
        for s, e, kind in spans
    )
    # What an editor labels: the names not labelled yet (each create then suggests the name's other places).
    free_names = [(start, end, kind) for start, end, kind in entities if (start, end) not in used]
    targets = rng.sample(free_names, args.creates)
    # The worst case, measured apart: a stop word ("the", "at") labelled PERSON, suggested all over the text.
    covered = sorted(used)
    stop_words = [
        (m_start, m_start + len(word), "person")
        for m_start, word in _words(body)
        if word in ("the", "at", "in", "to") and not any(s <= m_start < e for s, e in covered)
    ]
    worst_targets = rng.sample(stop_words, args.worst)

    # Statistics, as autovacuum would have them on a live server within a minute: without them the planner takes
    # each table for empty and reads the article's every span once per suggestion (hundreds of ms a page).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    client = Client()
    client.force_login(user)
    page_url = reverse("annotations:article-annotate", args=[article.pk])
    create_url = reverse("annotations:span-create", args=[article.pk])

    # As the page does: each post names the drawing of the body it holds (the last response's), so the server
    # can answer with just the stretch that changed.
    version = re.compile(rb'id="ws-body-patch"[^>]*data-version="([0-9.]+)"')
    drawn = {"version": b"", "windowed": 0}
    answered: list[int] = []  # each create's answer, bytes

    def create(i, targets=targets):
        start, end, kind = targets[i]
        data = {
            "label": labels[kind].pk,
            "start": start,
            "end": end,
            "text": body[start:end],
            "body_version": drawn["version"].decode(),
        }
        # As htmx posts the page's form (static/js/requests.js): urlencoded, with a fresh Idempotency-Key.
        headers = {"HX-Request": "true", "Idempotency-Key": uuid.uuid4().hex}
        response = client.post(create_url, urlencode(data), FORM, headers=headers)
        drawn["version"] = version.search(response.content).group(1)
        answered.append(len(response.content))
        drawn["windowed"] += b'id="ws-body" hx-swap-oob' not in response.content
        return response

    for _ in range(5):  # warm caches, connections, template loaders
        client.get(page_url)
        client.post("/bench/floor/")
    gc.freeze()  # as newsnotes/wsgi.py does once the application is loaded
    with counting(connection) as page_queries:
        page_html = client.get(page_url).content
    drawn["version"] = version.search(page_html).group(1)
    page = timed(lambda i: client.get(page_url), args.pages)
    floor_times = timed(lambda i: client.post("/bench/floor/"), args.creates)
    with counting(connection) as create_queries:
        create(0)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        # CPU time: what the request costs this process, not its wait for the database. BENCH_PROFILE_PAGE=1
        # profiles the page instead of the creates.
        profiler = cProfile.Profile(time.process_time)
        if os.environ.get("BENCH_PROFILE_PAGE"):
            profiler.runcall(lambda: [client.get(page_url) for _ in range(40)])
        else:
            profiler.runcall(lambda: [create(i + 1) for i in range(40)])
        lines = int(os.environ.get("BENCH_PROFILE_LINES", 40))  # BENCH_PROFILE_LINES: more of the listing
        pstats.Stats(profiler).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(lines)
        return
    del answered[:]
    creates = timed(lambda i: create(i + 1), args.creates - 1)
    windowed = drawn["windowed"]
    answer_bytes = [float(size) for size in answered]
    with counting(connection) as worst_queries:
        create(0, worst_targets)
    worst = timed(lambda i: create(i + 1, worst_targets), args.worst - 1)

    # Rejections, as an editor answers the suggestions the page lists, each naming the drawing it holds.
    listed = client.get(page_url).content
    drawn["version"] = held.group(1) if (held := version.search(listed)) else b""
    shown = [int(pk) for pk in re.findall(rb'id="ws-sug-item-([0-9]+)"', listed)]
    rejected = rng.sample(shown, min(args.rejects, len(shown)))
    reject_url = reverse("annotations:suggestion-reject", args=[article.pk])
    reject_bytes: list[float] = []

    def reject(i):
        held = drawn["version"]
        assert isinstance(held, bytes)
        data = {"suggestion": rejected[i], "body_version": held.decode()}
        headers = {"HX-Request": "true", "Idempotency-Key": uuid.uuid4().hex}
        response = client.post(reject_url, urlencode(data), FORM, headers=headers)
        drawn["version"] = held.group(1) if (held := version.search(response.content)) else b""
        reject_bytes.append(float(len(response.content)))
        return response

    rejects = timed(reject, len(rejected))

    spans_now = Span.objects.filter(article=article).count()
    floor_median = statistics.median(floor_times[0])
    print(f"article: {len(body.split()):,} words, {len(body):,} code points; spans: {args.spans:,} before the creates")
    print(
        f"annotate page: {len(page_html) / 1024:,.0f} KiB, {len(page_queries)} queries; "
        f"create: {len(create_queries)} queries (stop word: {len(worst_queries)}); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'request':<30}{'median ms':>10}{'p95 ms':>10}{'x floor':>9}{'CPU median':>12}{'CPU p95':>9}")
    rows = [
        ("floor (1 INSERT, no body)", floor_times),
        (f"annotate page (GET, x{len(page[0])})", page),
        (f"span create (POST, x{len(creates[0]) + 1})", creates),
        (f"stop word create (POST, x{len(worst[0]) + 1})", worst),
        (f"suggestion reject (POST, x{len(rejects[0])})", rejects),
    ]
    for name, (wall, cpu) in rows:
        median = statistics.median(wall)
        print(
            f"{name:<30}{median:>10.2f}{percentile(wall, 0.95):>10.2f}{median / floor_median:>9.1f}"
            f"{statistics.median(cpu):>12.2f}{percentile(cpu, 0.95):>9.2f}"
        )
    # What no Python can remove: the time a request waits for PostgreSQL (its wall time less this process's CPU
    # time). A create that ran no Python beyond the floor's would still take the floor's CPU plus its own wait.
    waits = {name: statistics.median(w - c for w, c in zip(*times, strict=True)) for name, times in rows}
    floor_cpu = statistics.median(floor_times[1])
    create_wait = waits[rows[2][0]]
    print(
        f"waiting on PostgreSQL (wall - CPU), median: floor {waits[rows[0][0]]:.2f} ms, "
        f"create {create_wait:.2f} ms; a create with no Python beyond the floor's would take "
        f"{floor_cpu + create_wait:.2f} ms = {(floor_cpu + create_wait) / floor_median:.1f}x the floor"
    )
    if os.environ.get("BENCH_SHOW_SQL"):
        for queries in (page_queries, create_queries, worst_queries):
            print("\n".join(sql[:200] for sql in queries), end="\n\n")
    print(f"targets: page < 50 ms, create p95 < 30 ms; spans at the end: {spans_now:,}")
    print(f"name creates answered with only the changed stretch of the body: {windowed} of {args.creates}")
    print(
        f"name creates' answers: median {statistics.median(answer_bytes) / 1024:,.1f} KiB, "
        f"p95 {percentile(answer_bytes, 0.95) / 1024:,.1f} KiB (the page: {len(page_html) / 1024:,.0f} KiB)"
    )
    print(
        f"rejections' answers: median {statistics.median(reject_bytes) / 1024:,.1f} KiB, "
        f"p95 {percentile(reject_bytes, 0.95) / 1024:,.1f} KiB"
    )
    suggested = Suggestion.objects.filter(article=article).count()
    print(f"suggestions in the article at the end: {suggested:,} (at most {MAX_PER_CREATE} per create)")


def _words(body: str):
    start = None
    for i, char in enumerate(body + " "):
        if char.isalpha() and start is None:
            start = i
        elif not char.isalpha() and start is not None:
            yield start, body[start:i]
            start = None


if __name__ == "__main__":
    main()
