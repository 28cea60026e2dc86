"""How far an article has got: the one service that moves its status, given who asks, and says why it refuses.

Progress is per editor: each editor marks *their* slot done (``Transition.DONE``) or reopens it; the article's
status follows from its slots — new (nobody has started), in annotation (some editor has a span or is done),
ready for review (as many editors as it needs, k, are done), reviewed (a reviewer accepted its gold layer:
``article_mark_reviewed``, which the review service calls). A reviewer may send a reviewed article back; its
status is then recomputed from the slots.
"""

from __future__ import annotations

import enum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations.models import Assignment, Span
from annotations.permissions import Actor, require
from annotations.workflow.selectors import editors_needed
from articles.models import Article
from articles.services import article_set_status

REVIEW = "articles.review_article"
ANNOTATE = "annotations.add_span"
REVIEWED_REFUSAL = "This article has been reviewed: its gold layer is accepted, so it takes no more work."


class Transition(enum.StrEnum):
    DONE = "done"  # an editor has finished their own layer
    REOPEN = "reopen"  # an editor goes back to work on their own layer
    REVIEWED = "reviewed"  # a reviewer has settled it
    SEND_BACK = "send_back"  # a reviewer returns it: its status follows from its editors' slots again


def progress_status(*, article: Article) -> str:
    """The status ``article``'s slots and spans call for, leaving review aside."""
    done = Assignment.objects.filter(article=article, done_at__isnull=False, released_at__isnull=True).count()
    if done >= editors_needed(article=article):
        return Article.Status.READY_FOR_REVIEW
    started = Assignment.objects.filter(
        Q(started_at__isnull=False) | Q(done_at__isnull=False), article=article, released_at__isnull=True
    )
    if done or started.exists() or Span.objects.filter(article=article).exists():
        return Article.Status.IN_ANNOTATION
    return Article.Status.NEW


@transaction.atomic
def article_progress_update(*, article: Article) -> Article:
    """Set ``article``'s status from its slots (a reviewed article stays reviewed); call after a slot changed."""
    if article.status == Article.Status.REVIEWED:
        return article
    status = progress_status(article=article)
    becomes_ready = status == Article.Status.READY_FOR_REVIEW and article.status != status
    article = article_set_status(article=article, status=status)
    if becomes_ready:
        # Unanimous (or majority) agreement is accepted into gold in this same transaction (issue 9).
        from annotations.review.services import review_auto_merge  # the review room imports this module

        review_auto_merge(article=article)
    return article


def _locked(article: Article) -> Article:
    """The article row, locked for this transaction, so concurrent transitions on it queue one behind another."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    article.status = locked.status
    return article


def _own_slot(article: Article, actor: Actor) -> Assignment:
    slot = Assignment.objects.select_for_update().filter(article=article, user=actor).first()
    if slot is None:
        raise ValidationError("You hold no slot on this article: open it from your queue to take one first.")
    if slot.released_at is not None:
        raise ValidationError(
            "A curator released your slot on this article; your spans stay but no longer count. "
            "Open it again from your queue to take a slot if one is free."
        )
    return slot


@transaction.atomic
def article_status_change(*, article: Article, actor: Actor, transition: Transition) -> Article:
    """Apply ``transition`` to ``article`` for ``actor``: DONE and REOPEN act on the actor's own slot, REVIEWED and
    SEND_BACK on the article. ``PermissionDenied`` when it is not theirs to make, ``ValidationError`` (with the
    reason) when it cannot apply to this article now."""
    if transition == Transition.REVIEWED:
        return article_mark_reviewed(article=article, actor=actor)
    if transition == Transition.SEND_BACK:
        require(actor, REVIEW, reason="You do not have permission to send articles back: only a reviewer can.")
        article = _locked(article)
        article_set_status(article=article, status=progress_status(article=article))
        return article
    require(actor, ANNOTATE, reason="Only editors mark articles done or reopen them.")
    article = _locked(article)
    if article.status == Article.Status.REVIEWED:
        if transition == Transition.REOPEN and actor.has_perm(REVIEW):  # the reviewer's "reopen" sends it back
            return article_status_change(article=article, actor=actor, transition=Transition.SEND_BACK)
        if transition == Transition.DONE:
            raise ValidationError(f"{REVIEWED_REFUSAL} Marking it done changes nothing.")
        raise PermissionDenied(f"{REVIEWED_REFUSAL} Only a reviewer can send it back to work.")
    slot = _own_slot(article, actor)
    slot.done_at = timezone.now() if transition == Transition.DONE else None
    slot.save(update_fields=["done_at"])
    return article_progress_update(article=article)


@transaction.atomic
def article_mark_reviewed(*, article: Article, actor: Actor) -> Article:
    """A reviewer accepts ``article``'s gold layer: it becomes reviewed (from any status; the review service checks
    that every conflict is settled before calling this). Editors' slots are left as they are."""
    require(actor, REVIEW, reason="You do not have permission to mark articles reviewed: only a reviewer can.")
    article = _locked(article)
    return article_set_status(article=article, status=Article.Status.REVIEWED)


def article_start_annotating(*, article: Article) -> bool:
    """Move a ``new`` article to ``in_annotation`` (call after its first span); other statuses are left alone."""
    if article.status != Article.Status.NEW:
        return False
    changed = Article.objects.filter(pk=article.pk, status=Article.Status.NEW).update(
        status=Article.Status.IN_ANNOTATION
    )
    if changed:
        article.status = Article.Status.IN_ANNOTATION
    return bool(changed)
