"""The span CSV, researchers' main file: one row per span, streamed by PostgreSQL's ``COPY ... TO STDOUT``.

Columns (fixed order): span_id, layer, article_id, article_url, source, title, published_at, label, start, end,
text, annotator, origin, created_at, updated_at, note, attributes.

``layer`` is ``editor`` for an editor's span and ``gold`` for a span of the reviewers' gold layer (its own table:
``span_id`` is then a gold span id, ``annotator`` the reviewer who accepted it, ``origin`` the decision —
accepted, adjusted, added or auto — and both times the moment it was accepted). Pending suggestions are written
only when a researcher asks for them: ``layer`` ``suggestion``, ``span_id`` ``suggestion-<id>``, no annotator,
``origin`` ``pending-suggestion`` (accepted ones are editors' spans with origin ``suggestion``). Rows are ordered
by article, start, longest first, suggestions, gold, then editors, id.

PostgreSQL writes every byte: quoting (RFC 4180: a cell with a comma, quote, CR or LF is quoted, quotes doubled),
ISO-8601 UTC times, the canonical JSON of ``attributes`` and, unless turned off, formula neutralising. Python
only relays ~64 KiB chunks, so the export runs at close to the server's own speed in constant memory
(``bench/export.py`` measures it against a bare ``COPY`` and against the server-side-cursor path below).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import psycopg
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet

from annotations.exports.common import CHUNK_BYTES, FORMULA_TRIGGERS, csv_line
from annotations.models import Label, Span
from annotations.review.models import GoldSpan
from articles.models import Article, Source
from newsnotes.routers import REPLICA

COLUMNS = (
    "span_id",
    "layer",
    "article_id",
    "article_url",
    "source",
    "title",
    "published_at",
    "label",
    "start",
    "end",
    "text",
    "annotator",
    "origin",
    "created_at",
    "updated_at",
    "note",
    "attributes",
)
HEADER = ",".join(COLUMNS) + "\n"
BOM = "\ufeff".encode()

# The canonical JSON of Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False):
# jsonb's own text form sorts keys by length and puts spaces after separators. A session-local function
# (pg_temp) needs no migration; it is (re)created on the connection before each export. Sorting keys
# COLLATE "C" compares UTF-8 bytes, which orders them by code point, as Python does.
CANONICAL_JSON_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.newsnotes_canonical_json(value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$
BEGIN
  CASE jsonb_typeof(value)
  WHEN 'object' THEN
    RETURN '{' || coalesce((
      SELECT string_agg(to_json(key)::text || ':' || pg_temp.newsnotes_canonical_json(item), ','
                        ORDER BY key COLLATE "C")
      FROM jsonb_each(value) AS pairs(key, item)), '') || '}';
  WHEN 'array' THEN
    RETURN '[' || coalesce((
      SELECT string_agg(pg_temp.newsnotes_canonical_json(item), ',' ORDER BY position)
      FROM jsonb_array_elements(value) WITH ORDINALITY AS items(item, position)), '') || ']';
  ELSE
    RETURN value::text;
  END CASE;
END
$fn$;
"""

_TRIGGERS_SQL = ", ".join(
    "'" + c + "'" if c.isprintable() else "E'\\" + {"\t": "t", "\r": "r"}[c] + "'" for c in FORMULA_TRIGGERS
)


def _text(expression: str, *, neutralise: bool) -> str:
    # Empty text becomes NULL so that COPY writes an empty unquoted cell, as Python's csv module does for "".
    if not neutralise:
        return f"NULLIF({expression}, '')"
    return (
        f"CASE WHEN left(ltrim({expression}, ''''), 1) IN ({_TRIGGERS_SQL}) THEN '''' || {expression} "
        f"ELSE NULLIF({expression}, '') END"
    )


def _time(expression: str) -> str:
    return f"""to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _subquery(queryset: QuerySet) -> tuple[str, list]:
    try:
        subquery, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # .none(), or a filter on an empty list
        return "SELECT NULL::bigint WHERE false", []
    return subquery, list(params)


def select_sql(
    spans: QuerySet[Span] | None = None,
    *,
    neutralise: bool = True,
    gold: QuerySet[GoldSpan] | None = None,
    suggestions: QuerySet | None = None,
) -> tuple[str, list]:
    """The SELECT behind the CSV (without COPY), for ``spans`` (default: every span) and, when given, the gold
    spans ``gold`` and the pending ``suggestions`` (asked for explicitly), in export order."""
    User = get_user_model()
    username = User._meta.get_field(User.USERNAME_FIELD).column

    def t(expression: str) -> str:
        return _text(expression, neutralise=neutralise)

    where, params = "", list[object]()
    if spans is not None and (spans.query.where or spans.query.is_empty()):
        subquery, params = _subquery(spans)
        where = f"WHERE s.id IN ({subquery})"
    # Only table and column names are interpolated here; values travel as parameters.
    sql = f"""
