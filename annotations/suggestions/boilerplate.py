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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from annotations.suggestions import text as tx
from annotations.suggestions.models import (
    BoilerplateCopy,
    BoilerplateFamily,
    BoilerplatePassage,
    FamilyStatus,
    PrecisionHint,
)
from articles.services import sequence_ids

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


def _family_keys(members: Iterable[_Member], old: Sequence[int] = ()) -> list[int]:
    keys = set(old)
    for m in members:
        keys.add(m.exact)
        keys.update(m.keys)
    return sorted(keys)


# The whole-corpus rebuild keeps in Python only what does not grow with the corpus: one batch of rows, the
# cluster centres (one per distinct repeated text, commonest first), one family's representative, one article's
# choices. Everything per passage lives in temporary tables (the app's role may create them: PostgreSQL grants
# TEMPORARY on a database to every role) and is read back through server-side cursors.
_STREAM_BATCH = 2000
_TEMP_TABLES = "bp_repeated, bp_member, bp_exact, bp_centre, bp_in, bp_cl, bp_rep, bp_choice, bp_kept, bp_fam"


def _stream(name: str, query: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
    """Rows of ``query`` through a server-side cursor, ``_STREAM_BATCH`` at a time (other statements may run
    on the connection between batches)."""
    with connection.cursor() as reader:
        reader.execute(f"DECLARE {name} NO SCROLL CURSOR FOR {query}", params or None)
        try:
            while True:
                reader.execute(f"FETCH {_STREAM_BATCH} FROM {name}")
                rows = reader.fetchall()
                if not rows:
                    break
                yield from rows
        finally:
            reader.execute(f"CLOSE {name}")


class _Writer:
    """Rows COPied into a temporary table in batches, so they never pile up in Python."""

    def __init__(self, table: str, columns: str) -> None:
        self.statement = f"COPY {table} ({columns}) FROM STDIN"
        self.rows: list[tuple] = []

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= _STREAM_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            with connection.cursor() as cursor, cursor.copy(self.statement) as copy:
                for row in self.rows:
                    copy.write_row(row)
            self.rows = []


def _execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _assign_centres() -> None:
    """Leader clustering of the distinct texts into ``bp_centre (exact_key, centre)``.

    Texts come commonest first (by articles), one row each from a server-side cursor. Each joins the first
    cluster *centre* it shares a band key with and is a near-duplicate of; a text repeated in two articles that
    joins none starts a cluster of its own; any other text is left out. Comparing with centres only, never with
    any member, keeps clusters from drifting: through footers run together, a chain of pairwise near-duplicates
    leads from any footer to any other. Only the centres' bigram sets are held.
    """
    centres: dict[int, frozenset[int]] = {}
    centres_by_band: dict[int, list[int]] = defaultdict(list)
    out = _Writer("bp_centre", "exact_key, centre")
    rows = _stream(
        "bp_texts",
        f"""SELECT e.exact_key, e.spread, p.keys, substr(a.body, p.start + 1, p."end" - p.start)
              FROM bp_exact e JOIN {_PASSAGE_TABLE} p ON p.id = e.first_id
              JOIN articles_article a ON a.id = p.article_id
             ORDER BY e.spread DESC, e.first_id""",
    )
    for exact, spread, keys, text in rows:
        candidates: list[int] = []
        for k in keys:
            for centre in centres_by_band.get(k, ()):
                if centre not in candidates:
                    candidates.append(centre)
        mine = tx.bigram_set(text)
        for centre in candidates[:MAX_CENTRES]:
            if tx.near_duplicates(mine, centres[centre]):
                out.add((exact, centre))
                break
        else:
            if spread >= 2:
                centres[exact] = mine
                for k in keys:
                    centres_by_band[k].append(exact)
                out.add((exact, exact))
    out.flush()
    logger.info("%d cluster centres", len(centres))


def _choose_copies() -> None:
    """Clusters that qualify, their representatives, one copy per article (``bp_choice``), overlaps resolved
    (``bp_kept``): each step streams its rows in cluster or article order and holds one cluster or article."""
    _execute(
        """CREATE TEMPORARY TABLE bp_cl ON COMMIT DROP AS
            SELECT centre, min(id) AS root, count(*) AS n, count(DISTINCT article_id) AS articles,
                   count(DISTINCT source_id) AS sources
              FROM bp_in GROUP BY centre""",
        "CREATE TEMPORARY TABLE bp_rep (centre bigint PRIMARY KEY, passage bigint, articles int) ON COMMIT DROP",
    )
    # The representative: the longest of the variants found in at least half as many articles as the commonest
    # (ties: the earliest). A call to action's two sentences and its second sentence alone occur in the same
    # articles (one holds the other); the family is the whole call to action.
    representatives = _Writer("bp_rep", "centre, passage, articles")
    texts: dict[int, str] = {}  # one per qualifying cluster: as many as there are families
    for centre, passage, text, articles in _stream(
        "bp_reps",
        f"""WITH v AS (
              SELECT i.centre, i.exact_key, count(DISTINCT i.article_id) AS n, min(i.id) AS first_id
                FROM bp_in i JOIN bp_cl c USING (centre)
               WHERE c.articles >= {MIN_ARTICLES} AND c.sources >= {MIN_SOURCES}
               GROUP BY i.centre, i.exact_key
            ), w AS (SELECT v.*, max(n) OVER (PARTITION BY centre) AS most FROM v)
            SELECT DISTINCT ON (w.centre) w.centre, p.id, substr(a.body, p.start + 1, p."end" - p.start), c.articles
              FROM w JOIN {_PASSAGE_TABLE} p ON p.id = w.first_id JOIN articles_article a ON a.id = p.article_id
              JOIN bp_cl c ON c.centre = w.centre
             WHERE w.n * 2 >= w.most
             ORDER BY w.centre, p."end" - p.start DESC, p.id""",
    ):
        if not tx.mostly_quoted(text):
            representatives.add((centre, passage, articles))
            texts[centre] = text
    representatives.flush()

    # In each article, the copy most like the representative (ties: the longer, then the earlier).
    _execute(
        "CREATE TEMPORARY TABLE bp_choice (centre bigint, root bigint, passage bigint, article_id bigint, "
        'source_id bigint, start int, "end" int, paragraph int, weight bigint) ON COMMIT DROP'
    )
    choices = _Writer("bp_choice", 'centre, root, passage, article_id, source_id, start, "end", paragraph, weight')
    current: int | None = None
    representative: frozenset[int] = frozenset()
    best: dict[int, tuple[tuple[float, int, int], tuple]] = {}  # this cluster's members, by article

    def flush_cluster() -> None:
        for _, row in best.values():
            choices.add(row)
        best.clear()

    for centre, root, articles, passage, article_id, source_id, start, end, paragraph, text in _stream(
        "bp_members",
        """SELECT i.centre, c.root, r.articles, i.id, i.article_id, i.source_id, i.start, i."end", i.paragraph,
                   substr(a.body, i.start + 1, i."end" - i.start)
              FROM bp_in i JOIN bp_rep r USING (centre) JOIN bp_cl c USING (centre)
              JOIN articles_article a ON a.id = i.article_id
             ORDER BY i.centre""",
    ):
        if centre != current:
            flush_cluster()
            current = centre
            representative = tx.bigram_set(texts.pop(centre))
        score = (tx.jaccard(tx.bigram_set(text), representative), end - start, -start)
        held = best.get(article_id)
        if held is None or score > held[0]:
            row = (centre, root, passage, article_id, source_id, start, end, paragraph, articles * (end - start))
            best[article_id] = (score, row)
    flush_cluster()
    choices.flush()

    # Where copies overlap, the one covering more text across the corpus wins (its family's articles times its
    # length): a whole footer beats its first sentence (as common, shorter), and a footer beats the same footer
    # run together with a stock phrase (as long, in far fewer articles).
    _execute(
        "CREATE TEMPORARY TABLE bp_kept (centre bigint, passage bigint, article_id bigint, source_id bigint, "
        "paragraph int) ON COMMIT DROP"
    )
    kept = _Writer("bp_kept", "centre, passage, article_id, source_id, paragraph")
    article: int | None = None
    places: list[tuple[int, int]] = []
    for centre, passage, article_id, source_id, start, end, paragraph in _stream(
        "bp_overlaps",
        'SELECT centre, passage, article_id, source_id, start, "end", paragraph FROM bp_choice '
        "ORDER BY article_id, weight DESC, start, root",
    ):
        if article_id != article:
            article, places = article_id, []
        if any(start < e and s < end for s, e in places):
            continue
        places.append((start, end))
        kept.add((centre, passage, article_id, source_id, paragraph))
    kept.flush()
    # A cluster that lost copies to longer or commoner ones may no longer qualify (its copies still took their
    # places, as before).
    _execute(
        f"""DELETE FROM bp_kept WHERE centre IN (
              SELECT centre FROM bp_kept GROUP BY centre
              HAVING count(DISTINCT article_id) < {MIN_ARTICLES} OR count(DISTINCT source_id) < {MIN_SOURCES})"""
    )


def _match_families() -> tuple[dict[int, BoilerplateFamily], list[int]]:
    """Existing families found again, by the keys their variants had (exact keys weigh most): clusters (by
    centre) to families, and the ids of families found in no cluster. Scored in SQL; Python sees one row per
    cluster and family sharing a key."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH fk AS (SELECT id AS fid, unnest(keys) AS k FROM {_FAMILY_TABLE}),
            m AS (SELECT k.centre, p.exact_key, p.keys FROM bp_kept k JOIN {_PASSAGE_TABLE} p ON p.id = k.passage)
            SELECT s.points, c.root, s.centre, s.fid FROM (
              SELECT centre, fid, sum(points) AS points FROM (
                SELECT m.centre, fk.fid, 100 AS points FROM m JOIN fk ON fk.k = m.exact_key
                UNION ALL
                SELECT m.centre, fk.fid, 1 FROM m CROSS JOIN LATERAL unnest(m.keys) AS b(k) JOIN fk ON fk.k = b.k
              ) x GROUP BY centre, fid
            ) s JOIN bp_cl c USING (centre)
            ORDER BY s.points DESC, c.root DESC, s.fid DESC
            """
        )
        scored = cursor.fetchall()
    families = {f.pk: f for f in BoilerplateFamily.objects.defer("keys")}
    matched: dict[int, BoilerplateFamily] = {}
    used: set[int] = set()
    for _, _, centre, fid in scored:
        if centre not in matched and fid not in used:
            matched[centre] = families[fid]
            used.add(fid)
    return matched, [fid for fid in families if fid not in used]


