from django.db import migrations

# Articles 0004 told the planner that `tsvector @@ tsquery` costs 100 operator units; measured on the stored
# column (a 400-word article's vector read from TOAST, ~20 µs on the 2-core machine) that is still ten times too
# cheap: at 100,000 articles PostgreSQL answered "the first 1,001 articles matching a common word" (the queue's
# capped count) with a sequential scan reading vectors (53 ms) instead of the GIN bitmap (9 ms), and combined a
# status filter with a per-row match instead of ANDing the two indexes. Same guard as 0004: only where the
# migrating role owns the function (a superuser); elsewhere the plans are worse, never wrong.
MATCH_COST = """
DO $$ BEGIN
    ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) COST {cost};
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ts_match_vq cost left as it is: the migrating role does not own it (see articles 0006)';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_article_status_per_editor_progress"),
    ]

    operations = [
        migrations.RunSQL(MATCH_COST.format(cost=1000), MATCH_COST.format(cost=100)),
    ]
