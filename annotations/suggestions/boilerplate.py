# ruff: noqa: S608 -- table names in SQL come from model metadata; every value is a query parameter.
"""Boilerplate families over the corpus: the whole-corpus rebuild and the per-article check.

How a family is found (README "Boilerplate families"):

1. Every article's tail (``text.tail``: its last paragraphs, and the leading or trailing sentences of each) gives
   candidate passages of at least ``MIN_WORDS`` normalised words, stored in ``BoilerplatePassage`` with an exact
   key and 8 MinHash band keys.
2. Passages sharing a key across articles are candidates; a pair joins one group when its exact keys are equal
   or its word-bigram sets overlap by ``JACCARD_MIN`` with sizes within ``SIZE_RATIO_MIN`` (checked on the
   texts, not estimated). A group must hold a text repeated word for word (after normalisation) in two articles.
3. A group becomes a family when it holds copies in at least ``MIN_ARTICLES`` articles from at least
   ``MIN_SOURCES`` sources and its representative is not mostly quoted speech. In each article the copy most
   like the representative is kept; where copies of two families overlap, the longer wins.

The rule keeps out what looks repeated but is not boilerplate: a quote shared by two stories about one event
(two articles; quoted speech), a common short phrase or a shared headline (fewer than ``MIN_WORDS`` words), any
repeat in the middle of a story (only the tail is searched). The precision hint tells a curator how sure the
numbers are (see ``_HINT_SQL``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from annotations.suggestions import text as tx
from annotations.suggestions.models import BoilerplateCopy, BoilerplateFamily, BoilerplatePassage, FamilyStatus

logger = logging.getLogger(__name__)

MIN_ARTICLES = 3
MIN_SOURCES = 2
# A text is compared with at most this many cluster centres sharing a band key with it: a key shared by
# hundreds of unrelated passages (two common bigrams happening to be minimal) must not cost a quadratic number
# of comparisons. A real variant matches one of the first few (centres come commonest first).
MAX_CENTRES = 16
# The rebuild and the per-article check must not interleave: both take this transaction-level advisory lock.
_LOCK = 0x6E6E_6270  # "nnbp"
# From this many articles on, the rebuild cuts and signs passages in worker processes (one per core, up to 4).
PARALLEL_FROM = 5000

# Precision hint from the family's spread and position (README): "high" when the passage sits at the end of
# at least 80% of at least 10 articles from at least 3 outlets; "low" below 5 articles, 3 outlets or half at
# the end; "medium" otherwise.
_HINT_SQL = """
CASE
  WHEN s.articles IS NULL THEN 'low'
  WHEN s.articles >= 10 AND s.sources >= 3 AND s.end_share >= 0.8 THEN 'high'
  WHEN s.articles < 5 OR s.sources < 3 OR s.end_share < 0.5 THEN 'low'
  ELSE 'medium'
