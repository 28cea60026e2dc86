"""Drawing revisions per editor, each remembering what it was before the transaction that last changed it.

Migration 0027 gave each article one revision, bumped by any change to anything an annotate page draws. A drawing
was found by it, but a write's answer could not tell from it whether the page that posted held the drawing just
before the write (another editor's span bumps the article too), so the answer read every row the page draws and
hashed them (~1,000 spans and ~800 suggestions on a long article, on every create).

Now ``annotations_drawingrevision`` holds a row per article and editor: ``editor_id`` 0 for what every editor's
page of the article shows (the body, the status, suggestions nobody's labels gave away, any suggestion once the
article is reviewed), an editor's id for what only their page shows (their spans, their decisions, suggestions
propagated from their spans while the article is not reviewed); ``(0, 0)`` for the labels. An editor's page is
drawn at ``"<article>.<article, editor>.<labels>"`` (``drawings.page_reads``), so another editor's work on the
same article no longer makes a page or a stored drawing stale.

``before`` and ``writer``: the revision the row had before the write ``writer`` first bumped it, kept through that
write's later bumps. A write's answer, read in the write's transaction, compares the page's version with each
row's ``before`` where the write bumped it (``writer`` is its own: the row is locked since, so nothing else changed
it) and with ``revision`` elsewhere: equal, the page held exactly the drawing just before the write. A write is
named by ``annotations_drawing_writer()``: the request's history context (django-pghistory sets
``pghistory.context_id`` in the transaction of every write a request makes; a test's requests share one
transaction, but never a context), else the transaction's id.

Statement-level triggers, one per table, as in 0027: spans by article and annotator, decisions by article and
editor, suggestions by article and the editor who may see them, articles' body or status and labels as before;
TRUNCATE drops every stored drawing. Stored drawings go (their keys are of the old form), and with them their
``body_version`` column: a drawing's version is its key.
"""

from django.db import migrations

TABLES = {
    "annotations_span": "annotations_drawing_bump_spans",
    "annotations_suggestion": "annotations_drawing_bump_suggestions",
    "annotations_suggestiondecision": "annotations_drawing_bump_decisions",
}

# Rows of ``touched`` (article_id, editor_id) get a new revision, in key order (two statements over the same rows
# take their locks in one order: no deadlock between them).
BUMP = """
    INSERT INTO annotations_drawingrevision AS r (article_id, editor_id, revision, before, writer)
    SELECT t.article_id, t.editor_id, nextval('annotations_drawingrevision_seq'), 0, annotations_drawing_writer()
    FROM (SELECT DISTINCT article_id, editor_id FROM touched ORDER BY article_id, editor_id) t
    ON CONFLICT (article_id, editor_id) DO UPDATE SET
        revision = EXCLUDED.revision,
        before = CASE WHEN r.writer = EXCLUDED.writer THEN r.before ELSE r.revision END,
        writer = EXCLUDED.writer;
"""

# ``{rows}``: the transition tables the statement has; ``{editor}``: whose drawings a row of the table shows in.
TABLE_FUNCTION = """
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH touched AS (SELECT {editor} FROM new_rows changed {join}) {bump}
    ELSIF TG_OP = 'DELETE' THEN
        WITH touched AS (SELECT {editor} FROM old_rows changed {join}) {bump}
    ELSE
        WITH touched AS (
            SELECT {editor} FROM new_rows changed {join} UNION SELECT {editor} FROM old_rows changed {join}
        ) {bump}
    END IF;
    RETURN NULL;
END $$;
"""

EDITORS = {
    "annotations_span": ("changed.article_id, changed.annotator_id AS editor_id", ""),
    "annotations_suggestiondecision": ("changed.article_id, changed.editor_id", ""),
    # Propagated from an editor's span: theirs alone until the article is reviewed (decisions._visible).
    "annotations_suggestion": (
        "changed.article_id, CASE WHEN changed.derived_from_id IS NULL OR article.status = 'reviewed' THEN 0 "
        "ELSE changed.derived_from_id END AS editor_id",
        "JOIN articles_article article ON article.id = changed.article_id",
    ),
}

