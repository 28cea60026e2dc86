from django.db import migrations

from annotations.migrations._grants import grant

# Suggestions and boilerplate copies store code-point offsets into an article's body, as spans do:
# - their text is exactly body[start:end] (checked by the database on every write, like span_text_matches_body);
# - when a body changes (allowed only while no span points into it), what was derived from the old text is
#   stale: its passages, copies and suggestions are deleted with the change, and the next boilerplate check
#   finds the new text's copies.
FORWARD = r"""
CREATE FUNCTION annotations_offsets_match_body() RETURNS trigger AS $$
DECLARE
  actual text;
  body_length integer;
BEGIN
  SELECT substr(a.body, NEW.start + 1, NEW."end" - NEW.start), char_length(a.body)
    INTO actual, body_length FROM articles_article a WHERE a.id = NEW.article_id;
  IF NEW."end" > body_length OR actual IS DISTINCT FROM NEW.text THEN
    RAISE EXCEPTION '% text does not match body[%:%] of article %', TG_TABLE_NAME, NEW.start, NEW."end", NEW.article_id
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[0];
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER suggestion_text_matches_body
  BEFORE INSERT OR UPDATE OF start, "end", text, article_id ON annotations_suggestion
  FOR EACH ROW EXECUTE FUNCTION annotations_offsets_match_body('suggestion_text_matches_body');

CREATE TRIGGER boilerplatecopy_text_matches_body
  BEFORE INSERT OR UPDATE OF start, "end", text, article_id ON annotations_boilerplatecopy
  FOR EACH ROW EXECUTE FUNCTION annotations_offsets_match_body('boilerplatecopy_text_matches_body');

CREATE FUNCTION annotations_article_body_changed() RETURNS trigger AS $$
BEGIN
  DELETE FROM annotations_boilerplatepassage WHERE article_id = NEW.id;
  DELETE FROM annotations_boilerplatecopy WHERE article_id = NEW.id;
  DELETE FROM annotations_suggestion WHERE article_id = NEW.id;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER article_body_change_drops_derived
  AFTER UPDATE OF body ON articles_article
  FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body)
  EXECUTE FUNCTION annotations_article_body_changed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS article_body_change_drops_derived ON articles_article;
DROP FUNCTION IF EXISTS annotations_article_body_changed();
DROP TRIGGER IF EXISTS boilerplatecopy_text_matches_body ON annotations_boilerplatecopy;
DROP TRIGGER IF EXISTS suggestion_text_matches_body ON annotations_suggestion;
DROP FUNCTION IF EXISTS annotations_offsets_match_body();
"""

# Families and suggestions are the curators' work (README "Boilerplate families"); nobody else sees them yet.
ADDED = {
    "Curators": [
        "annotations.view_boilerplatefamily",
        "annotations.change_boilerplatefamily",
        "annotations.view_boilerplatecopy",
        "annotations.view_suggestion",
        "annotations.add_suggestion",
    ],
}



class Migration(migrations.Migration):
    dependencies = [("annotations", "0011_boilerplate_families_and_suggestions")]
    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        grant(ADDED),
    ]