END
"""

_PASSAGE_TABLE = BoilerplatePassage._meta.db_table
_COPY_TABLE = BoilerplateCopy._meta.db_table
_FAMILY_TABLE = BoilerplateFamily._meta.db_table


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])


@dataclass(slots=True)
class _Member:
    """A passage taking part in grouping (loaded with its text)."""

    id: int
    article: int
    source: int | None
    start: int
    end: int
    paragraph: int
    exact: int
    keys: list[int]
    text: str
    seen: object = None  # the article's publication (or import) time


class _Shingles:
    """Bigram sets by exact key (equal exact keys mean equal normalised words).

    A set of a few dozen Python ints takes kilobytes: only those asked to be kept (group centres, family
    representatives) are cached, so memory follows the number of families, not of passages.
    """

    def __init__(self) -> None:
        self.cache: dict[int, frozenset[int]] = {}

    def of(self, member: _Member, *, keep: bool = True) -> frozenset[int]:
        found = self.cache.get(member.exact)
        if found is None:
            found = tx.bigram_set(member.text)
            if keep:
                self.cache[member.exact] = found
        return found


@dataclass(slots=True)
class _Choice:
    """A copy chosen for a family in one article."""

    family: int  # cluster root while grouping; family id once saved
    member: _Member
    articles: int = 0  # how many articles the family (or cluster) holds


def _best_per_article(members: Iterable[_Member], representative: frozenset[int], shingles: _Shingles):
    """In each article, the member most like the representative (ties: the longer, then the earlier)."""
    best: dict[int, tuple[tuple[float, int, int], _Member]] = {}
    for m in members:
        score = (tx.jaccard(shingles.of(m, keep=False), representative), m.end - m.start, -m.start)
        current = best.get(m.article)
        if current is None or score > current[0]:
            best[m.article] = (score, m)
    return [m for _, m in best.values()]


def _resolve_overlaps(choices: list[_Choice], taken: dict[int, list[tuple[int, int]]]) -> list[_Choice]:
    """Keep non-overlapping copies per article; ``taken`` holds places already occupied.

    Where copies overlap, the one covering more text across the corpus wins (its family's articles times its
    length): a whole footer beats its first sentence (as common, shorter), and a footer beats the same footer
    run together with a stock phrase (as long, in far fewer articles).
    """
    kept = []
    for choice in sorted(
        choices, key=lambda c: (-c.articles * (c.member.end - c.member.start), c.member.start, c.family)
    ):
        m = choice.member
        places = taken.setdefault(m.article, [])
        if any(m.start < e and s < m.end for s, e in places):
            continue
        places.append((m.start, m.end))
        kept.append(choice)
    return kept


def _representative(members: Sequence[_Member]) -> _Member:
    """The longest of the variants found in at least half as many articles as the commonest (ties: the earliest).

    A call to action's two sentences and its second sentence alone occur in the same articles (one holds the
    other); the family is the whole call to action.
    """
    articles: dict[int, set[int]] = defaultdict(set)
    first: dict[int, _Member] = {}
    for m in sorted(members, key=lambda m: m.id):
        articles[m.exact].add(m.article)
        first.setdefault(m.exact, m)
    most = max(len(a) for a in articles.values())
    common = [k for k in articles if len(articles[k]) * 2 >= most]
    exact = max(common, key=lambda k: (first[k].end - first[k].start, -first[k].id))
    return first[exact]


def _qualifies(members: Sequence[_Member]) -> bool:
    return (
        len({m.article for m in members}) >= MIN_ARTICLES
        and len({m.source for m in members if m.source is not None}) >= MIN_SOURCES
    )


def _insert_copies(choices: Sequence[_Choice], existing: dict[int, set[int]] | None = None) -> None:
    """Store copies; ``existing`` names the paragraphs already holding copies, per article (for ``at_end``)."""
    paragraphs: dict[int, set[int]] = defaultdict(set)
    for article_id, held in (existing or {}).items():
        paragraphs[article_id] |= held
    for c in choices:
        paragraphs[c.member.article].add(c.member.paragraph)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f'COPY {_COPY_TABLE} (family_id, article_id, source_id, seen, start, "end", text, exact_key, paragraph, '
            "at_end) FROM STDIN"
        ) as copy,
    ):
        for c in choices:
            m = c.member
            # At the end: every paragraph after this one holds boilerplate too.
            at_end = all(q in paragraphs[m.article] for q in range(m.paragraph))
            copy.write_row(
                (c.family, m.article, m.source, m.seen, m.start, m.end, m.text, m.exact, m.paragraph, at_end)
            )


def _refresh_families(family_ids: Iterable[int] | None = None) -> None:
    """Recompute counts, dates, position share and precision hint of families from their copies (one UPDATE)."""
    only = family_ids is not None
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH placed AS (
              SELECT c.family_id, c.article_id, c.exact_key, c.source_id, c.seen, c.at_end
                FROM {_COPY_TABLE} c
               WHERE NOT %(only)s OR c.family_id = ANY(%(ids)s)
            ), s AS (
              SELECT family_id, count(DISTINCT article_id) AS articles, count(DISTINCT source_id) AS sources,
                     count(*) AS copies, count(DISTINCT exact_key) AS variants,
                     avg(at_end::int)::float AS end_share, min(seen) AS first_seen, max(seen) AS last_seen
                FROM placed GROUP BY family_id
            )
            UPDATE {_FAMILY_TABLE} f SET
              article_count = coalesce(s.articles, 0), source_count = coalesce(s.sources, 0),
              copy_count = coalesce(s.copies, 0), variant_count = coalesce(s.variants, 0),
              end_share = coalesce(s.end_share, 0), first_seen = s.first_seen, last_seen = s.last_seen,
              precision_hint = {_HINT_SQL}, updated_at = now()
            FROM {_FAMILY_TABLE} f2 LEFT JOIN s ON s.family_id = f2.id
            WHERE f.id = f2.id AND (NOT %(only)s OR f.id = ANY(%(ids)s))
            """,
            {"only": only, "ids": list(family_ids or [])},
        )