def _save_families() -> tuple[int, int]:
    """Families for the clusters kept in ``bp_kept`` (found again or new) and their copies: (copies, dismissed
    families found again). Active families no longer found go."""
    matched, unmatched = _match_families()
    BoilerplateFamily.objects.update(cluster=None)
    BoilerplateFamily.objects.filter(pk__in=unmatched, status=FamilyStatus.ACTIVE).delete()
    _execute("CREATE TEMPORARY TABLE bp_fam (centre bigint PRIMARY KEY, family bigint) ON COMMIT DROP")
    # The keys of every variant kept; a dismissed family also keeps the keys it had.
    keys_sql = f"""ARRAY(SELECT DISTINCT k FROM (
                     SELECT p.exact_key AS k FROM bp_kept x JOIN {_PASSAGE_TABLE} p ON p.id = x.passage
                      WHERE x.centre = %(centre)s
                     UNION ALL
                     SELECT unnest(p.keys) FROM bp_kept x JOIN {_PASSAGE_TABLE} p ON p.id = x.passage
                      WHERE x.centre = %(centre)s
                     UNION ALL
                     SELECT unnest(keys) FROM {_FAMILY_TABLE} WHERE id = %(old)s AND status = %(dismissed)s
                   ) k ORDER BY k)"""
    dismissed = 0
    with connection.cursor() as cursor:
        for centre, root, text in _stream(
            "bp_families",
            f"""SELECT r.centre, c.root, substr(a.body, p.start + 1, p."end" - p.start)
                  FROM bp_rep r JOIN bp_cl c USING (centre) JOIN {_PASSAGE_TABLE} p ON p.id = r.passage
                  JOIN articles_article a ON a.id = p.article_id
                 WHERE r.centre IN (SELECT centre FROM bp_kept) ORDER BY c.root""",
        ):
            family = matched.get(centre)
            params = {"centre": centre, "root": root, "text": text, "dismissed": FamilyStatus.DISMISSED}
            if family is None:
                cursor.execute(
                    f"""INSERT INTO {_FAMILY_TABLE} (text, status, precision_hint, article_count, source_count,
                          copy_count, variant_count, end_share, cluster, keys, created_at, updated_at)
                        VALUES (%(text)s, %(active)s, %(medium)s, 0, 0, 0, 0, 0, %(root)s,
                          {keys_sql.replace("%(old)s", "NULL")}, now(), now())
                        RETURNING id""",
                    {**params, "active": FamilyStatus.ACTIVE, "medium": PrecisionHint.MEDIUM},
                )
                family_id = cursor.fetchone()[0]
            else:
                dismissed += family.status == FamilyStatus.DISMISSED
                cursor.execute(
                    f"""UPDATE {_FAMILY_TABLE} SET cluster = %(root)s,
                          text = CASE WHEN status = %(active)s THEN %(text)s ELSE text END,
                          keys = {keys_sql}, updated_at = now()
                        WHERE id = %(old)s""",
                    {**params, "old": family.pk, "active": FamilyStatus.ACTIVE},
                )
                family_id = family.pk
            cursor.execute("INSERT INTO bp_fam (centre, family) VALUES (%s, %s)", [centre, family_id])
        # At the end: every paragraph after this one (counted back from the last) holds a copy too.
        cursor.execute(
            f"""
            WITH held AS (SELECT article_id, array_agg(DISTINCT paragraph) AS paragraphs FROM bp_kept GROUP BY 1)
            INSERT INTO {_COPY_TABLE} (family_id, article_id, source_id, seen, start, "end", text, exact_key,
                                       paragraph, at_end)
            SELECT f.family, k.article_id, a.source_id, coalesce(a.published_at, a.imported_at), p.start, p."end",
                   substr(a.body, p.start + 1, p."end" - p.start), p.exact_key, p.paragraph,
                   (SELECT count(*) FROM unnest(h.paragraphs) q WHERE q < k.paragraph) = k.paragraph
              FROM bp_kept k JOIN bp_fam f USING (centre) JOIN {_PASSAGE_TABLE} p ON p.id = k.passage
              JOIN articles_article a ON a.id = k.article_id JOIN held h ON h.article_id = k.article_id
            """
        )
        copies = cursor.rowcount
    return copies, dismissed


