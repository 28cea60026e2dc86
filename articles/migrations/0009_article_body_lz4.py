"""Article texts are compressed with LZ4 where the server has it (PostgreSQL 14+ built --with-lz4; Debian's is).

A text longer than ~2 kB is compressed when stored (TOAST). PostgreSQL's own pglz is several times slower than LZ4
at both ends: a COPY of 10,000 articles (36 MB of text) took 0.99 s with pglz and 0.68 s with LZ4, in an import
whose writer waits on exactly that. Rows already stored keep their compression until rewritten. A server without
LZ4 (the embedded one is built without it) keeps pglz: the migration then changes nothing.
"""

from django.db import migrations

COLUMNS = [("articles_article", "body")]


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
    dependencies = [("articles", "0008_search_document_trigger")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
