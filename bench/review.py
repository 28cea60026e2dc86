"""Server time of the review page and of accepting an editor's version, next to a floor view (one INSERT).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/review.py

Creates the database ``newsnotes_bench_review`` on that server (dropped at the end), an article of 10,000 words
labelled by 3 editors with about 300 spans each — the same entities, with each editor leaving out some, giving
some another label and some other boundaries — then times in-process requests (Django's test Client;
``time.perf_counter`` around each call: routing, middleware, session, view, queries, template; no network):
the review page; accepting one editor's version of a conflict and rejecting one over htmx, posted as the page
posts them (naming the drawing it holds), so the answer is only what changed (out-of-band fragments); and, for
comparison, accepting from a page that missed a change, which is answered with the page's main region drawn
again. Prints medians, p95 and ratios to the floor, and the queries of each request; asserts nothing.
Targets on the 2-core reference machine: review page < 80 ms, accept p95 < 30 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import annotate  # noqa: E402
from bench.django_setup import production_settings  # noqa: E402

BENCH_DB = "newsnotes_bench_review"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=300, help="per editor")
    parser.add_argument("--accepts", type=int, default=40, help="each of accept, reject; a third as many full")
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--profile", metavar="FILE", help="also profile the accepts (cProfile) into FILE")
    args = parser.parse_args()
    annotate.BENCH_DB = BENCH_DB
    server, bench = annotate.server_urls()
    annotate.admin(server, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    annotate.admin(server, f'CREATE DATABASE "{BENCH_DB}"')
    production_settings(bench)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        annotate.admin(server, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from annotations.models import Assignment, Label, Span
    from annotations.review.selectors import review_state
    from articles.models import Article, body_sha256

    call_command("migrate", verbosity=0)
    annotate.install_floor("bench_review_urls")

    rng = random.Random(20261129)
    body, entities, _ = annotate.make_body(args.words, rng)
    article = Article.objects.create(title="Bench review article", body=body, body_sha256=body_sha256(body))
    User = get_user_model()
    labels = {label.slug: label for label in Label.objects.all()}
    editors = []
    now = timezone.now()
    for n in range(3):
        editor = User.objects.create_user(f"bench-editor-{n}", password="unused-bench-password")
        editor.groups.add(Group.objects.get(name="Editors"))
        editors.append(editor)
    rows = []
    for editor in editors:
        made = 0
        for start, end, kind in entities:
            if made >= args.spans:
                break
            roll = rng.random()
            if roll < 0.08:
                continue  # this editor left it out
            label = labels[kind]
            if roll < 0.12:
                label = labels["org" if kind == "person" else "person"]  # another label
            elif roll < 0.16 and end - start > 3:
                end -= 1  # other boundaries
            rows.append(
                Span(article=article, label=label, start=start, end=end, text=body[start:end], annotator=editor)
            )
            made += 1
    Span.objects.bulk_create(rows, ignore_conflicts=True)
    for editor in editors:
        Assignment.objects.create(article=article, user=editor, started_at=now, done_at=now, leased_until=now)
    reviewer = User.objects.create_user("bench-reviewer", password="unused-bench-password")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    state = review_state(article=article)
    conflicts = state.alignment.conflicts
    print(
        f"article: {len(body):,} characters, {Span.objects.filter(article=article).count()} editor spans by 3 "
        f"editors, {len(state.alignment.agreed)} agreed, {len(conflicts)} conflicts"
    )
    fulls = max(1, args.accepts // 3)
    if len(conflicts) < 2 * args.accepts + fulls + 11:
        raise SystemExit(
            f"only {len(conflicts)} conflicts for {2 * args.accepts + fulls + 11} decisions: raise --spans"
        )

    client = Client()
    client.force_login(reviewer)
    page = reverse("annotations:article-review", args=[article.pk])
    accept = reverse("annotations:review-accept", args=[article.pk])
    reject = reverse("annotations:review-reject", args=[article.pk])
    keys = iter([conflict.key for conflict in conflicts])
    version_of = re.compile(rb'id="review-version" data-version="([0-9a-f]+)"')
    htmx = {"HX-Request": "true"}
    first = version_of.search(client.get(page).content)
    if first is None:
        raise SystemExit("the review page names no drawing (#review-version)")
    held = {"version": first.group(1).decode()}
    answers = {"fragments": 0, "whole region": 0}

    def decide(url, data, *, stale=False):
        response = client.post(url, {**data, "version": "stale" if stale else held["version"]}, headers=htmx)
        found = version_of.search(response.content)
        if found:
            held["version"] = found.group(1).decode()
        answers["whole region" if response.get("HX-Retarget") == "#review-main" else "fragments"] += 1
        return response

    for _ in range(3):  # warm up: templates, connections, caches
        client.get(page)
        client.post("/bench/floor/")
    with annotate.counting(connection) as statements:
        client.get(page)
    page_queries = len(statements)
    with annotate.counting(connection) as statements:
        decide(accept, {"conflict": next(keys), "editor": "A"})
    accept_queries = len(statements)
    page_times = annotate.timed(lambda i: client.get(page), args.pages)
    floor_times = annotate.timed(lambda i: client.post("/bench/floor/"), args.accepts)
    if args.profile:
        import cProfile

        with cProfile.Profile() as profile:
            for _ in range(10):
                decide(accept, {"conflict": next(keys), "editor": "A"})
        profile.dump_stats(args.profile)
    accept_times = annotate.timed(lambda i: decide(accept, {"conflict": next(keys), "editor": "A"}), args.accepts)
    reject_times = annotate.timed(lambda i: decide(reject, {"conflict": next(keys)}), args.accepts)
    full_times = annotate.timed(lambda i: decide(accept, {"conflict": next(keys), "editor": "A"}, stale=True), fulls)
    print(f"review page: {page_queries} queries; accept: {accept_queries} queries")
    print(f"answers: {answers['fragments']} with fragments, {answers['whole region']} with the whole region")
    floor_median = statistics.median(floor_times[0])
    print(f"{'request':<32}{'median ms':>10}{'p95 ms':>10}{'x floor':>9}{'CPU median':>12}{'CPU p95':>9}")
    for name, (wall, cpu) in (
        ("floor (1 INSERT, nothing drawn)", floor_times),
        ("review page (GET)", page_times),
        ("accept a version (fragments)", accept_times),
        ("reject (fragments)", reject_times),
        ("accept, stale page (region)", full_times),
    ):
        median = statistics.median(wall)
        print(
            f"{name:<32}{median:>10.2f}{annotate.percentile(wall, 0.95):>10.2f}{median / floor_median:>9.1f}"
            f"{statistics.median(cpu):>12.2f}{annotate.percentile(cpu, 0.95):>9.2f}"
        )
    print("targets: review page < 80 ms; accept p95 < 30 ms")


if __name__ == "__main__":
    main()