@transaction.atomic
def boilerplate_rebuild(*, progress: Callable[[int, int], None] | None = None) -> RebuildResult:
    """Re-find every family over the whole corpus; families found again keep their id and status.

    Rewrites passages and copies; active families no longer found are deleted, dismissed ones are kept (so they
    stay dismissed if they come back). ``progress(done, total)`` is called per batch of articles. Memory does
    not grow with the corpus: passages, clusters and copies go through PostgreSQL (see ``_STREAM_BATCH``).
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

    # 1. Passages of every article's tail, streamed in batches.
    passages = _write_all_passages(total, progress)
    logger.info("passages written: %.1f s", time.perf_counter() - started)

    # 2. Keys shared across articles: the only passages that can be boilerplate.
    _execute(
        "ANALYZE " + _PASSAGE_TABLE,
        # ON COMMIT DROP does not fire while an outer transaction (a test, a request) holds this one open.
        f"DROP TABLE IF EXISTS {_TEMP_TABLES}",
        f"""CREATE TEMPORARY TABLE bp_repeated ON COMMIT DROP AS
            SELECT exact_key FROM {_PASSAGE_TABLE} GROUP BY exact_key HAVING min(article_id) <> max(article_id)""",
        # A family is anchored in a text that repeats word for word (after normalisation) across articles;
        # near-duplicates join such repeats through a shared band. Bands shared only by passages that repeat
        # nowhere (a story's last sentence plus a stock phrase, say) are left out: they cannot make a family.
        # Only the band keys of repeats are grouped (a hash of a few per cent of them), not every band of every
        # passage: four times faster at 50,000 articles, same members.
        f"""CREATE TEMPORARY TABLE bp_member ON COMMIT DROP AS
            WITH anchored AS (
              SELECT DISTINCT unnest(p.keys) AS k FROM {_PASSAGE_TABLE} p JOIN bp_repeated USING (exact_key)
            ), near AS (
              SELECT p.id, p.article_id, b.k FROM {_PASSAGE_TABLE} p CROSS JOIN LATERAL unnest(p.keys) AS b(k)
               WHERE b.k IN (SELECT k FROM anchored)
            ), shared AS (
              SELECT k FROM near GROUP BY k HAVING min(article_id) <> max(article_id)
            )
            SELECT p.id FROM {_PASSAGE_TABLE} p JOIN bp_repeated USING (exact_key)
            UNION
            SELECT near.id FROM near JOIN shared USING (k)""",
        # Passages with equal exact keys have equal band keys, so a text is in or out as a whole.
        f"""CREATE TEMPORARY TABLE bp_exact ON COMMIT DROP AS
            SELECT p.exact_key, count(DISTINCT p.article_id) AS spread, min(p.id) AS first_id
              FROM {_PASSAGE_TABLE} p JOIN bp_member m ON m.id = p.id GROUP BY p.exact_key""",
        "CREATE TEMPORARY TABLE bp_centre (exact_key bigint PRIMARY KEY, centre bigint) ON COMMIT DROP",
    )
    logger.info("shared keys: %.1f s", time.perf_counter() - started)
    _assign_centres()
    _execute(
        f"""CREATE TEMPORARY TABLE bp_in ON COMMIT DROP AS
            SELECT c.centre, p.id, p.article_id, a.source_id, p.start, p."end", p.paragraph, p.exact_key
              FROM bp_centre c JOIN {_PASSAGE_TABLE} p USING (exact_key)
              JOIN articles_article a ON a.id = p.article_id""",
        "ANALYZE bp_in",
    )
    logger.info("grouped: %.1f s", time.perf_counter() - started)

    # 3. Clusters that qualify; one copy per article; overlaps resolved.
    _choose_copies()

    # 4. Families: found again (same id and status) or new; active ones no longer found go.
    copies, dismissed = _save_families()

    # 5. Passages remember their cluster, so a later copy of an unfamilied repeat can make it a family.
    _execute(
        f"""UPDATE {_PASSAGE_TABLE} p SET cluster = c.root FROM bp_in i JOIN bp_cl c USING (centre)
             WHERE p.id = i.id AND c.n > 1"""
    )
    _refresh_families()
    active = BoilerplateFamily.objects.filter(status=FamilyStatus.ACTIVE).count()
    return RebuildResult(
        articles=total,
        passages=passages,
        families=active,
        dismissed=dismissed,
        copies=copies,
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


def _near_roots(members: Sequence[_Member], exclude: list[int], shingles: _Shingles) -> dict[int, int]:
    """Which of ``members`` (by position) are near-duplicates of a cluster's first passage: ``{position: cluster}``.

    Found by the band keys of first passages (a partial GIN index: ``cluster = id``), confirmed on the texts.
    Only clusters count: a passage near another that repeats nowhere is no family yet, as in a rebuild.
    """
    with connection.cursor() as cursor:
        # A join on the keys, not ``p.keys && %(keys)s``: with the keys of a whole slice (150,000 for 2,000
        # articles) PostgreSQL chose a sequential scan testing the overlap row by row, each test comparing every
        # key with every key (104 s for one slice of the 10k bench, with no cluster at all).
        cursor.execute(
            f"""WITH wanted AS MATERIALIZED (SELECT DISTINCT k FROM unnest(%(keys)s::bigint[]) AS w(k)),
                roots AS (
                  SELECT DISTINCT p.id FROM {_PASSAGE_TABLE} p CROSS JOIN LATERAL unnest(p.keys) AS b(k)
                    JOIN wanted USING (k)
                   WHERE p.cluster = p.id AND NOT p.article_id = ANY(%(ex)s)
                )
                SELECT p.id, p.keys, substr(a.body, p.start + 1, p."end" - p.start)
                  FROM roots JOIN {_PASSAGE_TABLE} p USING (id) JOIN articles_article a ON a.id = p.article_id
                 ORDER BY p.id""",
            {"keys": sorted({k for m in members for k in m.keys}), "ex": exclude},
        )
        rows = cursor.fetchall()
    if not rows:
        return {}
    by_band: dict[int, list[int]] = defaultdict(list)
    texts: dict[int, str] = {}
    for root, keys, text in rows:
        texts[root] = text
        for k in keys:
            by_band[k].append(root)
    bigrams: dict[int, frozenset[int]] = {}
    found: dict[int, int] = {}
    for position, m in enumerate(members):
        candidates = list(dict.fromkeys(root for k in m.keys for root in by_band.get(k, ())))
        mine = shingles.of(m)
        for root in candidates[:MAX_CENTRES]:
            if root not in bigrams:
                bigrams[root] = tx.bigram_set(texts[root])
            if tx.near_duplicates(mine, bigrams[root]):
                found[position] = root
                break
    return found


def _gather_near_duplicates(root: int, first: _Member, shingles: _Shingles) -> None:
    """Passages in no cluster that are copies or near-duplicates of ``first`` (a cluster's first passage) join it.

    Runs only when a repeat becomes a cluster, which is rare once a corpus has been rebuilt: the band keys of
    passages outside clusters are not indexed (see ``BoilerplatePassage.keys``), so this reads the passage table.
    """
    mine = shingles.of(first)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT p.id, substr(a.body, p.start + 1, p."end" - p.start)
                  FROM {_PASSAGE_TABLE} p JOIN articles_article a ON a.id = p.article_id
                 WHERE p.cluster IS NULL AND p.keys && %(keys)s::bigint[]""",
            {"keys": first.keys},
        )
        near = [pk for pk, text in cursor.fetchall() if tx.near_duplicates(tx.bigram_set(text), mine)]
        if near:
            cursor.execute(f"UPDATE {_PASSAGE_TABLE} SET cluster = %s WHERE id = ANY(%s)", [root, near])


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


