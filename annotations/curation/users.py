"""Curators manage the desk's accounts: editors, reviewers and researchers, never superusers or other curators."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from annotations.permissions import Actor

# The roles a curator may hand out and whose holders a curator may manage.
MANAGED_ROLES = ("Editors", "Reviewers", "Researchers")
CURATORS = "Curators"


def user_is_manageable(*, actor: Actor, target: User) -> bool:
    """Superusers manage everyone; a curator manages accounts that are neither superusers nor staff of the console."""
    if actor.is_superuser:
        return True
    if not actor.groups.filter(name=CURATORS).exists():
        return False
    if target.pk == actor.pk or target.is_superuser or target.is_staff:
        return False
    return not target.groups.exclude(name__in=MANAGED_ROLES).exists()


def _require_manageable(*, actor: Actor, target: User) -> None:
    if not user_is_manageable(actor=actor, target=target):
        raise PermissionDenied(
            "Curators manage editors, reviewers and researchers only, never superusers or other curators."
        )


def _require_roles(*, actor: Actor, roles: Iterable[Group]) -> None:
    if actor.is_superuser:
        return
    names = sorted({role.name for role in roles} - set(MANAGED_ROLES))
    if names:
        raise PermissionDenied(f"Curators cannot give the role {', '.join(names)}.")


@transaction.atomic
def user_create(*, actor: Actor, username: str, password: str, roles: Iterable[Group], email: str = "") -> User:
    if not actor.is_superuser and not actor.groups.filter(name=CURATORS).exists():
        raise PermissionDenied("Only curators add accounts.")
    roles = list(roles)
    _require_roles(actor=actor, roles=roles)
    user = User.objects.create_user(username=username, password=password, email=email)
    user.groups.set(roles)
    return user


@transaction.atomic
def user_update(*, actor: Actor, target: User, roles: Iterable[Group], is_active: bool) -> User:
    """Change a managed account's roles and whether it may log in (deactivating keeps its spans and history)."""
    locked = User.objects.select_for_update().get(pk=target.pk)
    _require_manageable(actor=actor, target=locked)
    roles = list(roles)
    _require_roles(actor=actor, roles=roles)
    locked.is_active = is_active
    locked.save(update_fields=["is_active"])
    locked.groups.set(roles)
    return locked


@transaction.atomic
def user_deactivate(*, actor: Actor, target: User) -> User:
    locked = User.objects.select_for_update().get(pk=target.pk)
    _require_manageable(actor=actor, target=locked)
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    return locked


@transaction.atomic
def user_set_password(*, actor: Actor, target: User, password: str) -> User:
    locked = User.objects.select_for_update().get(pk=target.pk)
    _require_manageable(actor=actor, target=locked)
    locked.set_password(password)
    locked.save(update_fields=["password"])
    return locked
