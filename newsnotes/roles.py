"""Two database roles: an owner that runs migrations, and the app's role that cannot rewrite history.

PostgreSQL lets a table's owner (and a superuser) do anything to it: disable its triggers, TRUNCATE it, drop
it. The history's append-only triggers therefore hold only against a role that owns nothing. So migrations run
as the owner role (``DATABASE_OWNER_URL``; the embedded server's ``postgres``), and afterwards
``app_role_grant`` gives the app's role (``DATABASE_URL``'s user) what the app needs and no more:

- every table: SELECT, INSERT, UPDATE, DELETE — except the history's event tables, which get SELECT and INSERT
  only (the triggers that record events run as the app's role and insert);
- sequences: USAGE, SELECT (ids);
- never TRUNCATE, TRIGGER, REFERENCES, ownership or CREATE in the schema.

With no UPDATE, DELETE or TRUNCATE privilege on the event tables, setting ``pgtrigger.ignore`` (any role may set
it) changes nothing there: PostgreSQL refuses the statement before any trigger runs.
"""

from __future__ import annotations

from django.apps import apps
from psycopg import sql


def event_tables() -> list[str]:
    """The tables of every pghistory event model (the append-only history)."""
    from pghistory.models import Event

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.proxy and model._meta.managed
    )


def app_role_grant(*, cursor, app_role: str, password: str | None = None, create: bool = True) -> None:
    """Create the app's role if missing (when ``create``) and grant it the app's privileges; see the module doc.

    Runs as the owner role, after migrate: tables created by later migrations are covered by running it again.
    """
    role = sql.Identifier(app_role)
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
    if cursor.fetchone() is None:
        if not create:
            raise RuntimeError(f"the database role {app_role!r} does not exist")
        statement = sql.SQL("CREATE ROLE {} LOGIN").format(role)
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        cursor.execute(statement.as_string(cursor.connection))
    cursor.execute("SELECT current_database()")
    database = sql.Identifier(cursor.fetchone()[0])
    events = event_tables()
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(role),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
    ]
    for table in events:
        statements.append(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), role))
    for statement in statements:
        cursor.execute(statement.as_string(cursor.connection))


def app_role_owns_tables(*, cursor, app_role: str) -> list[str]:
    """Tables in the schema owned by the app's role (left from a one-role install): it could bypass anything."""
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s ORDER BY 1", [app_role]
    )
    return [row[0] for row in cursor.fetchall()]
