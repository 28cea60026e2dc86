"""Time of ``next`` (the annotate page's ``n``) as the queue grows: 1k, 10k and 100k articles.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/next.py [--sizes 1000,10000,100000]

Builds (or reuses) one corpus per size with ``bench/corpus.py`` (databases ``newsnotes_bench_next_<size>``, no
spans; about half the articles are open: new or in progress), assigns 20 articles to the bench user, then times
``annotations.queue.selectors.next_in_queue`` in process from 200 articles spread over the queue, next to walking
the whole queue as ``next`` did before (every row of the editor's queue loaded). Prints medians, p95, queries per
call and the ratio of each size to the smallest, measured in this one run; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import ensure_corpus  # noqa: E402

CALLS = 200


def _walk(article_queue, user, current: int) -> int | None:
    """``next`` as it was: the whole queue loaded, then scanned in Python."""
    rows = list(article_queue(user=user).values_list("id", "status"))
    position = next((i for i, (pk, _) in enumerate(rows) if pk == current), -1)
    for pk, status in rows[position + 1 :] + rows[: position + 1]:
        if pk != current and status in ("new", "in_annotation"):
            return pk
    return None


def _time(call, currents: list[int]) -> tuple[float, float]:
    times = []
    for current in currents:
        started = time.perf_counter()
        call(current)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    corpora = {size: ensure_corpus(articles=size, spans=0, database=f"newsnotes_bench_next_{size}") for size in sizes}

    os.environ["DATABASE_URL"] = corpora[sizes[0]].url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotations.models import Assignment
    from annotations.queue.selectors import article_queue, next_in_queue
    from articles.models import Article

    results = {}
    for size in sizes:
        connection.close()
        connection.settings_dict["NAME"] = corpora[size].database
        user = get_user_model().objects.get(username=corpora[size].username)
        ids = list(Article.objects.order_by("id").values_list("id", flat=True))
        for pk in ids[:: max(1, len(ids) // 20)][:20]:
            Assignment.objects.get_or_create(article_id=pk, user=user)
        queued = Article.objects.filter(status__in=["new", "in_annotation"]).count()
        currents = ids[:: max(1, len(ids) // CALLS)][:CALLS]
        for current in currents[:5]:  # warm the caches
            next_in_queue(user=user, current=current)
        with CaptureQueriesContext(connection) as captured:
            next_in_queue(user=user, current=currents[0])
        one = _time(lambda current, user=user: next_in_queue(user=user, current=current), currents)
        walk = _time(lambda current, user=user: _walk(article_queue, user, current), currents[:20])
        results[size] = (queued, len(captured), one, walk)

    base = results[sizes[0]]
    print()
    print(
        f"{'articles':>9} {'queued':>8} {'queries':>7} {'next median':>12} {'p95':>8} {'ratio':>6}"
        f" {'walk median':>12} {'ratio':>6}"
    )
    for size, (queued, queries, (median, p95), (walk_median, _)) in results.items():
        print(
            f"{size:>9,} {queued:>8,} {queries:>7} {median:>10.2f}ms {p95:>6.2f}ms {median / base[2][0]:>6.2f}"
            f" {walk_median:>10.2f}ms {walk_median / base[3][0]:>6.1f}"
        )
    print("\nratio: median time against the smallest corpus, in this run (flat: close to 1).")


if __name__ == "__main__":
    main()
