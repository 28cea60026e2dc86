"""Queue search and ``n`` with a search, as the corpus grows: 10k and 100k articles.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/search.py [--sizes 10000,100000]

Builds (or reuses) one corpus per size with ``bench/corpus.py`` (databases ``<prefix>_<size>``, no spans),
assigns 20 articles to the bench user, then times in process, for each search term:

- ``page``: the queue's first page for ``?q=TERM`` with its totals, as the view loads it: ``queue_page`` (capped
  counts, bounded walks) then span counts for its 50 rows (``queue_rows``),
- ``n``: ``next_in_queue`` with the search, from 100 articles spread over the corpus,
- ``uncapped``: what the page's totals cost before the cap (``count(*)`` of every match and a GROUP BY status
  over them), for comparison.

Terms: a name typed halfway (``Corv``, a prefix matching Corvane in many articles), a common word, a word in ~2% of
the articles (past the cap at 100k, too sparse for the newest 1,000 of a status to fill a page: the older matches
come from the GIN index), the corpus' least common word, a word found nowhere, and no search at all. Prints median
and p95 per size, queries per call, the ratio of the 100k p95 to the 10k p95, and the floor: the bare capped GIN
match (``SELECT id ... WHERE search_document @@ q LIMIT 1001``, the first query of a searched page; its bitmap grows
with the matches).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import ensure_corpus  # noqa: E402
from bench.django_setup import development_setup, median_p95, use_corpus  # noqa: E402

CALLS = 100
TERMS = ["Corv", "chip", "sparse", "rare", "zzyzxq", ""]
WHAT = ("floor", "page", "n", "uncapped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--prefix", default="newsnotes_bench_search", help="database name prefix")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    corpora = {size: ensure_corpus(articles=size, spans=0, database=f"{args.prefix}_{size}") for size in sizes}

    development_setup(corpora[sizes[0]].url)
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from annotations.queue.selectors import (
        COUNT_CAP,
        active_labels,
        article_queue,
        next_in_queue,
        queue_page,
        queue_rows,
    )
    from articles.search import tsquery_text

    results: dict[tuple[int, str], dict[str, tuple[float, float]]] = {}
    matches: dict[tuple[int, str], int] = {}
    queries: dict[tuple[int, str, str], int] = {}
    terms = list(TERMS)
    for size in sizes:
        user, ids = use_corpus(corpora[size])
        if terms[3] == "rare":  # the least common word of the first corpus, the same for all sizes
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT word FROM ts_stat('SELECT search_document FROM articles_article') "
                    "WHERE word ~ '^[a-z]{5,}$' ORDER BY ndoc, word LIMIT 1"
                )
                terms[3] = cursor.fetchone()[0]
                # A word in ~2% of articles: past the cap at 100k but sparse in each status' newest 1,000, so the
                # page takes its older matches from the GIN index (queue selectors' _tails).
                cursor.execute(
                    "SELECT word FROM ts_stat('SELECT search_document FROM articles_article') "
                    "WHERE word ~ '^[a-z]{5,}$' ORDER BY abs(ndoc - %s), word LIMIT 1",
                    [len(ids) // 50],
                )
                terms[2] = cursor.fetchone()[0]
            terms = list(dict.fromkeys(terms))  # a small vocabulary may make the two the same word
        currents = ids[:: max(1, len(ids) // CALLS)][:CALLS]

        def page(term, user=user):  # as annotations.queue.views.article_list loads a page
            return queue_rows(annotator=user, ids=queue_page(user=user, q=term).ids, labels=active_labels())

        def uncapped(term, user=user):  # the page's totals as they were: every match counted
            queue = article_queue(user=user, q=term)
            queue.count()
            return dict(queue.order_by().values_list("status").annotate(n=Count("id")))

        def floor(term):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM articles_article WHERE search_document @@ to_tsquery('english', %s) LIMIT %s",
                    [tsquery_text(term), COUNT_CAP + 1],
                )
                return cursor.fetchall()

        def n(current, term, user=user):
            return next_in_queue(user=user, current=current, q=term)

        for term in terms:
            for _ in range(3):  # warm the caches
                page(term)
                if term:
                    floor(term)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM articles_article WHERE search_document @@ to_tsquery('english', %s)",
                    [tsquery_text(term)],
                )
                matches[size, term] = cursor.fetchone()[0] if term else len(ids)
            with CaptureQueriesContext(connection) as captured:
                page(term)
            queries[size, term, "page"] = len(captured)
            with CaptureQueriesContext(connection) as captured:
                n(currents[0], term)
            queries[size, term, "n"] = len(captured)
            results[size, term] = {
                "floor": median_p95(floor, [term] * 30) if term else (0.0, 0.0),
                "page": median_p95(page, [term] * 30),
                "n": median_p95(lambda current, term=term: n(current, term), currents),
                "uncapped": median_p95(uncapped, [term] * 10),
            }

    print()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores; shared machine)")
    header = f"{'term':>10} {'articles':>9} {'matches':>8} {'queries':>7}"
    for what in WHAT:
        header += f" {what + ' med':>13} {'p95':>8}"
    print(header)
    for term in terms:
        for size in sizes:
            used = f"{queries[size, term, 'page']}+{queries[size, term, 'n']}"
            row = f"{term or '(none)':>10} {size:>9,} {matches[size, term]:>8,} {used:>7}"
            for what in WHAT:
                median, p95 = results[size, term][what]
                row += f" {median:>11.2f}ms {p95:>6.2f}ms"
            print(row)
    if len(sizes) > 1:
        print(f"\np95 ratio {sizes[-1]:,} / {sizes[0]:,} articles (flat: close to 1):")
        for term in terms:
            ratios = "  ".join(
                f"{what} {results[sizes[-1], term][what][1] / results[sizes[0], term][what][1]:.2f}"
                for what in WHAT
                if results[sizes[0], term][what][1]
            )
            print(f"{term or '(none)':>10}  {ratios}")
    print(
        "\nfloor: the bare GIN match up to the cap (1,001 ids)."
        "\npage and n: what a keystroke and `n` cost (queries: page+n);"
        "\nuncapped: count(*) and GROUP BY status over every match, as the page counted before the cap."
    )


if __name__ == "__main__":
    main()
