"""Server CPU of the queue page (``/``), next to a floor view (one INSERT, nothing rendered), measured in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/queue_page.py \
        [--database newsnotes_bench_queue] [--articles 10000 --spans 100000] [--requests 50]

Two corpora: the demo's (``manage.py load_demo`` into the scratch database ``--database``, dropped at the end) and
a bigger one from ``bench/corpus.py`` (``<database>_big``, kept for the next run; its bench user is made an editor
too, and ``curator`` a curator). Requests are made in-process with Django's test Client under production settings
(``bench/django_setup.py``): URL routing, middleware, session, view, queries, template; no network. For an editor
and for a curator (who sees the Review links and no counts), each page asked plain, searched (``?q=``) and
filtered: CPU (``time.process_time``) and wall time per request, median and p95 over ``--requests`` after a
warm-up, and the ratio of the CPU median to the floor's. Asserts nothing.

``BENCH_PROFILE=cumulative`` (or ``tottime``) profiles the pages instead (CPU time as the timer) and prints the top
``BENCH_PROFILE_LINES``; ``BENCH_PROFILE_CASE`` picks the case by its name's start (default: the first).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import django_setup  # noqa: E402
from bench.annotate import admin, install_floor, percentile, server_urls, timed  # noqa: E402
from bench.corpus import ensure_corpus  # noqa: E402

# (name, query string): the queue as an editor opens it, searches it and narrows it.
CASES = [
    ("plain", ""),
    ("search", "q=chip"),
    ("filters", "status=new&source={source}"),
    ("search+filters", "q=the&status=in_annotation&label=person"),
    ("page 2", "page=2"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="newsnotes_bench_queue", help="scratch database (default %(default)s)")
    parser.add_argument("--articles", type=int, default=10_000, help="bigger corpus; 0 skips it")
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    server = server_urls()[0]
    big = None
    if args.articles:
        big = ensure_corpus(
            articles=args.articles, spans=args.spans, database=f"{args.database}_big", server=server
        ).database
    demo = args.database
    admin(server, f'DROP DATABASE IF EXISTS "{demo}" WITH (FORCE)')
    admin(server, f'CREATE DATABASE "{demo}"')
    globals()["BENCH_DB"] = demo
    import bench.annotate

    bench.annotate.BENCH_DB = demo
    django_setup.production_settings(server_urls()[1])
    try:
        run(args, demo, big)
    finally:
        from django.db import connections

        connections.close_all()
        admin(server, f'DROP DATABASE IF EXISTS "{demo}" WITH (FORCE)')


def _users(editor_name: str):
    """The editor (made one if need be) and a curator, both in the current database."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    editor = User.objects.get(username=editor_name)
    editor.groups.add(Group.objects.get(name="Editors"))
    curator, _ = User.objects.get_or_create(username="curator", defaults={"is_staff": True})
    curator.groups.add(Group.objects.get(name="Curators"))
    return editor, curator


def run(args: argparse.Namespace, demo: str, big: str | None) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from articles.models import Article, Source

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    install_floor("bench_queue_urls")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    corpora = [("demo", demo, "editor")]
    if big:
        corpora.append(("big", big, "bench"))
    profile = os.environ.get("BENCH_PROFILE")
    results: list[tuple[str, tuple[list[float], list[float]]]] = []
    sizes: dict[str, int] = {}
    gc_frozen = False
    for corpus, database, editor_name in corpora:
        connection.close()
        connection.settings_dict["NAME"] = database
        if database != demo:
            with connection.cursor() as cursor:
                cursor.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, n integer NOT NULL)")
                cursor.execute("ANALYZE")
        editor, curator = _users(editor_name)
        if database != demo:
            from annotations.models import Assignment

            ids = list(Article.objects.order_by("id").values_list("id", flat=True))
            for pk in ids[:: max(1, len(ids) // 20)][:20]:  # as bench/django_setup.py's use_corpus
                Assignment.objects.get_or_create(article_id=pk, user=editor)
        source = Source.objects.order_by("pk").values_list("pk", flat=True).first()
        sizes[corpus] = Article.objects.count()
        floor_client = Client()
        floor_client.force_login(editor)
        for role, user in (("editor", editor), ("curator", curator)):
            client = Client()
            client.force_login(user)
            for case, query in CASES:
                url = "/?" + query.format(source=source) if query else "/"
                for _ in range(5):  # warm caches, connections, template loaders, compiled SQL
                    client.get(url)
                    floor_client.post("/bench/floor/")
                if not gc_frozen:
                    gc.freeze()  # as newsnotes/wsgi.py does once the application is loaded
                    gc_frozen = True
                name = f"{corpus} {role} {case}"
                if profile:
                    if name.startswith(os.environ.get("BENCH_PROFILE_CASE", "")):
                        _profile(profile, lambda client=client, url=url: client.get(url), args.requests)
                        return
                    continue
                results.append((name, timed(lambda i, client=client, url=url: client.get(url), args.requests)))
        results.append(
            (
                f"{corpus} floor",
                timed(lambda i, floor_client=floor_client: floor_client.post("/bench/floor/"), args.requests),
            )
        )

    print(", ".join(f"{corpus}: {n:,} articles" for corpus, n in sizes.items()))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.requests} requests each")
    floors = {name.split()[0]: statistics.median(cpu) for name, (_, cpu) in results if name.endswith("floor")}
    print(f"{'request':<36}{'wall ms':>9}{'p95':>8}{'CPU ms':>9}{'p95':>8}{'CPU x floor':>13}")
    for name, (wall, cpu) in results:
        print(
            f"{name:<36}{statistics.median(wall):>9.2f}{percentile(wall, 0.95):>8.2f}"
            f"{statistics.median(cpu):>9.2f}{percentile(cpu, 0.95):>8.2f}"
            f"{statistics.median(cpu) / floors[name.split()[0]]:>13.1f}"
        )
    pages = [statistics.median(cpu) for name, (_, cpu) in results if not name.endswith("floor")]
    print(f"mean of the pages' CPU medians: {statistics.mean(pages):.2f} ms")


def _profile(sort: str, call, repeat: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(lambda: [call() for _ in range(repeat)])
    pstats.Stats(profiler).sort_stats(sort).print_stats(int(os.environ.get("BENCH_PROFILE_LINES", 40)))


if __name__ == "__main__":
    main()
