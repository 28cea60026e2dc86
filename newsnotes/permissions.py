"""Permissions loaded in one query per request instead of two.

Django's ``ModelBackend`` reads a user's own permissions and their groups' in two queries, on the first
``has_perm`` of each request (every workspace view asks). ``PermissionsInOneQuery`` sits before it in
``AUTHENTICATION_BACKENDS`` and fills the same per-user cache (``_perm_cache``) with one UNION query; the
``ModelBackend`` after it finds the cache filled and asks nothing. It authenticates no one and loads no user, so
logins and sessions still name ``ModelBackend`` (a session's backend path must stay in the list).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import connection

_MODEL_BACKEND = ModelBackend()

_PERMISSIONS_SQL = """
SELECT content_type.app_label, permission.codename
FROM auth_permission permission
JOIN django_content_type content_type ON content_type.id = permission.content_type_id
WHERE permission.id IN (
    SELECT permission_id FROM auth_user_user_permissions WHERE user_id = %(user)s
    UNION
    SELECT granted.permission_id
    FROM auth_group_permissions granted
    JOIN auth_user_groups member ON member.group_id = granted.group_id
    WHERE member.user_id = %(user)s
)
"""


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
