"""The logged-in user and their permissions read in one statement per request instead of three.

Django's ``ModelBackend`` loads the session's user in one query, then reads the user's own permissions and their
groups' in two more on the first ``has_perm`` of the request (every workspace view asks).
``UserWithPermissionsBackend`` is a ``ModelBackend`` whose ``get_user`` reads the user row with their
permissions beside it, as an array, and fills the per-user cache ``has_perm`` reads (``_perm_cache``); it
authenticates exactly as ``ModelBackend`` does, so logins and the test client's ``force_login`` name it in the
session. Sessions made before it existed name ``ModelBackend``, which stays in ``AUTHENTICATION_BACKENDS`` so
they stay valid; for their users ``PermissionsInOneQuery`` fills the same cache with one UNION query.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from newsnotes.compiled import compiled

_MODEL_BACKEND = ModelBackend()

# A user's permissions: their own and their groups', each once. ``{user}``: the user's id, a parameter or a column.
_GRANTED = """
FROM auth_permission permission
JOIN django_content_type content_type ON content_type.id = permission.content_type_id
WHERE permission.id IN (
    SELECT permission_id FROM auth_user_user_permissions WHERE user_id = {user}
    UNION
    SELECT granted.permission_id
    FROM auth_group_permissions granted
    JOIN auth_user_groups member ON member.group_id = granted.group_id
    WHERE member.user_id = {user}
)
"""
_PERMISSIONS_SQL = "SELECT content_type.app_label, permission.codename" + _GRANTED.format(user="%(user)s")


class PermissionsInOneQuery:
    """No ``get_user``: Django's test client logs in through the first backend that has one (ModelBackend)."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:  # every permission: ModelBackend's own query
            return _MODEL_BACKEND.get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_PERMISSIONS_SQL, {"user": user_obj.pk})
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cursor.fetchall()}
        return user_obj._perm_cache


@functools.cache
def _granted_sql() -> str:
    """The user's permissions as an array, for the user row being read: no outside input (the statement above and
    the user model's own table and key, quoted). Built once."""
    User = get_user_model()
    table = connection.ops.quote_name(User._meta.db_table)
    pk = connection.ops.quote_name(str(User._meta.pk.column))
    return (
        "ARRAY(SELECT content_type.app_label || '.' || permission.codename"
        + _GRANTED.format(user=f"{table}.{pk}")
        + ")"
    )


class UserWithPermissionsBackend(ModelBackend):
    """``ModelBackend``, but the session's user comes with their permissions, in the same statement."""

    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        try:
            pk = User._meta.pk.to_python(user_id)  # the session holds it as a string
        except ValidationError:
            return None
        found = _user_with_permissions().rows(user=pk)
        if not found:
            return None
        *values, granted_names = found[0]
        user = User.from_db(connection.alias, _user_fields(), values)
        if not self.user_can_authenticate(user):
            return None
        # A superuser has every permission, whatever they were granted: ModelBackend finds those itself.
        if not user.is_superuser:
            vars(user)["_perm_cache"] = set(granted_names)  # the cache ModelBackend.get_all_permissions reads
        return user


@functools.cache
def _user_fields() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


# Compiled once per process and run prepared (newsnotes.compiled): building and compiling the ORM's statement was
# a tenth of a small request's CPU.
@compiled("user")
def _user_with_permissions(*, user: int) -> QuerySet:
    granted = RawSQL(_granted_sql(), ())  # noqa: S611 (built above from our own statement and quoted names)
    users = get_user_model()._default_manager.annotate(_granted=granted).filter(pk=user)
    return users.values_list(*_user_fields(), "_granted")
