"""The export page: who may use it, the live count, and downloads that stream."""

import datetime as dt
import io
import zipfile

import psutil
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from annotations.exports import ExportFilters
from annotations.models import Label
from articles.models import Article, body_sha256
from tests.annotations.export_fixtures import build_corpus, export_bytes, skip_history_triggers
from tests.factories import UserFactory
from tests.html import one, text

pytestmark = pytest.mark.django_db

PAGE = reverse("annotations:export")
DOWNLOAD = reverse("annotations:export-download")


@pytest.fixture
def corpus(db):
    return build_corpus()


def user_in(group: str, name: str):
    user = UserFactory(username=name)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def researcher_client(client, corpus):
    client.force_login(user_in("Researchers", "researcher"))
    return client


@pytest.mark.parametrize("url", [PAGE, DOWNLOAD])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("group", ["Editors", "Reviewers"])
@pytest.mark.parametrize("url", [PAGE, DOWNLOAD])
def test_roles_without_the_export_permission_get_403(client, corpus, group, url):
    client.force_login(user_in(group, "someone"))
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 403
    assert b"span_id" not in response.content


@pytest.mark.parametrize("group", ["Researchers", "Curators"])
def test_researchers_and_curators_may_export(client, corpus, group):
    client.force_login(user_in(group, "someone"))
    page = client.get(PAGE)
    assert page.status_code == 200
    assert f'href="{PAGE}"'.encode() in page.content  # the nav link shows for them
    assert client.get(DOWNLOAD, {"format": "csv"}).status_code == 200


def test_editors_see_no_export_link(client, corpus):
    client.force_login(user_in("Editors", "someone"))
    assert f'href="{PAGE}"'.encode() not in client.get(reverse("annotations:article-list")).content


def test_page_lists_filters_and_formats(researcher_client, corpus):
    content = researcher_client.get(PAGE).content.decode()
    for value in ["csv", "articles-csv", "jsonl", "label-studio", "conll", "brat", "w3c"]:
        assert f'<option value="{value}"' in content
    for label in Label.objects.all():
        assert f'value="{label.pk}"' in content
    assert ">blog.example<" in content and ">wirefeed.example<" in content
    assert ">@lice<" in content and ">ed<" in content
    assert 'name="published_from"' in content and 'type="date"' in content
    assert 'hx-get="/export/"' in content and 'hx-target="#export-preview"' in content
    assert "<script>" not in content and "style=" not in content


def test_htmx_preview_counts_what_the_download_will_hold(researcher_client, corpus):
    org = corpus["labels"]["org"].pk
    response = researcher_client.get(PAGE, {"format": "csv", "labels": [org]}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert response["Vary"].count("HX-Request") == 1
    assert content.strip().startswith('<div id="export-preview"') and "<html" not in content
    today = timezone.now().date()
    assert "<strong>2</strong> spans from <strong>1</strong> article" in content
    assert f"newsnotes-spans-{today:%Y%m%d}.csv" in content
    response = researcher_client.get(PAGE, {"format": "jsonl", "labels": [org]}, headers={"HX-Request": "true"})
    assert "<strong>3</strong> articles carrying <strong>2</strong> spans" in response.content.decode()


def test_preview_without_javascript_renders_the_whole_page(researcher_client, corpus):
    response = researcher_client.get(PAGE, {"format": "csv", "statuses": ["in_annotation"]})
    assert b"<html" in response.content
    assert b"<strong>1</strong> span from <strong>1</strong> article" in response.content


def test_preview_explains_invalid_input(researcher_client, corpus):
    response = researcher_client.get(
        PAGE, {"published_from": "2026-03-01", "published_to": "2026-02-01"}, headers={"HX-Request": "true"}
    )
    assert b"The end date is before the start date." in response.content


def expected_name(stem: str, extension: str) -> set[str]:
    # The date comes from the server clock; a run across midnight may see either day.
    days = {timezone.now().date(), (timezone.now() - dt.timedelta(seconds=5)).date()}
    return {f'attachment; filename="newsnotes-{stem}-{day:%Y%m%d}{extension}"' for day in days}


@pytest.mark.parametrize(
    "key,stem,extension,content_type",
    [
        ("csv", "spans", ".csv", "text/csv; charset=utf-8"),
        ("articles-csv", "articles", ".csv", "text/csv; charset=utf-8"),
        ("jsonl", "doccano", ".jsonl", "application/x-ndjson; charset=utf-8"),
        ("label-studio", "label-studio", ".json", "application/json"),
        ("conll", "conll", ".conll", "text/plain; charset=utf-8"),
        ("brat", "brat", ".zip", "application/zip"),
        ("w3c", "w3c", ".jsonld", "application/ld+json"),
    ],
)
def test_download_streams_each_format_with_a_dated_name(researcher_client, corpus, key, stem, extension, content_type):
    response = researcher_client.get(DOWNLOAD, {"format": key})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] in expected_name(stem, extension)
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    if key == "brat":
        assert zipfile.ZipFile(io.BytesIO(body)).read("collection/1.ann") == zipfile.ZipFile(
            io.BytesIO(export_bytes("brat"))
        ).read("collection/1.ann")
    else:
        assert body == export_bytes(key)