SELECT s.id, 'editor', s.article_id, {t("a.url")}, {t("src.domain")}, {t("a.title")}, {_time("a.published_at")},
       {t("l.name")}, s.start, s."end", {t("s.text")}, {t(f'u."{username}"')}, {t("s.origin")},
       {_time("s.created_at")}, {_time("s.updated_at")}, {t("s.note")},
       CASE WHEN s.attributes = '{{}}'::jsonb THEN '{{}}' ELSE pg_temp.newsnotes_canonical_json(
         -- A claim whose speaker span was deleted keeps the speaker's name, never a dangling id.
         CASE WHEN s.attributes ? 'speaker_span' AND NOT EXISTS (
                SELECT 1 FROM {Span._meta.db_table} d WHERE d.id::text = s.attributes->>'speaker_span')
              THEN s.attributes - 'speaker_span' ELSE s.attributes END) END
FROM {Span._meta.db_table} s
JOIN {Article._meta.db_table} a ON a.id = s.article_id
LEFT JOIN {Source._meta.db_table} src ON src.id = a.source_id
JOIN {Label._meta.db_table} l ON l.id = s.label_id
JOIN {User._meta.db_table} u ON u.id = s.annotator_id
{where}
ORDER BY s.article_id, s.start, s."end" DESC, s.id"""  # noqa: S608
    if gold is None and suggestions is None:
        return sql, params
    if suggestions is not None:
        return _with_suggestions(sql, params, gold, suggestions, t, str(username))
    assert gold is not None
    gold_sql, gold_params = _gold_sql(gold, t, str(username), id_column="g.id")
    editors = sql.rsplit("\nORDER BY", 1)[0]
    # Columns by position: article_id 3, start 9, end 10, layer 2 (descending: "gold" before "editor"), id 1.
    combined = f"({editors})\nUNION ALL\n({gold_sql})\nORDER BY 3, 9, 10 DESC, 2 DESC, 1"
    return combined, [*params, *gold_params]


def _gold_sql(gold: QuerySet[GoldSpan], t: Callable[[str], str], username: str, *, id_column: str) -> tuple[str, list]:
    """The gold rows in the CSV's columns; ``id_column`` is ``g.id``, or ``g.id::text`` beside suggestions."""
    User = get_user_model()
    subquery, params = _subquery(gold)
    sql = f"""
SELECT {id_column}, 'gold', g.article_id, {t("a.url")}, {t("src.domain")}, {t("a.title")}, {_time("a.published_at")},
       {t("l.name")}, g.start, g."end", {t("g.text")}, {t(f'u."{username}"')}, {t("g.decision")},
       {_time("g.accepted_at")}, {_time("g.accepted_at")}, {t("g.note")},
       CASE WHEN g.attributes = '{{}}'::jsonb THEN '{{}}' ELSE pg_temp.newsnotes_canonical_json(g.attributes) END
FROM {GoldSpan._meta.db_table} g
JOIN {Article._meta.db_table} a ON a.id = g.article_id
LEFT JOIN {Source._meta.db_table} src ON src.id = a.source_id
JOIN {Label._meta.db_table} l ON l.id = g.label_id
JOIN {User._meta.db_table} u ON u.id = g.accepted_by_id
WHERE g.id IN ({subquery})"""  # noqa: S608
    return sql, params


def _with_suggestions(
    sql: str,
    params: list,
    gold: QuerySet[GoldSpan] | None,
    suggestions: QuerySet,
    t: Callable[[str], str],
    username: str,
) -> tuple[str, list]:
    """Editors' (and gold) rows plus pending suggestions; ids become text (``suggestion-<id>``), ordered as numbers."""
    from annotations.suggestions.models import Suggestion

    editors = sql.replace("SELECT s.id,", "SELECT s.id::text,", 1).rsplit("\nORDER BY", 1)[0]
    parts, all_params = [f"({editors})"], list(params)
    if gold is not None:
        gold_sql, gold_params = _gold_sql(gold, t, username, id_column="g.id::text")
        parts.append(f"({gold_sql})")
        all_params += gold_params
    subquery, sub_params = _subquery(suggestions)
    # Only table and column names are interpolated here; values travel as parameters.
    parts.append(f"""(
SELECT 'suggestion-' || g.id, 'suggestion', g.article_id, {t("a.url")}, {t("src.domain")}, {t("a.title")},
       {_time("a.published_at")}, {t("l.name")}, g.start, g."end", {t("g.text")}, NULL, 'pending-suggestion',
       {_time("g.created_at")}, {_time("g.created_at")}, NULL, '{{}}'
FROM {Suggestion._meta.db_table} g
JOIN {Article._meta.db_table} a ON a.id = g.article_id
LEFT JOIN {Source._meta.db_table} src ON src.id = a.source_id
JOIN {Label._meta.db_table} l ON l.id = g.label_id
WHERE g.id IN ({subquery}))""")  # noqa: S608
    all_params += sub_params
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    union = "\nUNION ALL\n".join(parts)
    order = 'ORDER BY "article_id", "start", "end" DESC, "layer" DESC, length("span_id"), "span_id"'
    combined = f"SELECT * FROM ({union}) AS rows({columns})\n{order}"  # noqa: S608
    return combined, all_params