# ---------------------------------------------------------------------------------------------------------------
# Whole corpus


@dataclass(frozen=True)
class RebuildResult:
    articles: int
    passages: int
    families: int  # active families after the rebuild
    dismissed: int  # dismissed families found again (they stay dismissed)
    copies: int
    seconds: float


_PASSAGE_COLUMNS = '(article_id, start, "end", paragraph, exact_key, keys)'
_BATCH = 500


def _batches(total: int) -> Iterable[list[tuple[int, str]]]:
    """``(id, body)`` of every article, a batch at a time, through a server-side cursor."""
    with connection.cursor() as reader:
        reader.execute("DECLARE bp_articles NO SCROLL CURSOR FOR SELECT id, body FROM articles_article ORDER BY id")
        while rows := _fetch(reader):
            yield rows
        reader.execute("CLOSE bp_articles")


def _fetch(reader) -> list[tuple[int, str]]:
    reader.execute(f"FETCH {_BATCH} FROM bp_articles")
    return reader.fetchall()


def _write_all_passages(total: int, progress: Callable[[int, int], None] | None) -> int:
    """Passages of every article's tail; worker processes cut and sign them when the corpus is large."""
    written = done = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE '%%pkey'",
            [_PASSAGE_TABLE],
        )
        indexes = cursor.fetchall()
        # Building the indexes once after the load is several times faster than keeping them up to date; only the
        # tables' owner may drop them, so the app's own role (README "History") keeps them and loads more slowly.
        cursor.execute("SELECT pg_has_role(tableowner, 'USAGE') FROM pg_tables WHERE tablename = %s", [_PASSAGE_TABLE])
        if not cursor.fetchone()[0]:
            indexes = []
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        workers = min(os.cpu_count() or 1, 4) if total >= PARALLEL_FROM else 1
        pool = multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else None

        def write(payload: str, count: int) -> None:
            nonlocal written, done
            with cursor.copy(f"COPY {_PASSAGE_TABLE} {_PASSAGE_COLUMNS} FROM STDIN") as copy:
                copy.write(payload)
            written += count
            done = min(total, done + _BATCH)
            if progress:
                progress(done, total)

        try:
            # Batches are read here (this thread owns the database connection) and cut in the workers, a few
            # batches ahead of the writes.
            pending: deque = deque()
            for batch in _batches(total):
                if pool is None:
                    write(*tx.copy_rows(batch))
                    continue
                pending.append(pool.apply_async(tx.copy_rows, (batch,)))
                if len(pending) > 2 * workers:
                    write(*pending.popleft().get())
            while pending:
                write(*pending.popleft().get())
        finally:
            if pool:
                pool.terminate()
        # Run the deferred foreign-key checks of the load now: an index cannot be built while they are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        logger.info("passages copied: %d", written)
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
    return written


