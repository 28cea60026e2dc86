"""What far-off dates in the export filters (and at the edges of what articles may hold) get back.

A filter bound outside the dates articles can have is a form error on the page, a 400 for the download, and a
clear CLI error; the earliest and latest dates an article may hold render everywhere a date is shown.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.models import ArticleEvent
from articles.models import Article
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("annotations:export")
DOWNLOAD = reverse("annotations:export-download")
MESSAGE = "Choose a date between 1000-01-01 and 9998-12-31."

FAR_BOUNDS = [
    {"published_to": "9999-12-31"},
    {"published_from": "9999-12-31"},
    {"published_from": "0001-01-01"},
    {"published_to": "0999-12-31"},
]


@pytest.fixture
def researcher_client(client, researcher):
    client.force_login(researcher)
    return client


@pytest.mark.parametrize("bounds", FAR_BOUNDS, ids=lambda b: "&".join(f"{k}={v}" for k, v in b.items()))
def test_export_page_shows_a_form_error(researcher_client, bounds):
    response = researcher_client.get(PAGE, {"format": "csv", **bounds})
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    preview = researcher_client.get(PAGE, {"format": "csv", **bounds}, headers={"HX-Request": "true"})
    assert preview.status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "articles-csv", "jsonl", "label-studio", "conll", "brat", "w3c"])
def test_every_download_refuses_a_far_bound_with_400(researcher_client, fmt):
    response = researcher_client.get(DOWNLOAD, {"format": fmt, "published_to": "9999-12-31"})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("option", ["--published-to", "--published-from"])
def test_cli_refuses_a_far_bound(tmp_path, option):
    with pytest.raises(CommandError, match=r"9999-12-31 is outside the dates articles can have"):
        call_command("export_spans", "--format", "csv", "-o", str(tmp_path / "x.csv"), option, "9999-12-31")


def test_the_edges_of_the_date_range_show_everywhere(client, curator, researcher, editor, labels):
    """The first and last instants an article may hold: every page, export and the history render them."""
    early = ArticleFactory(title="Early", published_at="1000-01-01T00:00:00Z")
    late = ArticleFactory(title="Late", published_at="9998-12-31T23:59:59.999999Z")
    for article in (early, late):
        SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    client.force_login(editor)
    assert client.get("/").status_code == 200
    assert client.get(f"/articles/{late.pk}/annotate/").status_code == 200
    client.force_login(curator)
    assert client.get(reverse("admin:articles_article_changelist")).status_code == 200
    late_pk = late.pk
    Article.objects.filter(pk__in=[early.pk, late.pk]).delete()
    events = client.get(reverse("admin:annotations_articleevent_changelist"))
    assert events.status_code == 200
    assert ArticleEvent.objects.filter(pgh_obj_id=late_pk, pgh_label="delete").exists()
    client.force_login(researcher)
    ArticleFactory(title="Kept", published_at="9998-12-31T23:59:59Z")
    for fmt in ["csv", "articles-csv", "jsonl", "label-studio", "w3c"]:
        response = client.get(DOWNLOAD, {"format": fmt, "published_to": "9998-12-31", "published_from": "1000-01-01"})
        assert response.status_code == 200
        b"".join(response.streaming_content)
    out = io.StringIO()
    call_command("export_spans", "--format", "articles-csv", "--published-to", "9998-12-31", stdout=out)
    assert "Kept" in out.getvalue()
