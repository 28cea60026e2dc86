"""What the workflow reads: the settings, how many editors an article needs, whose slots count, who has finished."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from annotations.models import Assignment
from annotations.workflow.models import SETTINGS_PK, WorkflowSettings
from articles.models import Article


def workflow_settings() -> WorkflowSettings:
    """The one settings row (created with its defaults the first time it is read)."""
    settings, _ = WorkflowSettings.objects.get_or_create(pk=SETTINGS_PK)
    return settings


def editors_needed(*, article: Article, settings: WorkflowSettings | None = None) -> int:
    """k for ``article``: its own override (set at import), else its source's, else the site-wide setting."""
    if article.editors_per_article is not None:
        return article.editors_per_article
    if article.source_id is not None:
        source_k = type(article).objects.filter(pk=article.pk).values_list("source__editors_per_article", flat=True)
        k = source_k.first()
        if k is not None:
            return k
    return (settings or workflow_settings()).editors_per_article


def holding(*, now: dt.datetime | None = None) -> Q:
    """The slots that count toward k: not released, and explicit, started, done or still leased."""
    now = now or timezone.now()
    return Q(released_at__isnull=True) & (
        Q(explicit=True) | Q(started_at__isnull=False) | Q(done_at__isnull=False) | Q(leased_until__gt=now)
    )


def slots_held(*, article: Article, now: dt.datetime | None = None) -> QuerySet[Assignment]:
    return Assignment.objects.filter(holding(now=now), article=article)


def slot_of(*, article: Article, user) -> Assignment | None:
    return Assignment.objects.filter(article=article, user=user).first()


def finished_editor_ids(*, article: Article) -> list[int]:
    """The editors whose layer of ``article`` is finished: their slot is done and not released (ids, ascending)."""
    return list(
        Assignment.objects.filter(article=article, done_at__isnull=False, released_at__isnull=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def finished_slots() -> QuerySet[Assignment]:
    """Every finished editor layer (done, not released), for queries over many articles."""
    return Assignment.objects.filter(done_at__isnull=False, released_at__isnull=True)
