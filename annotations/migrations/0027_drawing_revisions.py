"""Drawing revisions: the annotate page finds its stored drawing by (article, editor, revision) in one statement.

``annotations_drawingrevision`` holds one revision per article (``article_id`` 0: the labels, which every drawing
shows), taken from one sequence so a revision never recurs. Statement-level triggers bump it, in the transaction
of the change, for every statement that can change what an annotate page draws: spans, suggestions and editors'
decisions on them (any column, any path: workspace, admin, review, import, raw SQL), an article's body or status
(a reviewed article shows other editors' suggestions), any change to the labels. TRUNCATE of those tables also
drops every stored drawing (it names no article). The page then needs neither the spans nor the suggestions to
know its drawing is current; before, it read them all to hash them into the key.

The table has no foreign key (row 0 is no article); a deleted article's row stays, 16 bytes, and its drawings go
with the article (cascade). Drawings gain the suggestion panel and the two counts, so a page drawn from a
stored drawing reads nothing else of the article's spans.
"""

from django.db import migrations, models

SPAN_TABLES = ("annotations_span", "annotations_suggestion", "annotations_suggestiondecision")

FORWARD = """
CREATE SEQUENCE annotations_drawingrevision_seq;
CREATE TABLE annotations_drawingrevision (
    article_id bigint PRIMARY KEY,
    revision bigint NOT NULL
);

-- Articles touched by the statement get a new revision, in article order (two statements over the same articles
-- take the rows' locks in one order: no deadlock between them).
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

CREATE FUNCTION annotations_drawing_bump_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_drawingrevision (article_id, revision)
    VALUES (NEW.id, nextval('annotations_drawingrevision_seq'))
    ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    RETURN NULL;
END $$;

CREATE FUNCTION annotations_drawing_bump_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_drawingrevision (article_id, revision)
    VALUES (0, nextval('annotations_drawingrevision_seq'))
    ON CONFLICT (article_id) DO UPDATE SET revision = EXCLUDED.revision;
    RETURN NULL;
END $$;

CREATE FUNCTION annotations_drawing_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM annotations_workspacedrawing;
    RETURN NULL;
END $$;

{span_triggers}

CREATE TRIGGER annotations_drawing_bump
    AFTER UPDATE OF body, status ON articles_article
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION annotations_drawing_bump_article();
CREATE TRIGGER annotations_drawing_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON annotations_label
    FOR EACH STATEMENT EXECUTE FUNCTION annotations_drawing_bump_labels();
"""

SPAN_TRIGGERS = """
CREATE TRIGGER annotations_drawing_bump_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION annotations_drawing_bump();
CREATE TRIGGER annotations_drawing_bump_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION annotations_drawing_bump();
CREATE TRIGGER annotations_drawing_bump_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION annotations_drawing_bump();
CREATE TRIGGER annotations_drawing_forget AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION annotations_drawing_forget_all();
"""

BACKWARD = """
{drop_span_triggers}
DROP TRIGGER annotations_drawing_bump ON articles_article;
DROP TRIGGER annotations_drawing_bump ON annotations_label;
DROP FUNCTION annotations_drawing_bump();
DROP FUNCTION annotations_drawing_bump_article();
DROP FUNCTION annotations_drawing_bump_labels();
DROP FUNCTION annotations_drawing_forget_all();
DROP TABLE annotations_drawingrevision;
DROP SEQUENCE annotations_drawingrevision_seq;
"""

DROP_SPAN_TRIGGERS = """
DROP TRIGGER annotations_drawing_bump_insert ON {table};
DROP TRIGGER annotations_drawing_bump_update ON {table};
DROP TRIGGER annotations_drawing_bump_delete ON {table};
DROP TRIGGER annotations_drawing_forget ON {table};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0026_history_context_only_with_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="workspacedrawing",
            name="suggestions",
            field=models.BinaryField(default=b""),
        ),
        migrations.AddField(
            model_name="workspacedrawing",
            name="span_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="workspacedrawing",
            name="suggestion_count",
            field=models.PositiveIntegerField(default=0),
        ),
        # Drawings keyed by content hash never match a revision key: start empty.
        migrations.RunSQL("DELETE FROM annotations_workspacedrawing", reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(
            """
            DO $$
            BEGIN
              ALTER TABLE annotations_workspacedrawing ALTER COLUMN suggestions SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
              NULL;
            END $$;
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            FORWARD.replace(
                "{span_triggers}", "".join(SPAN_TRIGGERS.format(table=table) for table in SPAN_TABLES)
            ),
            reverse_sql=BACKWARD.replace(
                "{drop_span_triggers}", "".join(DROP_SPAN_TRIGGERS.format(table=table) for table in SPAN_TABLES)
            ),
        ),
    ]
