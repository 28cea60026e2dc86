"""Which PostgreSQL to use: ``DATABASE_URL`` when set, otherwise the embedded server in the data dir."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit


class DatabaseUrlError(ValueError):
    pass


# pgtrigger's triggers (the history of spans and articles) read this setting on every row and, when it is unset,
# trap the error in a subtransaction: thousands of those in one transaction make each insert slower than the
# last (20,000 spans in one import: 5.6 s unset, 2.3 s set). Setting it for the session costs nothing.
SESSION_OPTIONS = "-c pgtrigger.ignore={}"


def with_session_options(options: dict) -> dict:
    given = options.get("options", "")
    return options | {"options": f"{given} {SESSION_OPTIONS}".strip()}


# The embedded server's roles: its superuser owns the tables and migrates; the app connects as APP_ROLE.
EMBEDDED_OWNER = "postgres"
EMBEDDED_APP_ROLE = "newsnotes_app"


def owner_config(*, database_url: str | None, owner_url: str | None) -> dict | None:
    """Connection settings of the owner role that runs migrations, or None when one role does everything."""
    if owner_url:
        return parse_database_url(owner_url)
    if not database_url:
        return {"USER": EMBEDDED_OWNER, "PASSWORD": "", "HOST": None, "PORT": None}
    return None


def database_config(*, database_url: str | None, data_dir: Path, pgbouncer: bool = False) -> dict:
    if not database_url:
        return {
            "ENGINE": "newsnotes.embedded",
            "NAME": "newsnotes",
            "USER": EMBEDDED_APP_ROLE,
            "PGDATA": str(data_dir / "pgdata"),
            "OPTIONS": with_session_options({}),
            "CONN_MAX_AGE": 0,
        }
    return parse_database_url(database_url, pgbouncer=pgbouncer)


def replica_config(*, replica_url: str, pgbouncer: bool = False) -> dict:
    """The ``replica`` alias (newsnotes/routers.py): a read-only copy of the database for heavy reads.

    Its tests use the default test database under the replica's own role (``MIRROR``): a role that may only read
    stands in for a hot standby, so a write routed there by mistake fails instead of passing unnoticed.
    """
    return parse_database_url(replica_url, pgbouncer=pgbouncer) | {"TEST": {"MIRROR": "default"}}


TRUE_WORDS = {"1", "true", "yes", "on"}


def parse_database_url(url: str, *, pgbouncer: bool = False) -> dict:
    """``postgres://user:password@host:port/name?sslmode=require`` → a Django DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise DatabaseUrlError(
            "DATABASE_URL must start with postgres:// or postgresql:// "
            f"(NewsNotes runs on PostgreSQL only), got {parts.scheme!r}"
        )
    options = dict(parse_qsl(parts.query))
    conn_max_age = int(options.pop("conn_max_age", 60))
    pgbouncer = options.pop("pgbouncer", "").strip().lower() in TRUE_WORDS or pgbouncer
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
        # Statements run through newsnotes.prepared.prepared_cursor are prepared: planned once per connection.
        # Django turns psycopg's prepared statements off unless asked (for poolers); its own cursors bind on the
        # client and never prepare, so only those statements are. Behind PgBouncer, none are (behind_pgbouncer).
        "OPTIONS": with_session_options({"prepare_threshold": 5} | options),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
    }
    return behind_pgbouncer(config) if pgbouncer else config


def behind_pgbouncer(config: dict) -> dict:
    """The same connection through PgBouncer in transaction pooling (docs/scaling.md: PgBouncer).

    Each transaction (each statement, in autocommit) may run on a different server connection, so nothing may
    outlive one: no prepared statements (psycopg's ``prepare_threshold=None``), no session settings sent at
    connect (PgBouncer refuses the ``options`` startup parameter; give the role ``pgtrigger.ignore`` with
    ``ALTER ROLE ... SET`` instead), and no cursor WITH HOLD: the ``newsnotes.pgbouncer`` engine reads
    ``.iterator()`` through a server-side cursor inside a transaction and client-side outside one.
    """
    options = dict(config["OPTIONS"])
    given = options.pop("options", "").replace(SESSION_OPTIONS, "").strip()
    if given:
        raise DatabaseUrlError(
            f"Behind PgBouncer a connection cannot carry session options ({given!r}): set them on the role "
            "(ALTER ROLE ... SET) instead"
        )
    return config | {
        "ENGINE": "newsnotes.pgbouncer",
        "OPTIONS": options | {"prepare_threshold": None},
    }