def _load_members(where: str, params: dict) -> dict[int, _Member]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, p.article_id, a.source_id, p.start, p."end", p.paragraph, p.exact_key, p.keys,
                   substr(a.body, p.start + 1, p."end" - p.start), coalesce(a.published_at, a.imported_at)
              FROM {_PASSAGE_TABLE} p JOIN articles_article a ON a.id = p.article_id
             WHERE {where}
            """,
            params,
        )
        return {row[0]: _Member(*row) for row in cursor.fetchall()}


def _group(members: dict[int, _Member], shingles: _Shingles) -> dict[int, list[_Member]]:
    """Clusters of passages (by the id of their first passage): leader clustering of the distinct texts.

    Texts are taken commonest first (by articles). Each joins the first cluster *centre* it shares a band key
    with and is a near-duplicate of; a text repeated in two articles that joins none starts a cluster of its
    own; any other text is left out. Comparing with centres only, never with any member, keeps clusters from
    drifting: through footers run together, a chain of pairwise near-duplicates leads from any footer to any
    other.
    """
    by_exact: dict[int, list[_Member]] = defaultdict(list)
    for m in members.values():
        by_exact[m.exact].append(m)
    spread = {exact: len({m.article for m in group}) for exact, group in by_exact.items()}
    order = sorted(by_exact, key=lambda exact: (-spread[exact], min(m.id for m in by_exact[exact])))
    centre_of: dict[int, int] = {}
    centres_by_band: dict[int, list[int]] = defaultdict(list)
    for exact in order:
        first = by_exact[exact][0]
        candidates: list[int] = []
        for k in first.keys:
            for centre in centres_by_band.get(k, ()):
                if centre not in candidates:
                    candidates.append(centre)
        mine = shingles.of(first, keep=False)
        for centre in candidates[:MAX_CENTRES]:
            if tx.near_duplicates(mine, shingles.of(by_exact[centre][0])):
                centre_of[exact] = centre
                break
        else:
            if spread[exact] >= 2:
                centre_of[exact] = exact
                for k in first.keys:
                    centres_by_band[k].append(exact)
    clusters: dict[int, list[_Member]] = defaultdict(list)
    for exact, centre in centre_of.items():
        clusters[centre].extend(by_exact[exact])
    return {min(m.id for m in group): group for group in clusters.values()}


def _match_families(clusters: dict[int, list[_Member]]) -> tuple[dict[int, BoilerplateFamily], set[int]]:
    """Existing families found again, by the keys their variants had (exact keys weigh most)."""
    by_key: dict[int, list[int]] = defaultdict(list)
    families = {f.pk: f for f in BoilerplateFamily.objects.all()}
    for f in families.values():
        for k in f.keys:
            by_key[k].append(f.pk)
    scored: list[Any] = []
    for root, members in clusters.items():
        score: dict[int, int] = defaultdict(int)
        for m in members:
            for fid in by_key.get(m.exact, ()):
                score[fid] += 100
            for k in m.keys:
                for fid in by_key.get(k, ()):
                    score[fid] += 1
        scored.extend((points, root, fid) for fid, points in score.items())
    matched: dict[int, BoilerplateFamily] = {}
    used: set[int] = set()
    for _, root, fid in sorted(scored, reverse=True):
        if root not in matched and fid not in used:
            matched[root] = families[fid]
            used.add(fid)
    return matched, set(families) - used


def _family_keys(members: Iterable[_Member], old: Sequence[int] = ()) -> list[int]:
    keys = set(old)
    for m in members:
        keys.add(m.exact)
        keys.update(m.keys)
    return sorted(keys)


@transaction.atomic
def boilerplate_rebuild(*, progress: Callable[[int, int], None] | None = None) -> RebuildResult:
    """Re-find every family over the whole corpus; families found again keep their id and status.

    Rewrites passages and copies; active families no longer found are deleted, dismissed ones are kept (so they
    stay dismissed if they come back). ``progress(done, total)`` is called per batch of articles.
    """
    started = time.perf_counter()
    _lock()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")  # derived data: a crash loses nothing real
        # DELETE, not TRUNCATE: the app's database role has no TRUNCATE privilege (README "History"), and the
        # rows go in one statement each all the same.
        cursor.execute(f"DELETE FROM {_COPY_TABLE}")
        cursor.execute(f"DELETE FROM {_PASSAGE_TABLE}")
        cursor.execute("SELECT count(*) FROM articles_article")
        total = cursor.fetchone()[0]

    # 1. Passages of every article's tail, streamed in batches (memory does not grow with the corpus).
    passages = _write_all_passages(total, progress)
    logger.info("passages written: %.1f s", time.perf_counter() - started)

    # 2. Keys shared across articles: the only passages that can be boilerplate.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + _PASSAGE_TABLE)
        # ON COMMIT DROP does not fire while an outer transaction (a test, a request) holds this one open.
        cursor.execute("DROP TABLE IF EXISTS bp_repeated, bp_groups, bp_cluster")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE bp_repeated ON COMMIT DROP AS
            SELECT exact_key FROM {_PASSAGE_TABLE} GROUP BY exact_key HAVING min(article_id) <> max(article_id)
            """
        )
        # A family is anchored in a text that repeats word for word (after normalisation) across articles;
        # near-duplicates join such repeats through a shared band. Bands shared only by passages that repeat
        # nowhere (a story's last sentence plus a stock phrase, say) are left out: they cannot make a family.
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE bp_groups ON COMMIT DROP AS
            SELECT array_agg(p.id) AS ids FROM {_PASSAGE_TABLE} p JOIN bp_repeated r USING (exact_key)
             GROUP BY p.exact_key
            UNION ALL
            SELECT array_agg(id) FROM (
              SELECT p.id, p.article_id, unnest(p.keys) AS k, r.exact_key IS NOT NULL AS anchored
                FROM {_PASSAGE_TABLE} p LEFT JOIN bp_repeated r USING (exact_key)
            ) s GROUP BY k HAVING min(article_id) <> max(article_id) AND bool_or(anchored)
            """
        )
        cursor.execute("SELECT count(*) FROM bp_groups")
        groups = cursor.fetchone()[0]
    logger.info("%d shared keys: %.1f s", groups, time.perf_counter() - started)
    members = _load_members("p.id IN (SELECT unnest(ids) FROM bp_groups)", {})
    logger.info("%d passages loaded: %.1f s", len(members), time.perf_counter() - started)
    del groups
    shingles = _Shingles()
    clusters = _group(members, shingles)
    logger.info("grouped: %.1f s", time.perf_counter() - started)

    # 3. Clusters that qualify; one copy per article; overlaps resolved.
    choices: list[_Choice] = []
    representatives: dict[int, _Member] = {}
    for root, group in clusters.items():
        if not _qualifies(group):
            continue
        rep = _representative(group)
        if tx.mostly_quoted(rep.text):
            continue
        representatives[root] = rep
        articles = len({m.article for m in group})
        choices.extend(_Choice(root, m, articles) for m in _best_per_article(group, shingles.of(rep), shingles))
    kept = _resolve_overlaps(choices, {})
    by_cluster: dict[int, list[_Member]] = defaultdict(list)
    for c in kept:
        by_cluster[c.family].append(c.member)
    by_cluster = {root: group for root, group in by_cluster.items() if _qualifies(group)}
    kept = [c for c in kept if c.family in by_cluster]

    # 4. Families: found again (same id and status) or new; active ones no longer found go.
    matched, unmatched = _match_families(by_cluster)
    BoilerplateFamily.objects.update(cluster=None)
    BoilerplateFamily.objects.filter(pk__in=unmatched, status=FamilyStatus.ACTIVE).delete()
    family_of: dict[int, int] = {}
    for root, group in by_cluster.items():
        rep = representatives[root]
        family = matched.get(root)
        if family is None:
            family = BoilerplateFamily.objects.create(text=rep.text, cluster=root, keys=_family_keys(group))
        else:
            family.text = rep.text if family.status == FamilyStatus.ACTIVE else family.text
            family.cluster = root
            family.keys = _family_keys(group, family.keys if family.status == FamilyStatus.DISMISSED else ())
            family.save(update_fields=["text", "cluster", "keys", "updated_at"])
        family_of[root] = family.pk
    for c in kept:
        c.family = family_of[c.family]
    _insert_copies(kept)

    # 5. Passages remember their cluster, so a later copy of an unfamilied repeat can make it a family.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bp_cluster (id bigint, cluster bigint) ON COMMIT DROP")
        with cursor.copy("COPY bp_cluster (id, cluster) FROM STDIN") as copy:
            for root, group in clusters.items():
                if len(group) > 1:
                    for m in group:
                        copy.write_row((m.id, root))
        cursor.execute(f"UPDATE {_PASSAGE_TABLE} p SET cluster = c.cluster FROM bp_cluster c WHERE p.id = c.id")
    _refresh_families()
    active = BoilerplateFamily.objects.filter(status=FamilyStatus.ACTIVE).count()
    return RebuildResult(
        articles=total,
        passages=passages,
        families=active,
        dismissed=sum(1 for f in matched.values() if f.status == FamilyStatus.DISMISSED),
        copies=len(kept),
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------------------------
# Per article


@dataclass(frozen=True)
class CheckResult:
    articles: int
    copies: int  # copies found in the checked articles
    new_families: list[int]  # families discovered by this check


def _passage_candidates(signed: list[tx.Signed], exclude: list[int]) -> dict[int, _Member]:
    """Earlier passages repeating these word for word (after normalisation), one per exact key (btree index).

    A repeat that no family explains yet is found this way; near-duplicates of it join at the next rebuild.
    """
    return _load_members(
        f"""p.id IN (
              SELECT (SELECT q.id FROM {_PASSAGE_TABLE} q
                       WHERE q.exact_key = k.key AND NOT q.article_id = ANY(%(ex)s) LIMIT 1)
                FROM unnest(%(exacts)s::bigint[]) AS k(key)
            )""",
        {"exacts": sorted({s.exact for s in signed}), "ex": exclude},
    )


@dataclass(slots=True)
class _KnownFamily:
    id: int
    cluster: int | None
    text: str
    articles: int
    keys: list[int]
    shingles: frozenset[int] | None = None

    def bigrams(self) -> frozenset[int]:
        if self.shingles is None:
            self.shingles = tx.bigram_set(self.text)
        return self.shingles


@transaction.atomic
def boilerplate_check_articles(*, article_ids: Sequence[int]) -> CheckResult:
    """Find copies of known families in these articles (new or changed) by indexed key lookups.

    Idempotent: the articles' earlier passages and copies are replaced. Records the articles' passages, so a
    repeat seen in enough articles becomes a new family here without a rebuild. Call after the import commits.
    """
    _lock()
    ids = sorted(set(article_ids))
    BoilerplatePassage.objects.filter(article_id__in=ids).delete()
    BoilerplateCopy.objects.filter(article_id__in=ids).delete()
    with connection.cursor() as cursor:
        # Derived data, rebuilt from the articles at will: no need to wait for the disk at commit.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(
            "SELECT id, source_id, body, coalesce(published_at, imported_at) FROM articles_article "
            "WHERE id = ANY(%s) ORDER BY id",
            [ids],
        )
        rows = cursor.fetchall()
    signed_lists = tx.signatures([tx.tail(body) for _, _, body, _ in rows])
    all_signed = [s for signed in signed_lists for s in signed]
    if not all_signed:
        return CheckResult(articles=len(rows), copies=0, new_families=[])
    shingles = _Shingles()

    # 1. Known families, by the keys of their variants (a small table with a GIN index).
    # Only the family keys this article shares are fetched: a big family has thousands.
    by_key: dict[int, list[_KnownFamily]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT id, cluster, text, article_count, ARRAY(SELECT k FROM unnest(keys) k WHERE k = ANY(%(keys)s))
                  FROM {_FAMILY_TABLE} WHERE keys && %(keys)s::bigint[]""",
            {"keys": sorted({k for s in all_signed for k in s.keys})},
        )
        for row in cursor.fetchall():
            family = _KnownFamily(*row)
            for k in family.keys:
                by_key[k].append(family)
    members: list[_Member] = []
    family_of: dict[int, _KnownFamily] = {}  # index in members → family
    unexplained: list[int] = []
    for (article_id, source_id, body, seen), signed in zip(rows, signed_lists, strict=True):
        for s in signed:
            p = s.passage
            m = _Member(0, article_id, source_id, p.start, p.end, p.paragraph, s.exact, list(s.bands), "", seen)
            m.text = body[p.start : p.end]
            index = len(members)
            members.append(m)
            found = next(iter(by_key.get(s.exact, ())), None)
            if found is None:
                for k in s.bands:
                    found = next(
                        (f for f in by_key.get(k, ()) if tx.near_duplicates(shingles.of(m), f.bigrams())), None
                    )
                    if found is not None:
                        break
            if found is not None:
                family_of[index] = found
            else:
                unexplained.append(index)

    # Places in the checked articles that known families already explain: a piece of a known footer (its
    # first sentences, say) repeats too, but is no family of its own and is not looked up.
    explained: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i in family_of:
        explained[members[i].article].append((members[i].start, members[i].end))
    unexplained = [
        i
        for i in unexplained
        if not any(members[i].start < e and s < members[i].end for s, e in explained.get(members[i].article, ()))
    ]

    # 2. Passages no family explains: do they repeat an earlier passage (by the passage index)?
    cluster_of: dict[int, int] = {i: f.cluster for i, f in family_of.items() if f.cluster is not None}
    matches: dict[int, _Member] = {}
    if unexplained:
        candidates = _passage_candidates([all_signed[i] for i in unexplained], ids)
        by_exact = {c.exact: c for c in candidates.values()}
        for i in unexplained:
            match = by_exact.get(members[i].exact)
            if match is not None:
                matches[i] = match
    with connection.cursor() as cursor:
        roots: dict[int, int] = {}
        for i, match in matches.items():
            if match.id not in roots:
                cursor.execute(
                    f"UPDATE {_PASSAGE_TABLE} SET cluster = coalesce(cluster, id) WHERE id = %s RETURNING cluster",
                    [match.id],
                )
                roots[match.id] = cursor.fetchone()[0]
            cluster_of[i] = roots[match.id]
    created = BoilerplatePassage.objects.bulk_create(
        [
            BoilerplatePassage(
                article_id=m.article, start=m.start, end=m.end, paragraph=m.paragraph, exact_key=m.exact,
                keys=m.keys, cluster=cluster_of.get(i),
            )
            for i, m in enumerate(members)
        ]
    )  # fmt: skip
    for m, row in zip(members, created, strict=True):
        m.id = row.pk

    # 3. A repeat seen in enough articles now becomes a family.
    new_families: list[int] = []
    families_by_cluster = {
        f.cluster: _KnownFamily(f.pk, f.cluster, f.text, f.article_count, f.keys)
        for f in BoilerplateFamily.objects.filter(cluster__in={cluster_of[i] for i in matches}).only(
            "id", "cluster", "text", "article_count", "keys"
        )
    }
    for cluster in sorted({cluster_of[i] for i in matches} - set(families_by_cluster)):
        discovered = _discover(cluster, shingles, checking=set(ids), explained=explained)
        if discovered is not None:
            families_by_cluster[cluster] = _KnownFamily(
                discovered.pk, discovered.cluster, discovered.text, discovered.article_count, discovered.keys
            )
            new_families.append(discovered.pk)
    for i in matches:
        if cluster_of[i] in families_by_cluster:
            family_of[i] = families_by_cluster[cluster_of[i]]

    # 4. One copy per family and article, overlaps resolved (longer first), family numbers refreshed.
    grouped: dict[int, list[_Member]] = defaultdict(list)
    known: dict[int, _KnownFamily] = {}
    for i, family in family_of.items():
        grouped[family.id].append(members[i])
        known[family.id] = family
    choices = [
        _Choice(fid, m, known[fid].articles)
        for fid, group in grouped.items()
        for m in _best_per_article(group, known[fid].bigrams(), shingles)
    ]
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    kept = _resolve_overlaps(choices, taken)
    _insert_copies(kept)
    # New variants: their keys join the family's, so the next copy like them is matched by key.
    for fid in {c.family for c in kept}:
        have = set(known[fid].keys)
        new_keys = sorted(set(_family_keys([c.member for c in kept if c.family == fid])) - have)
        if new_keys:
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {_FAMILY_TABLE} SET keys = keys || %s::bigint[] WHERE id = %s", [new_keys, fid])
    touched = {c.family for c in kept} | set(new_families)
    if touched:
        _refresh_families(touched)
    return CheckResult(articles=len(rows), copies=len(kept), new_families=new_families)


