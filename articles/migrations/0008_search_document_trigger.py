from django.db import migrations

# The stored full-text vector stops being a generated column and is kept by a trigger instead (issue 13.1).
# Computing it was most of a bulk import's time: a generated column is computed inside the COPY, with no way
# to leave it for later. The trigger computes the same expression (articles.models.SEARCH_DOCUMENT_SQL) on
# every insert and on every update that names the title, the body or the vector itself, so every writer (admin,
# forms, workspace, demo, bench corpora) still stores it at once, and nobody can store a vector that is not
# the text's. One exception: a transaction that says `SET LOCAL newsnotes.defer_search = 'on'` (the CLI import,
# articles.indexing) stores NULL, and queues the job that fills NULL vectors in batches right after it commits;
# until then the article is in the queue but not found by search. `DROP EXPRESSION` keeps every stored value.
# The partial index finds the articles still waiting for their vector without reading the table.
TRIGGER = """
ALTER TABLE articles_article ALTER COLUMN search_document DROP EXPRESSION;

CREATE FUNCTION articles_article_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('newsnotes.defer_search', true) = 'on' THEN
        NEW.search_document := NULL;
    ELSIF TG_OP = 'INSERT' OR NEW.search_document IS NULL
          OR NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body
          OR NEW.search_document IS DISTINCT FROM OLD.search_document THEN
        NEW.search_document := setweight(to_tsvector('english'::regconfig, NEW.title), 'A')
            || setweight(to_tsvector('english'::regconfig, NEW.body), 'B');
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER article_search_document
    BEFORE INSERT OR UPDATE OF title, body, search_document ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_document();

CREATE INDEX article_search_pending ON articles_article (id) WHERE search_document IS NULL;
"""

# Back to the generated column: every vector is computed again (the pending ones too).
GENERATED = """
DROP INDEX IF EXISTS article_search_pending;
DROP TRIGGER IF EXISTS article_search_document ON articles_article;
DROP FUNCTION IF EXISTS articles_article_search_document();
DROP INDEX IF EXISTS article_search_document_gin;
ALTER TABLE articles_article DROP COLUMN search_document;
ALTER TABLE articles_article ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, body), 'B')
) STORED;
CREATE INDEX article_search_document_gin ON articles_article USING gin (search_document);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0007_article_language_idx"),
    ]

    operations = [
        migrations.RunSQL(TRIGGER, GENERATED),
    ]
