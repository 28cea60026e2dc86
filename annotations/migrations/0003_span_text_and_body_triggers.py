from django.db import migrations

# Two invariants the database keeps even against code that bypasses the services:
# a span's text is exactly body[start:end] (substr counts characters, i.e. code points, in a UTF-8
# database), and an article's body cannot change once a span points into it.
FORWARD = r"""
CREATE FUNCTION annotations_span_text_matches_body() RETURNS trigger AS $$
DECLARE
  actual text;
  body_length integer;
BEGIN
  SELECT substr(a.body, NEW.start + 1, NEW."end" - NEW.start), char_length(a.body)
    INTO actual, body_length FROM articles_article a WHERE a.id = NEW.article_id;
  IF NEW."end" > body_length THEN
    RAISE EXCEPTION 'span %-% runs past the end of article % (% characters)', NEW.start, NEW."end", NEW.article_id, body_length
      USING ERRCODE = 'check_violation', CONSTRAINT = 'span_text_matches_body';
  END IF;
  IF actual IS DISTINCT FROM NEW.text THEN
    RAISE EXCEPTION 'span text does not match body[%:%] of article %', NEW.start, NEW."end", NEW.article_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'span_text_matches_body';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER span_text_matches_body
  BEFORE INSERT OR UPDATE OF start, "end", text, article_id ON annotations_span
  FOR EACH ROW EXECUTE FUNCTION annotations_span_text_matches_body();

CREATE FUNCTION annotations_article_body_locked() RETURNS trigger AS $$
BEGIN
  IF NEW.body IS DISTINCT FROM OLD.body AND EXISTS (SELECT 1 FROM annotations_span WHERE article_id = OLD.id) THEN
    RAISE EXCEPTION 'article % has spans; its body cannot change', OLD.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'article_body_locked_by_spans';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER article_body_locked_by_spans
  BEFORE UPDATE OF body ON articles_article
  FOR EACH ROW EXECUTE FUNCTION annotations_article_body_locked();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS article_body_locked_by_spans ON articles_article;
DROP FUNCTION IF EXISTS annotations_article_body_locked();
DROP TRIGGER IF EXISTS span_text_matches_body ON annotations_span;
DROP FUNCTION IF EXISTS annotations_span_text_matches_body();
"""


class Migration(migrations.Migration):
    dependencies = [("annotations", "0002_default_labels"), ("articles", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
