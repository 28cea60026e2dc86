"""What a curator's slip (or a hostile curator account) can type into the admin forms, and what comes back.

Every case is a form error on the page (status 200, the message shown), never a 500, and nothing stored.
"""

import pytest
from django.urls import reverse

from annotations.models import Label
from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:articles_article_add")
DEEP = '{"a":' * 5000 + "1" + "}" * 5000


def article_form(**fields) -> dict:
    return {
        "title": "Typed in", "url": "", "byline": "", "language": "en", "status": "new",
        "body": "A body typed into the admin.", "metadata": "{}", "published_at_0": "", "published_at_1": "",
        "spans-TOTAL_FORMS": "0", "spans-INITIAL_FORMS": "0", "spans-MIN_NUM_FORMS": "0",
        "spans-MAX_NUM_FORMS": "0", "_save": "Save",
    } | fields  # fmt: skip


# (what the curator types, the form fields, the message on the page)
HOSTILE_ARTICLES = [
    ("a date at the end of year 9999", {"published_at_0": "9999-12-31", "published_at_1": "23:59:59"}, "1000 and 9998"),
    ("a date in year 1", {"published_at_0": "0001-01-01", "published_at_1": "00:00:00"}, "1000 and 9998"),
    ("NaN in metadata", {"metadata": '{"x": NaN}'}, "The metadata holds NaN, which JSON does not allow."),
    ("Infinity in metadata", {"metadata": '{"x": Infinity}'}, "The metadata holds Infinity"),
    ("a NUL in metadata", {"metadata": '{"x": "a\\u0000b"}'}, "The metadata contains a NUL character"),
    ("metadata nested 5,000 deep", {"metadata": DEEP}, "The metadata is nested too deeply"),
    ("metadata nested 100 deep", {"metadata": '{"a":' * 100 + "1" + "}" * 100}, "is nested too deeply"),
    ("metadata that is a list", {"metadata": "[1, 2]"}, "The metadata must be a JSON object"),
    ("a javascript: url", {"url": "javascript:alert(1)"}, "Enter a valid URL."),
    ("an ftp: url", {"url": "ftp://files.example/a"}, "Enter a valid URL."),
    ("a language that is not a tag", {"language": "english!"}, "BCP-47"),
    ("a body past the length limit", {"body": "x" * 1_000_001}, "at most 1,000,000 are allowed"),
]


@pytest.mark.parametrize(("case", "fields", "message"), HOSTILE_ARTICLES, ids=[c[0] for c in HOSTILE_ARTICLES])
def test_article_form_refuses_with_a_message(curator_client, case, fields, message):
    response = curator_client.post(ADD, article_form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Article.objects.exists()


def test_a_body_too_rich_for_the_full_text_index_is_a_form_error(curator_client):
    body = " ".join("q" + "".join(chr(97 + n // 26**k % 26) for k in range(5)) for n in range(140_000))
    response = curator_client.post(ADD, article_form(body=body))
    assert response.status_code == 200
    assert "too many distinct words for PostgreSQL" in response.content.decode()
    assert not Article.objects.exists()


def test_article_form_stores_the_canonical_language_tag(curator_client):
    response = curator_client.post(ADD, article_form(language="en_us"))
    assert response.status_code == 302
    assert Article.objects.get().language == "en-US"


def test_change_form_refuses_a_far_date_on_an_existing_article(curator_client):
    article = ArticleFactory()
    url = reverse("admin:articles_article_change", args=[article.pk])
    fields = {"title": article.title, "url": article.url, "body": article.body}
    response = curator_client.post(url, article_form(**fields, published_at_0="9999-12-31", published_at_1="23:00"))
    assert response.status_code == 200 and "1000 and 9998" in response.content.decode()
    article.refresh_from_db()
    assert article.published_at is None


LABEL_ADD = reverse("admin:annotations_label_add")


def label_form(**fields) -> dict:
    return {
        "name": "QUOTE", "slug": "quote", "kind": "entity", "color": "#aabbcc", "hotkey": "", "description": "",
        "ordering": "5", "active": "on", "_save": "Save",
    } | fields  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "person"}, "A label with this name already exists (names are compared ignoring case)."),
        ({"slug": "a}b{c"}, "Enter a valid “slug”"),
        ({"slug": "Quote"}, "lower-case letters"),
    ],
    ids=["a name differing only in case", "a slug with CSS braces", "an upper-case slug"],
)
def test_label_form_refuses(curator_client, labels, fields, message):
    response = curator_client.post(LABEL_ADD, label_form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Label.objects.filter(slug__in=["quote", "a}b{c", "Quote"]).exists()
