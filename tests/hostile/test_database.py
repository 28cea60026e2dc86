"""What SQL written by anyone (a script, a bug, an injection) gets back: PostgreSQL refuses every broken row.

These are the invariants the forms and importers check with a message; here the database holds them alone.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from annotations.workspace.rendering import labels_stylesheet
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def refused(sql: str, params: list, constraint: str) -> None:
    with pytest.raises(IntegrityError) as err, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert constraint in str(err.value)


INSERT_ARTICLE = """
INSERT INTO articles_article (title, body, body_sha256, url, byline, published_at, language, status, imported_at,
                              metadata)
VALUES ('Raw', %s, encode(sha256(convert_to(%s, 'UTF8')), 'hex'), %s, '', %s, %s, 'new', now(), '{}')
"""


@pytest.mark.parametrize(
    ("url", "published_at", "language", "constraint"),
    [
        ("javascript:alert(1)", None, "", "article_url_http"),
        ("data:text/html,<b>x</b>", None, "", "article_url_http"),
        (None, "9999-12-31T23:59:59-12:00", "", "article_published_at_range"),
        (None, "0001-01-01T00:00:00+14:00", "", "article_published_at_range"),
        (None, "0999-12-31T23:59:59Z", "", "article_published_at_range"),
        (None, None, "en_US", "article_language_tag_shape"),
        (None, None, "en US", "article_language_tag_shape"),
    ],
    ids=["javascript url", "data url", "year 10000 in UTC", "year 0 in UTC", "year 999", "en_US", "a space"],
)
def test_article_rows_outside_the_rules_are_refused(url, published_at, language, constraint):
    refused(INSERT_ARTICLE, ["Some body.", "Some body.", url, published_at, language], constraint)


def test_the_edges_of_the_date_range_are_stored():
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ARTICLE, ["First.", "First.", None, "1000-01-01T00:00:00Z", "en-US"])
        cursor.execute(INSERT_ARTICLE, ["Last.", "Last.", "HTTPS://x.example/a", "9998-12-31T23:59:59.999999Z", ""])


def test_body_sha256_must_be_the_hash_of_the_body():
    article = ArticleFactory(body="The real text.")
    refused(
        "UPDATE articles_article SET body = 'Another text.' WHERE id = %s",
        [article.pk],
        "article_body_sha256_matches_body",
    )
    refused(
        "UPDATE articles_article SET body_sha256 = repeat('0', 64) WHERE id = %s",
        [article.pk],
        "article_body_sha256_matches_body",
    )


@pytest.mark.parametrize(
    ("name", "slug", "constraint"),
    [
        ("Braces", "a}b{c", "label_slug_shape"),
        ("Upper", "Upper", "label_slug_shape"),
        ("Dash", "-lead", "label_slug_shape"),
        ("person", "person-again", "label_name_unique_ignoring_case"),
    ],
)
def test_label_rows_outside_the_rules_are_refused(labels, name, slug, constraint):
    refused(
        "INSERT INTO annotations_label (name, slug, kind, color, hotkey, description, ordering, active) "
        "VALUES (%s, %s, 'entity', '#aabbcc', '', '', 9, true)",
        [name, slug],
        constraint,
    )


def test_labels_css_escapes_whatever_it_is_given():
    css = labels_stylesheet([("a}b{c", "#aabbcc"), ("ok", "red;}body{display:none")])
    assert "a}b{c" not in css and ".label-a\\7d b\\7b c {" in css
    assert "display" not in css


def test_the_migration_normalises_stored_language_tags():
    """Tags stored before the checks: canonical case kept as a tag, non-tags moved into metadata."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    from articles.models import Article

    migration = importlib.import_module("articles.migrations.0003_article_integrity_checks")
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ARTICLE, ["One.", "One.", None, None, "EN-us"])
        cursor.execute(INSERT_ARTICLE, ["Two.", "Two.", None, None, "en-US-US"])
        cursor.execute(INSERT_ARTICLE, ["Three.", "Three.", None, None, "pt-BR"])
    migration.normalise_languages(apps, SimpleNamespace(connection=connection))
    stored = {a.body: (a.language, a.metadata) for a in Article.objects.all()}
    assert stored == {
        "One.": ("en-US", {}),
        "Two.": ("", {"language_refused": "en-US-US"}),
        "Three.": ("pt-BR", {}),
    }
