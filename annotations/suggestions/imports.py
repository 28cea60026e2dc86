"""What every import does for suggestions once it has committed: the one call site, whoever imports.

The CLI import, the admin's import confirmation and ``load_demo`` all go through ``corpus_import``, which calls
``suggestions_after_import``. The work is a background job (``import_checks``, run by ``manage.py db_worker``),
queued inside the import's transaction: it exists exactly when the articles do (a rolled-back or dry-run import
queues nothing), and the import neither waits for it nor holds its memory (a 2,000-article check peaked at
200 MB more than the import itself, which it kept for as long as the command ran).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.tasks import task

from annotations.suggestions.boilerplate import boilerplate_check_articles
from annotations.suggestions.suggesters import suggesters_run

# Articles checked at once: the check reads their texts into memory, so a large import is checked in slices
# (each records its passages, so a repeat spread over several slices still becomes a family).
CHECK_SLICE = 2000


def _check(article_ids: list[int]) -> None:
    for start in range(0, len(article_ids), CHECK_SLICE):
        ids = article_ids[start : start + CHECK_SLICE]
        boilerplate_check_articles(article_ids=ids)
        suggesters_run(article_ids=ids)


@task()
def import_checks(article_ids: list[int]) -> None:
    """Match imported articles against known boilerplate families and run the pre-annotation plug-ins."""
    _check(article_ids)


def suggestions_after_import(*, article_ids: Sequence[int]) -> None:
    """Queue, in the current transaction, the job that matches the new articles against known boilerplate
    families (a per-article index lookup, not a corpus rescan) and runs the configured pre-annotation plug-ins."""
    ids = list(article_ids)
    if ids:
        import_checks.enqueue(ids)
