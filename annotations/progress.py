"""How far an article has got: the one service that moves its status, given who asks, and says why it refuses.

Editors mark an article done and reopen it; reviewers mark it reviewed or send it back to work. A span created
on a new article moves it to in progress (``article_start_annotating``, inside the span's transaction).
Status is one value per article today; per-editor progress replaces it by changing this module only.
"""

from __future__ import annotations

import enum

from django.core.exceptions import PermissionDenied
from django.db import transaction

from annotations.models import Span
from annotations.permissions import Actor, require
from articles.models import Article
from articles.services import article_set_status

REVIEW = "articles.review_article"
ANNOTATE = "annotations.add_span"


class Transition(enum.StrEnum):
    DONE = "done"  # an editor has finished
    REOPEN = "reopen"  # an editor goes back to work on it
    REVIEWED = "reviewed"  # a reviewer has settled it
    SEND_BACK = "send_back"  # a reviewer returns it: in progress if it has spans, new otherwise


def _target(article: Article, transition: Transition) -> str:
    if transition == Transition.DONE:
        return Article.Status.DONE
    if transition == Transition.REOPEN:
        return Article.Status.IN_PROGRESS
    if transition == Transition.REVIEWED:
        return Article.Status.REVIEWED
    spanned = Span.objects.filter(article=article).exists()
    return Article.Status.IN_PROGRESS if spanned else Article.Status.NEW


def _check(article: Article, actor: Actor, transition: Transition) -> None:
    if transition in (Transition.REVIEWED, Transition.SEND_BACK):
        require(actor, REVIEW)
        return
    require(actor, ANNOTATE, reason="Only editors mark articles done or reopen them.")
    if article.status == Article.Status.REVIEWED and not actor.has_perm(REVIEW):
        raise PermissionDenied("This article has been reviewed; only a reviewer can reopen it.")


@transaction.atomic
def article_status_change(*, article: Article, actor: Actor, transition: Transition) -> Article:
    """Apply ``transition`` to ``article`` for ``actor``; ``PermissionDenied`` says why it is not theirs to make."""
    _check(article, actor, transition)
    return article_set_status(article=article, status=_target(article, transition))


def article_start_annotating(*, article: Article) -> bool:
    """Move a ``new`` article to ``in_progress`` (call after its first span); other statuses are left alone."""
    if article.status != Article.Status.NEW:
        return False
    changed = Article.objects.filter(pk=article.pk, status=Article.Status.NEW).update(status=Article.Status.IN_PROGRESS)
    if changed:
        article.status = Article.Status.IN_PROGRESS
    return bool(changed)
