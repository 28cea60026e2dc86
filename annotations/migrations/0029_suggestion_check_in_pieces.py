"""The suggestion text check on INSERT reads the body in pieces when a statement inserts more than two suggestions
of an article (issue 13.4), as the span check does since 0028.

0023's check read the body once per article into a variable, but then called char_length(body) and
substr(body, start + 1, ...) for every suggestion: over UTF-8 both walk the body from its first character, so
each suggestion cost a walk of the article (~0.3 ms on bench/annotate.py's article of 63,000 characters). A create
that suggests its text at 50 places spent 15 ms in this trigger, a stop word's 200 places 65 ms. Now, past two
suggestions, the body is cut once into 200-character pieces (one regex pass, ~0.5 ms) and a suggestion reads at
most two pieces at a known index: 0.5 ms for 50, 0.7 ms for 200. Up to two still read the body with substr, which
costs less than the cut. No char_length: a text of end - start characters (suggestion_text_length_matches_offsets,
checked before this trigger) never equals what substr finds past the body's end, which is shorter. Same rule, same
error, same constraint name.
"""

from django.db import migrations

# Constants, not imports: a migration keeps the function it wrote.
FORWARD = r"""
CREATE OR REPLACE FUNCTION annotations_suggestions_inserted_match_body() RETURNS trigger AS $$
DECLARE
  article record;
  body text;
  pieces text[];
  bad record;
BEGIN
  FOR article IN SELECT article_id, count(*) AS inserted_rows FROM inserted GROUP BY article_id LOOP
    SELECT a.body INTO body FROM articles_article a WHERE a.id = article.article_id;
    IF article.inserted_rows <= 2 THEN
      SELECT i.start, i."end" INTO bad FROM inserted i
        WHERE i.article_id = article.article_id
          AND substr(body, i.start + 1, i."end" - i.start) IS DISTINCT FROM i.text
        LIMIT 1;
    ELSE
      pieces := ARRAY(
        SELECT piece.match[1]
          FROM regexp_matches(body, '.{1,200}', 'g') WITH ORDINALITY AS piece(match, n)
         ORDER BY piece.n
      );
      SELECT i.start, i."end" INTO bad FROM inserted i
        WHERE i.article_id = article.article_id
          AND CASE WHEN i."end" - i.start <= 200
                   THEN substr(coalesce(pieces[i.start / 200 + 1], '') || coalesce(pieces[i.start / 200 + 2], ''),
                               i.start % 200 + 1, i."end" - i.start)
                   ELSE substr(body, i.start + 1, i."end" - i.start)
              END IS DISTINCT FROM i.text
        LIMIT 1;
    END IF;
    IF FOUND THEN
      RAISE EXCEPTION 'annotations_suggestion text does not match body[%:%] of article %',
        bad.start, bad."end", article.article_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'suggestion_text_matches_body';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

# 0023's function.
BACKWARD = r"""
CREATE OR REPLACE FUNCTION annotations_suggestions_inserted_match_body() RETURNS trigger AS $$
DECLARE
  article record;
  body text;
  bad record;
BEGIN
  FOR article IN SELECT DISTINCT article_id FROM inserted LOOP
    SELECT a.body INTO body FROM articles_article a WHERE a.id = article.article_id;
    SELECT i.start, i."end" INTO bad FROM inserted i
      WHERE i.article_id = article.article_id
        AND (body IS NULL OR i."end" > char_length(body)
             OR substr(body, i.start + 1, i."end" - i.start) IS DISTINCT FROM i.text)
      LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'annotations_suggestion text does not match body[%:%] of article %',
        bad.start, bad."end", article.article_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'suggestion_text_matches_body';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("annotations", "0028_span_check_in_pieces_and_no_duplicate_indexes")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
