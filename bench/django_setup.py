"""Django as the in-process benches run it: the settings they start it under, the per-size corpus they switch
to, and how they time a call.

Imported after ``bench/<name>.py`` has put the checkout on ``sys.path``; Django itself is imported only inside
these functions, once the environment they set is in place.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

from bench.corpus import Corpus


def production_settings(database_url: str) -> None:
    """Production-shaped settings (DEBUG off, no query logging) minus HTTPS, which the in-process client lacks.
    Set before ``django.setup()``."""
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-only-" + "x" * 50,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        NEWSNOTES_PLAIN_STATIC="1",
        LOG_LEVEL="ERROR",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")


def development_setup(database_url: str) -> None:
    """Start Django on ``database_url`` with the development settings (DEBUG unless the caller's environment says
    otherwise)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")
    import django

    django.setup()


def use_corpus(corpus: Corpus, *, assigned: int = 20) -> tuple[Any, list[int]]:
    """Switch the connection to ``corpus``'s database and give its bench user ``assigned`` articles spread over
    it (kept when they are there already): that user, and every article id in order."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotations.models import Assignment
    from articles.models import Article

    connection.close()
    connection.settings_dict["NAME"] = corpus.database
    user = get_user_model().objects.get(username=corpus.username)
    ids = list(Article.objects.order_by("id").values_list("id", flat=True))
    for pk in ids[:: max(1, len(ids) // assigned)][:assigned]:
        Assignment.objects.get_or_create(article_id=pk, user=user)
    return user, ids


def median_p95(call: Callable[..., object], args: Iterable[Any]) -> tuple[float, float]:
    """``call(arg)`` for each arg: the median and the 95th percentile of its wall time, in ms."""
    times = []
    for arg in args:
        started = time.perf_counter()
        call(arg)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]