def _discover(
    cluster: int, shingles: _Shingles, *, checking: set[int], explained: dict[int, list[tuple[int, int]]]
) -> BoilerplateFamily | None:
    """Make a family of a cluster that now qualifies, as the rebuild would: counting only copies that overlap no
    other family's copy (``explained`` adds such places in the articles being checked, whose copies are not
    stored yet). Copies in earlier articles are stored here; the caller places those of the checked articles."""
    members = list(_load_members("p.cluster = %(cluster)s", {"cluster": cluster}).values())
    if not _qualifies(members):
        return None
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    held: dict[int, set[int]] = defaultdict(set)
    for article_id, start, end, paragraph in BoilerplateCopy.objects.filter(
        article_id__in={m.article for m in members}
    ).values_list("article_id", "start", "end", "paragraph"):
        taken[article_id].append((start, end))
        held[article_id].add(paragraph)
    for article_id, places in explained.items():
        taken[article_id].extend(places)
    free = [m for m in members if not any(m.start < e and s < m.end for s, e in taken.get(m.article, ()))]
    if not _qualifies(free):
        return None
    rep = _representative(free)
    if tx.mostly_quoted(rep.text):
        return None
    articles = len({m.article for m in free})
    family = BoilerplateFamily.objects.create(
        text=rep.text, cluster=cluster, keys=_family_keys(free), article_count=articles
    )
    best = [m for m in _best_per_article(free, shingles.of(rep), shingles) if m.article not in checking]
    _insert_copies(_resolve_overlaps([_Choice(family.pk, m, articles) for m in best], taken), held)
    return family
