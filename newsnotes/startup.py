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


def warm_up() -> None:
    """Load now what every web process would otherwise load on its first requests: the URLconf (which imports
    every view module) and the project's templates, compiled into the cached loader.

    gunicorn imports the app once and forks its workers from it (``preload_app``, newsnotes/gunicorn.conf.py),
    so what is loaded here is loaded once and shared. Left to the first request, each worker paid it anew: a
    freshly started or recycled worker answered its first queue page in ~115 ms instead of ~20 ms, and with
    every worker starting at once on two cores, bench/load.py saw the first pages take 0.7 s. Nothing here
    touches the database: no connection may be open when the workers fork.
    """
    from pathlib import Path

    from django.template import engines
    from django.template.autoreload import get_template_directories
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 -- populating the resolver imports every urls and views module
    base = Path(settings.BASE_DIR).resolve()
    # The project's own templates (those of installed packages, the admin's, are many and rarely shown).
    ours = [
        folder
        for folder in get_template_directories()
        if folder.resolve().is_relative_to(base) and "site-packages" not in folder.parts
    ]
    for engine in engines.all():
        for folder in ours:
            for path in sorted(folder.rglob("*.html")):
                engine.get_template(str(path.relative_to(folder)))
