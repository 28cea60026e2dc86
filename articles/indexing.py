"""The stored full-text vector of bulk imports, filled after they commit (issue 13.1).

``articles_article.search_document`` is kept by a trigger (migration articles 0007) that computes it on every
insert and on every update of the title or body, so an article saved anywhere is searchable at once. A bulk
import calls ``search_deferred()`` inside its transaction: the trigger then stores NULL, and the import's commit
comes without the vectors' cost (most of a ``COPY`` of articles). ``search_fill`` is queued in the same
transaction: it exists exactly when the articles do, and the database worker fills every NULL vector in batches
right after the commit, committing per batch. Until then the article is in the queue and its page works; search
does not find it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from django.tasks import task

logger = logging.getLogger(__name__)

# Articles whose vectors one transaction of the job computes (~1-3 ms each for a news article): short enough
# that an editor's write to one of them never waits long for the row lock, long enough to cost few commits.
FILL_BATCH = 500

# The trigger computes the vector when the statement names the column and gives it no value: the job never
# spells the expression out, so it cannot store anything but the trigger's vector.
FILL_SQL = """
UPDATE articles_article SET search_document = NULL
WHERE id IN (
    SELECT id FROM articles_article WHERE search_document IS NULL AND id > %s ORDER BY id LIMIT %s FOR UPDATE
)
RETURNING id
"""


# The next ``limit`` articles after ``id`` still waiting for their vector.
_PENDING = "SELECT id FROM articles_article WHERE search_document IS NULL AND id > %s ORDER BY id LIMIT %s"


@contextmanager
def search_deferred() -> Iterator[None]:
    """Articles inserted inside this block get no vector (NULL) until ``search_fill`` runs; queue it in the same
    transaction (``search_fill.enqueue()``). Needs a transaction: the setting is ``SET LOCAL``, switched off again
    when the block ends (an outer transaction's later writes compute their vectors; a failure inside the block
    rolls the setting back with the rest)."""
    if connection.get_autocommit():
        raise transaction.TransactionManagementError("search_deferred() needs a transaction (SET LOCAL)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('newsnotes.defer_search', 'on', true)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('newsnotes.defer_search', 'off', true)")


def search_fill_pending(*, batch: int = FILL_BATCH) -> int:
    """Compute every missing vector, ``batch`` articles per transaction, oldest id first; how many were filled.

    A batch that fails (a text whose vector would pass PostgreSQL's 1 MB limit, which every import refuses
    before storing it) is retried one article at a time and the article that cannot be indexed is left
    unsearchable and logged, so one bad row never stops the rest."""
    filled = 0
    after = 0
    while True:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(FILL_SQL, [after, batch])
                ids = [row[0] for row in cursor.fetchall()]
        except DatabaseError:
            ids = []
            after, done = _fill_one_by_one(after, batch)
            filled += done
            continue
        if not ids:
            # Nothing updated: done, unless another worker filled this batch while we waited for its row locks
            # (PostgreSQL then skips the rows it filled) and more are pending beyond it.
            with connection.cursor() as cursor:
                cursor.execute(_PENDING, [after, 1])
                following = cursor.fetchone()
            if following is None:
                return filled
            after = following[0] - 1
            continue
        filled += len(ids)
        after = max(ids)


def _fill_one_by_one(after: int, batch: int) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(_PENDING, [after, batch])
        ids = [row[0] for row in cursor.fetchall()]
    done = 0
    for pk in ids:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("UPDATE articles_article SET search_document = NULL WHERE id = %s", [pk])
                done += cursor.rowcount
        except DatabaseError as err:
            logger.warning("article %s cannot be indexed for search: %s", pk, err)
    return (ids[-1] if ids else after), done


def search_pending_count() -> int:
    """Articles still waiting for their vector (answered by the partial index ``article_search_pending``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM articles_article WHERE search_document IS NULL")
        return cursor.fetchone()[0]


@task(priority=10)
def search_fill() -> None:
    """Fill the vectors a bulk import left NULL (before the import's other checks: a higher priority)."""
    search_fill_pending()
