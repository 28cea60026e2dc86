"""What a web process checks before it serves anything."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    """Sessions, CSRF and password resets are signed with SECRET_KEY: a server without one must not start.

    Reading an empty SECRET_KEY raises Django's own ImproperlyConfigured ("The SECRET_KEY setting must not be
    empty"); commands that sign nothing never read it, so they run without one.
    """
    if not settings.SECRET_KEY.strip():
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=...).")
