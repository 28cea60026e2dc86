"""Large values are compressed with LZ4 where the server has it (migrations articles 0009, annotations 0030)."""

from importlib import import_module

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# The migrations' own lists (articles 0009, annotations 0030).
COLUMNS = [
    *import_module("articles.migrations.0009_article_body_lz4").COLUMNS,
    *import_module("annotations.migrations.0030_lz4_for_large_values").COLUMNS,
]


def test_large_columns_use_lz4_when_the_server_has_it_and_values_round_trip():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL is built without LZ4: the migrations leave pglz")
        cursor.execute(
            "SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute "
            "WHERE (attrelid::regclass::text, attname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            [[table for table, _ in COLUMNS], [column for _, column in COLUMNS]],
        )
        found = {(table, column): method for table, column, method in cursor.fetchall()}
    assert found == dict.fromkeys(COLUMNS, "l")
    from tests.factories import ArticleFactory

    body = "Corvane hired Mara Okonkwo. 東京 Labs said so. " * 400  # long enough to be compressed
    article = ArticleFactory(body=body)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_compression(body), body FROM articles_article WHERE id = %s", [article.pk])
        method, stored = cursor.fetchone()
    assert (method, stored) == ("lz4", body)