def test_download_applies_filters_and_options(researcher_client, corpus):
    params = {
        "format": "csv",
        "labels": [corpus["labels"]["claim"].pk, corpus["labels"]["org"].pk],
        "annotators": [corpus["users"]["@lice"].pk],
        "sources": [corpus["articles"][1].source_id],
        "statuses": ["in_annotation"],
        "origins": ["manual"],
        "published_from": "2026-02-03",
        "published_to": "2026-02-03",
        "raw": "on",
        "bom": "on",
    }
    body = b"".join(researcher_client.get(DOWNLOAD, params).streaming_content)
    filters = ExportFilters(
        labels=tuple(sorted(params["labels"])),
        annotators=tuple(params["annotators"]),
        sources=tuple(params["sources"]),
        statuses=("in_annotation",),
        origins=("manual",),
        published_from=dt.date(2026, 2, 3),
        published_to=dt.date(2026, 2, 3),
    )
    assert body == export_bytes("csv", filters=filters, neutralise=False, bom=True)
    assert body.startswith(b"\xef\xbb\xbf") and b"\n6,editor,2,,blog.example,-12% at Orrin," in body


def test_download_offsets_option(researcher_client, corpus):
    body = b"".join(researcher_client.get(DOWNLOAD, {"format": "jsonl", "offsets": "utf16"}).streaming_content)
    assert body == export_bytes("jsonl", utf16=True)


def test_download_with_invalid_filters_is_a_400_page(researcher_client, corpus):
    response = researcher_client.get(DOWNLOAD, {"format": "csv", "statuses": ["lost"]})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


def test_streamed_download_of_50k_spans_keeps_memory_flat(researcher_client, corpus):
    """Each row carries a 2 KB note: holding the export (or its rows) in memory would add over 100 MB."""
    labels = corpus["labels"]
    annotator = corpus["users"]["ed"].pk
    body = ("word " * 80).strip() + "."
    skip_history_triggers()
    with connection.cursor() as cursor:
        for batch in range(25):
            articles = [
                Article(
                    title=f"Bulk {batch}-{n}",
                    body=f"{batch}-{n} {body}",
                    body_sha256=body_sha256(f"{batch}-{n} {body}"),
                )
                for n in range(20)
            ]
            ids = [a.pk for a in Article.objects.bulk_create(articles)]
            # 100 spans per article, straight in SQL (the text-check trigger still checks every one).
            cursor.execute(
                """
                INSERT INTO annotations_span (article_id, label_id, start, "end", text, annotator_id, origin, note,
                                              attributes, created_at, updated_at)
                SELECT a.id, %s, g * 4, g * 4 + 3, substr(a.body, g * 4 + 1, 3), %s, 'manual', repeat('n', 2000),
                       '{"verdict": "unverified"}', now(), now()
                FROM articles_article a CROSS JOIN generate_series(0, 99) AS g WHERE a.id = ANY(%s)
                """,
                [labels["claim"].pk, annotator, ids],
            )
    process = psutil.Process()
    baseline = process.memory_info().rss
    response = researcher_client.get(DOWNLOAD, {"format": "csv", "labels": [labels["claim"].pk]})
    peak = baseline
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
        peak = max(peak, process.memory_info().rss)
    response.close()
    # The header, the bulk spans and the corpus' two claims, one of them with a line break in its text and note.
    assert rows == 1 + 50_000 + 3 + 1
    assert size > 50_000 * 2000
    assert peak - baseline < 60 * 1024 * 1024


def test_text_filter_matches_words_as_prefixes_like_the_queue(researcher_client, corpus):
    """Issue 13: the export page filters articles by text through the stored vector, "Orr" finding Orrin."""
    assert researcher_client.get(PAGE).context["form"].fields["q"].label == "Text contains"
    body = b"".join(researcher_client.get(DOWNLOAD, {"format": "csv", "q": "Orr"}).streaming_content)
    assert body == export_bytes("csv", filters=ExportFilters(q="Orr"))
    rows = body.decode().splitlines()[1:]
    assert rows and all("-12% at Orrin," in row for row in rows)
    assert len(rows) < len(export_bytes("csv").decode().splitlines()[1:])
    articles = b"".join(researcher_client.get(DOWNLOAD, {"format": "articles-csv", "q": "Orr"}).streaming_content)
    assert articles.decode().count("\n") == 2  # the header and Orrin's article
    nothing = b"".join(researcher_client.get(DOWNLOAD, {"format": "csv", "q": "zzyzxq"}).streaming_content)
    assert nothing.decode().count("\n") == 1  # the header only


def test_every_export_view_answers_an_invalid_form_with_the_same_page(researcher_client, corpus):
    """Count, Download and the scripted download show one invalid-form answer (exports.views.export_form_page):
    the page with the count region's summary and each field's error; 400 where the form was meant to run."""
    invalid = {"format": "csv", "statuses": ["lost"], "published_from": "2026-03-01", "published_to": "2026-02-01"}
    answers = {
        "count": researcher_client.get(PAGE, invalid),
        "download": researcher_client.get(DOWNLOAD, invalid),
        "job": researcher_client.post(reverse("annotations:export-job-create"), invalid),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {"count": 200, "download": 400, "job": 400}
    pages = {name: text(one(answer.content, "main")) for name, answer in answers.items()}
    assert pages["download"] == pages["count"] and pages["job"] == pages["count"]
    summary = text(one(answers["count"].content, "#export-preview"))
    assert "Select a valid choice" in summary and "The end date is before the start date." in summary
    assert all("HX-Request" in answer["Vary"] for answer in answers.values())
    fragment = researcher_client.get(PAGE, invalid, headers={"HX-Request": "true"})
    assert fragment.status_code == 200  # htmx swaps no 4xx answer: the count region says what is wrong
    assert b"<html" not in fragment.content and text(one(fragment.content, "#export-preview")) == summary