def _copy_passages(members: list[_Member], cluster_of: dict[int, int]) -> None:
    """Store the checked articles' passages with ``COPY``, ids taken from the sequence first (``m.id``), in the
    rebuild's COPY text: the ORM's bulk_create spent ~6 s of a 2,000-article slice adapting 28,000 key arrays."""
    if not members:
        return
    with connection.cursor() as cursor:
        ids = sequence_ids(cursor, _PASSAGE_TABLE, len(members))
        lines = []
        for i, (m, pk) in enumerate(zip(members, ids, strict=True)):
            m.id = pk
            cluster = cluster_of.get(i)
            bands = ",".join(map(str, m.keys))
            lines.append(
                f"{pk}\t{m.article}\t{m.start}\t{m.end}\t{m.paragraph}\t{m.exact}\t{{{bands}}}\t"
                f"{'\\N' if cluster is None else cluster}\n"
            )
        with cursor.cursor.copy(
            f'COPY {_PASSAGE_TABLE} (id, article_id, start, "end", paragraph, exact_key, keys, cluster) FROM STDIN'
        ) as copy:
            copy.write("".join(lines))


@transaction.atomic
def boilerplate_check_articles(*, article_ids: Sequence[int]) -> CheckResult:
    """Find copies of known families in these articles (new or changed) by indexed key lookups.

    Idempotent: the articles' earlier passages and copies are replaced. Records the articles' passages, so a
    repeat seen in enough articles becomes a new family here without a rebuild. Call after the import commits.
    """
    _lock()
    ids = sorted(set(article_ids))
    with connection.cursor() as cursor:
        # The passage table grows by every checked slice (and a bulk import checks several right away): without
        # fresh statistics the planner takes it for the empty table it was at the last (auto)analyze.
        cursor.execute(f"ANALYZE {_PASSAGE_TABLE}")
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
        # Joined on the keys (see _near_roots): an overlap or ``= ANY`` test against every key of the slice
        # compares each family key with each of those.
        cursor.execute(
            f"""WITH wanted AS MATERIALIZED (SELECT DISTINCT k FROM unnest(%(keys)s::bigint[]) AS w(k)),
                shared AS (
                  SELECT f.id, array_agg(b.k ORDER BY b.n) AS keys
                    FROM {_FAMILY_TABLE} f CROSS JOIN LATERAL unnest(f.keys) WITH ORDINALITY AS b(k, n)
                    JOIN wanted USING (k)
                   GROUP BY f.id
                )
                SELECT f.id, f.cluster, f.text, f.article_count, shared.keys
                  FROM shared JOIN {_FAMILY_TABLE} f USING (id) ORDER BY f.id""",
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

    # 2. Passages no family explains: do they repeat an earlier passage word for word (by the exact-key index),
    # or are they near-duplicates of a cluster's first passage (by the band keys of those, indexed)?
    cluster_of: dict[int, int] = {i: f.cluster for i, f in family_of.items() if f.cluster is not None}
    joined: set[int] = set()  # indexes in members that joined a cluster here
    if unexplained:
        candidates = _passage_candidates([all_signed[i] for i in unexplained], ids)
        by_exact = {c.exact: c for c in candidates.values()}
        roots: dict[int, int] = {}
        with connection.cursor() as cursor:
            for i in unexplained:
                match = by_exact.get(members[i].exact)
                if match is None:
                    continue
                if match.id not in roots:
                    cursor.execute(
                        f"""WITH old AS (SELECT cluster FROM {_PASSAGE_TABLE} WHERE id = %(id)s)
                            UPDATE {_PASSAGE_TABLE} p SET cluster = coalesce(p.cluster, p.id) FROM old
                             WHERE p.id = %(id)s RETURNING p.cluster, old.cluster IS NULL""",
                        {"id": match.id},
                    )
                    roots[match.id], new_root = cursor.fetchone()
                    if new_root:
                        # A repeat just became a cluster: its earlier near-duplicates join it, as a rebuild
                        # would put them there.
                        _gather_near_duplicates(roots[match.id], match, shingles)
                cluster_of[i] = roots[match.id]
                joined.add(i)
        rest = [i for i in unexplained if i not in joined]
        if rest:
            for i, root in _near_roots([members[i] for i in rest], ids, shingles).items():
                cluster_of[rest[i]] = root
                joined.add(rest[i])
    _copy_passages(members, cluster_of)

    # 3. A repeat seen in enough articles now becomes a family.
    new_families: list[int] = []
    families_by_cluster = {
        f.cluster: _KnownFamily(f.pk, f.cluster, f.text, f.article_count, f.keys)
        for f in BoilerplateFamily.objects.filter(cluster__in={cluster_of[i] for i in joined}).only(
            "id", "cluster", "text", "article_count", "keys"
        )
    }
    # The longest first, as the rebuild resolves overlaps: three copies of a whole footer are one family, not
    # one per sentence (each sentence repeats too).
    longest: dict[int, int] = defaultdict(int)
    for i in joined:
        longest[cluster_of[i]] = max(longest[cluster_of[i]], members[i].end - members[i].start)
    for cluster in sorted(set(longest) - set(families_by_cluster), key=lambda c: (-longest[c], c)):
        discovered = _discover(cluster, shingles, checking=set(ids), explained=explained)
        if discovered is not None:
            families_by_cluster[cluster] = _KnownFamily(
                discovered.pk, discovered.cluster, discovered.text, discovered.article_count, discovered.keys
            )
            new_families.append(discovered.pk)
            for i in joined:  # its places in the checked articles are taken too
                if cluster_of[i] == cluster:
                    explained[members[i].article].append((members[i].start, members[i].end))
    for i in joined:
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
