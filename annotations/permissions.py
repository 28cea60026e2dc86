"""The permission checks every service makes: one refusal sentence each, raised as ``PermissionDenied``."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

# Who asks: the project's user model (Django's own; AUTH_USER_MODEL is not swapped).
Actor = User

REVIEW_SPANS = "annotations.review_span"


def require(actor: Actor, *perms: str, reason: str = "You do not have permission to do this.") -> None:
    if not actor.has_perms(perms):
        raise PermissionDenied(reason)


def require_owner(annotator_id: int | None, actor: Actor, *, reason: str) -> None:
    """Editors change their own spans; reviewers everyone's."""
    if annotator_id != actor.pk and not actor.has_perm(REVIEW_SPANS):
        raise PermissionDenied(reason)