TRIGGERS = """
CREATE TRIGGER annotations_drawing_bump_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER annotations_drawing_bump_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER annotations_drawing_bump_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""

DROP_TRIGGERS = """
DROP TRIGGER annotations_drawing_bump_insert ON {table};
DROP TRIGGER annotations_drawing_bump_update ON {table};
DROP TRIGGER annotations_drawing_bump_delete ON {table};
"""

FORWARD = """
DELETE FROM annotations_workspacedrawing;
{drop_triggers}
DROP FUNCTION annotations_drawing_bump();
DROP TABLE annotations_drawingrevision;
CREATE TABLE annotations_drawingrevision (
    article_id bigint NOT NULL,
    editor_id bigint NOT NULL,
    revision bigint NOT NULL,
    before bigint NOT NULL,
    writer text NOT NULL,
    PRIMARY KEY (article_id, editor_id)
);

CREATE FUNCTION annotations_drawing_writer() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(nullif(current_setting('pghistory.context_id', true), ''), pg_current_xact_id_if_assigned()::text)
$$;

{functions}
{triggers}

CREATE OR REPLACE FUNCTION annotations_drawing_bump_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH touched AS (SELECT NEW.id AS article_id, 0::bigint AS editor_id) {bump}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION annotations_drawing_bump_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH touched AS (SELECT 0::bigint AS article_id, 0::bigint AS editor_id) {bump}
    RETURN NULL;
END $$;
"""


# Back to 0027: one revision per article (what that migration made, as it made it).
BACKWARD = """
DELETE FROM annotations_workspacedrawing;
{drop_triggers}
{drop_functions}
DROP TABLE annotations_drawingrevision;
DROP FUNCTION annotations_drawing_writer();
CREATE TABLE annotations_drawingrevision (
    article_id bigint PRIMARY KEY,
    revision bigint NOT NULL
);
CREATE FUNCTION annotations_drawing_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO annotations_drawingrevision (article_id, revision)
        SELECT a.article_id, nextval('annotations_drawingrevision_seq')
        FROM (SELECT DISTINCT article_id FROM new_rows ORDER BY article_id) a
        ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO annotations_drawingrevision (article_id, revision)
        SELECT a.article_id, nextval('annotations_drawingrevision_seq')
        FROM (SELECT DISTINCT article_id FROM old_rows ORDER BY article_id) a
        ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    ELSE
        INSERT INTO annotations_drawingrevision (article_id, revision)
        SELECT a.article_id, nextval('annotations_drawingrevision_seq')
        FROM (SELECT article_id FROM new_rows UNION SELECT article_id FROM old_rows ORDER BY article_id) a
        ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    END IF;
    RETURN NULL;
END $$;
{old_triggers}
CREATE OR REPLACE FUNCTION annotations_drawing_bump_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_drawingrevision (article_id, revision)
    VALUES (NEW.id, nextval('annotations_drawingrevision_seq'))
    ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION annotations_drawing_bump_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_drawingrevision (article_id, revision)
    VALUES (0, nextval('annotations_drawingrevision_seq'))
    ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    RETURN NULL;
END $$;
"""


def _backward() -> str:
    return (
        BACKWARD.replace("{drop_triggers}", "".join(DROP_TRIGGERS.format(table=table) for table in TABLES))
        .replace("{drop_functions}", "".join(f"DROP FUNCTION {function}();\n" for function in TABLES.values()))
        .replace(
            "{old_triggers}",
            "".join(TRIGGERS.format(table=table, function="annotations_drawing_bump") for table in TABLES),
        )
    )


def _forward() -> str:
    functions = "".join(
        TABLE_FUNCTION.format(function=function, editor=EDITORS[table][0], join=EDITORS[table][1], bump=BUMP)
        for table, function in TABLES.items()
    )
    triggers = "".join(TRIGGERS.format(table=table, function=function) for table, function in TABLES.items())
    drop = "".join(DROP_TRIGGERS.format(table=table) for table in TABLES)
    return (
        FORWARD.replace("{drop_triggers}", drop)
        .replace("{functions}", functions)
        .replace("{triggers}", triggers)
        .replace("{bump}", BUMP)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0031_drawings_with_list_item_ids"),
    ]

    operations = [
        migrations.RunSQL(_forward(), reverse_sql=_backward()),
        migrations.RemoveField(model_name="workspacedrawing", name="body_version"),
    ]
