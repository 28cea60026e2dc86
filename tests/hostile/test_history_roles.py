"""What the app's database role can do to the history: nothing but add to it.

The suite runs as a superuser (CI's ``postgres``), which bypasses every privilege, so this test makes a role
of its own, grants it exactly what ``manage.py migrate`` grants the app's role (``newsnotes/roles.py``), and
connects as it. DELETE, UPDATE, TRUNCATE, the ``pgtrigger.ignore`` trick, disabling triggers and dropping the
table are all refused; the app's ordinary writes, and the history rows their triggers insert, still work.
"""

import secrets

import psycopg
import pytest
from django.db import connection
from psycopg import errors, sql

from annotations.models import ArticleEvent, SpanEvent
from newsnotes.roles import app_role_grant, event_tables
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EVENTS = [
    "annotations_articleevent",
    "annotations_assignmentevent",
    # The gold layer's history (annotations/review/models.py): every gold decision is kept.
    "annotations_goldsourceevent",
    "annotations_goldspanevent",
    "annotations_reviewdecisionevent",
    "annotations_spanevent",
]


@pytest.fixture
def app_connection():
    role, password = f"nn_app_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        app_role_grant(cursor=cursor, app_role=role, password=password)
    params = connection.get_connection_params()
    conn = psycopg.connect(
        host=params.get("host"), port=params.get("port"), dbname=params["dbname"], user=role, password=password,
        autocommit=True,
    )  # fmt: skip
    yield conn
    conn.close()
    with connection.cursor() as cursor:
        for statement in ("DROP OWNED BY {}", "DROP ROLE {}"):
            cursor.execute(sql.SQL(statement).format(sql.Identifier(role)).as_string(cursor.connection))


def ignore_all(table: str) -> str:
    """A ``pgtrigger.ignore`` value naming every trigger on ``table``: what the trick sets."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
        return "{" + ",".join(name for (name,) in cursor.fetchall()) + "}"


def test_the_owner_can_still_skip_the_triggers():
    """Why the app must not be the owner: for the owner (or a superuser) the append-only trigger is a formality."""
    ArticleFactory()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(f"SET LOCAL pgtrigger.ignore = '{ignore_all('annotations_articleevent')}'")
        cursor.execute("DELETE FROM annotations_articleevent")
        assert cursor.rowcount >= 1
        cursor.execute("ROLLBACK")
    assert ArticleEvent.objects.exists()


def test_the_event_tables_are_the_history():
    assert event_tables() == EVENTS


def test_the_app_role_writes_rows_and_their_history(app_connection, labels):
    editor = UserFactory(username="writer")
    with app_connection.cursor() as cur:
        cur.execute(
            "INSERT INTO articles_article (title, body, body_sha256, byline, language, status, imported_at, metadata)"
            " VALUES ('App write', 'Mara spoke.', encode(sha256(convert_to('Mara spoke.', 'UTF8')), 'hex'), '', 'en',"
            " 'new', now(), '{}') RETURNING id"
        )
        article_id = cur.fetchone()[0]
        cur.execute(
            'INSERT INTO annotations_span (article_id, label_id, start, "end", text, annotator_id, origin, note,'
            " attributes, created_at, updated_at) VALUES (%s, %s, 0, 4, 'Mara', %s, 'manual', '', '{}', now(), now())"
            " RETURNING id",
            [article_id, labels["person"].pk, editor.pk],
        )
        span_id = cur.fetchone()[0]
        cur.execute("UPDATE annotations_span SET note = 'checked' WHERE id = %s", [span_id])
        cur.execute("DELETE FROM annotations_span WHERE id = %s", [span_id])
        cur.execute("UPDATE articles_article SET status = 'ready_for_review' WHERE id = %s", [article_id])
    labels_seen = SpanEvent.objects.filter(pgh_obj_id=span_id).order_by("pgh_id").values_list("pgh_label", flat=True)
    assert list(labels_seen) == ["insert", "update", "delete"]
    assert ArticleEvent.objects.filter(pgh_obj_id=article_id).count() == 2


@pytest.mark.parametrize("table", EVENTS)
@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM {table}",
        "UPDATE {table} SET pgh_label = 'forged'",
        "TRUNCATE {table}",
        "BEGIN; SET LOCAL pgtrigger.ignore = '{ignore}'; DELETE FROM {table}",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "DROP TABLE {table} CASCADE",
        "CREATE TABLE forged (id int)",
    ],
    ids=["delete", "update", "truncate", "pgtrigger.ignore", "disable triggers", "drop", "create"],
)
def test_the_app_role_cannot_rewrite_the_history(app_connection, table, statement):
    ArticleFactory()  # an event to protect
    before = ArticleEvent.objects.count()
    with pytest.raises(errors.InsufficientPrivilege), app_connection.cursor() as cur:
        for part in statement.format(table=table, ignore=ignore_all(table)).split("; "):
            cur.execute(part)
    app_connection.rollback() if app_connection.info.transaction_status else None
    assert ArticleEvent.objects.count() == before