def copy_sql(
    spans: QuerySet[Span] | None = None,
    *,
    neutralise: bool = True,
    gold: QuerySet[GoldSpan] | None = None,
    suggestions: QuerySet | None = None,
) -> tuple[str, list]:
    sql, params = select_sql(spans, neutralise=neutralise, gold=gold, suggestions=suggestions)
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params


def stream_spans_csv(
    spans: QuerySet[Span] | None = None,
    *,
    neutralise: bool = True,
    bom: bool = False,
    on_rows: Callable[[int], None] | None = None,
    using: str | None = None,
    gold: QuerySet[GoldSpan] | None = None,
    suggestions: QuerySet | None = None,
) -> Iterator[bytes]:
    """The span CSV for ``spans`` (any Span QuerySet; default all) and the gold spans ``gold`` (default none) as
    byte chunks, header first.

    Nothing runs until the first chunk is requested, so the result can go straight into a
    ``StreamingHttpResponse``. ``on_rows(n)`` is called as rows go out (progress bars); ``neutralise=False``
    leaves formula-like cells as they are, for programs rather than spreadsheets.
    """
    sql, params = copy_sql(spans, neutralise=neutralise, gold=gold, suggestions=suggestions)
    alias = using or (spans.db if spans is not None else DEFAULT_DB_ALIAS)
    if alias == REPLICA:  # a hot standby cannot create the pg_temp function: this export reads from the primary
        alias = DEFAULT_DB_ALIAS
    connection = connections[alias]
    head = (BOM if bom else b"") + HEADER.encode()
    # One transaction for the function and the COPY that calls it: behind PgBouncer in transaction pooling two
    # autocommit statements may run on two server connections, and pg_temp is per connection.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(CANONICAL_JSON_FUNCTION)
        # Parameters are bound client-side (COPY takes none), which also suits Django's debug cursor wrapper.
        statement = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
        buffer = bytearray(head)
        rows = 0
        with cursor.copy(statement) as copy:
            # PostgreSQL sends one CopyData message per row: counting messages counts rows exactly.
            for data in copy:
                buffer += data
                rows += 1
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
                    if on_rows:
                        on_rows(rows)
                        rows = 0
        if buffer:
            yield bytes(buffer)
        if on_rows and rows:
            on_rows(rows)


def stream_spans_csv_cursor(
    spans: QuerySet[Span] | None = None,
    *,
    neutralise: bool = True,
    bom: bool = False,
    using: str | None = None,
    fetch: int = 5000,
) -> Iterator[bytes]:
    """The same bytes as ``stream_spans_csv``, written by Python's csv module from a server-side cursor.

    Kept as the measured alternative (``bench/export.py``); COPY is faster, so the app uses that.
    """
    sql, params = select_sql(spans, neutralise=neutralise)
    # A flag column marks rows with a bare CR: csv.writer quotes only the characters of its line
    # terminator ("\n"), PostgreSQL also quotes CR, so those rare rows are written by hand.
    sql = sql.replace(
        "\nFROM ",
        ", strpos(concat(a.url, src.domain, a.title, l.name, s.text, s.note), E'\\r') > 0\nFROM ",
        1,
    )
    connection = connections[using or (spans.db if spans is not None else "default")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with transaction.atomic(using=connection.alias):
        connection.ensure_connection()
        with connection.connection.cursor() as setup:
            setup.execute(CANONICAL_JSON_FUNCTION)
        with connection.connection.cursor(name="newsnotes_span_csv") as cursor:
            cursor.itersize = fetch
            cursor.execute(sql, params)
            out.write(HEADER)
            first = BOM if bom else b""
            while rows := cursor.fetchmany(fetch):
                for row in rows:
                    if row[-1]:
                        out.write(csv_line(row[:-1]))
                    else:
                        writer.writerow(row[:-1])
                if out.tell() >= CHUNK_BYTES:
                    yield first + out.getvalue().encode()
                    first = b""
                    out.seek(0)
                    out.truncate()
            yield first + out.getvalue().encode()
