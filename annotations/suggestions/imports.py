"""What every import does for suggestions once it has committed: the one call site, whoever imports.

The CLI import, the admin's import confirmation and ``load_demo`` all go through ``corpus_import``, which calls
``suggestions_after_import``. The work runs in ``transaction.on_commit``: after the articles are stored (a
rolled-back or dry-run import checks nothing), and outside the import's own transaction, so its speed holds.
Moving it into a background job later means changing ``_check`` here only.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

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


def suggestions_after_import(*, article_ids: Sequence[int]) -> None:
    """Once the current transaction commits, match the new articles against known boilerplate families (a
    per-article index lookup, not a corpus rescan) and run the configured pre-annotation plug-ins over them."""
    ids = list(article_ids)
    if ids:
        transaction.on_commit(lambda: _check(ids))
