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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import ensure_corpus  # noqa: E402
from bench.django_setup import development_setup, median_p95, use_corpus  # noqa: E402

CALLS = 200


def _walk(article_queue, user, current: int) -> int | None:
    """``next`` as it was: the whole queue loaded, then scanned in Python."""
    rows = list(article_queue(user=user).values_list("id", "status"))
    position = next((i for i, (pk, _) in enumerate(rows) if pk == current), -1)
    for pk, status in rows[position + 1 :] + rows[: position + 1]:
        if pk != current and status in ("new", "in_annotation"):
            return pk
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    corpora = {size: ensure_corpus(articles=size, spans=0, database=f"newsnotes_bench_next_{size}") for size in sizes}

    development_setup(corpora[sizes[0]].url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotations.queue.selectors import article_queue, next_in_queue
    from articles.models import Article

    results = {}
    for size in sizes:
        user, ids = use_corpus(corpora[size])
        queued = Article.objects.filter(status__in=["new", "in_annotation"]).count()
        currents = ids[:: max(1, len(ids) // CALLS)][:CALLS]
        for current in currents[:5]:  # warm the caches
            next_in_queue(user=user, current=current)
        with CaptureQueriesContext(connection) as captured:
            next_in_queue(user=user, current=currents[0])
        one = median_p95(lambda current, user=user: next_in_queue(user=user, current=current), currents)
        walk = median_p95(lambda current, user=user: _walk(article_queue, user, current), currents[:20])
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
