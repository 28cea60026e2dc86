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
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.models.expressions import RawSQL

from newsnotes.prepared import prepared_cursor

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
        sql, names = _user_statement()
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        with prepared_cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        user = User.from_db(connection.alias, names, row[:-1])
        if not self.user_can_authenticate(user):
            return None
        # A superuser has every permission, whatever they were granted: ModelBackend finds those itself.
        if not user.is_superuser:
            vars(user)["_perm_cache"] = set(row[-1])  # the cache ModelBackend.get_all_permissions reads
        return user


_STAND_IN = 2_000_000_001  # the user id while the statement is compiled: no constant of it


@functools.cache
def _user_statement() -> tuple[str, list[str]]:
    """The ORM's statement for the user row with their permissions (an array, last), compiled once per process
    and run prepared (newsnotes.prepared): building and compiling it was a tenth of a small request's CPU. The
    field names are those ``Model.from_db`` takes, in the statement's order."""
    User = get_user_model()
    query = User._default_manager.annotate(_granted=RawSQL(_granted_sql(), ())).filter(pk=_STAND_IN)  # noqa: S611
    compiler = query.query.get_compiler(connection.alias)
    sql, params = compiler.as_sql()
    if list(params) != [_STAND_IN]:
        raise ImproperlyConfigured(f"the user statement's parameters are {params!r}, not the user id alone")
    names = [column.target.attname for column, _, alias in compiler.select if alias is None]
    return sql, names
