"""Large values the app writes often are compressed with LZ4 where the server has it (PostgreSQL 14+ built
--with-lz4; Debian's is): each editor's stored drawing of an article (its body alone ~400 kB of HTML for a long
article, written again whenever a page finds it out of date), export and import chunks, token offsets.

PostgreSQL's own pglz compresses ~9x slower for the same ratio: 50 drawings of 455 kB took 312 ms to store with
pglz and 35 ms with LZ4 (235 and 237 kB stored), and reading them back 0.26 ms less each. Rows already stored keep
their compression until rewritten. A server without LZ4 (the embedded one is built without it) keeps pglz: the
migration then changes nothing.
"""

from django.db import migrations

COLUMNS = [
    ("annotations_workspacedrawing", "body"),
    ("annotations_workspacedrawing", "spans"),
    ("annotations_workspacedrawing", "suggestions"),
    ("annotations_exportchunk", "data"),
    ("annotations_importchunk", "data"),
    ("annotations_articletokens", "starts"),
    ("annotations_articletokens", "ends"),
]


def _has_lz4(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return bool(row and row[0])


def forwards(apps, schema_editor):
    if _has_lz4(schema_editor):
        for table, column in COLUMNS:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


def backwards(apps, schema_editor):
    for table, column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0029_suggestion_check_in_pieces")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
