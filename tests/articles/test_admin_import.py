"""The admin's "Import articles" page: upload, preview (new, duplicates, every error), confirm all or nothing."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotations.models import ArticleEvent
from articles.models import Article
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:articles_article_import")
CONFIRM = reverse("admin:articles_article_import_confirm")
FIXTURE = Path(__file__).parent.parent / "fixtures" / "html" / "larchfield_chip.html"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def story(n: int, **extra) -> dict:
    return {
        "title": f"Story {n}",
        "body": f"Body of story {n}.\n\nSecond paragraph.",
        "url": f"https://wire.example/{n}",
        "source": "wire.example",
    } | extra


def jsonl(*rows) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode() + b"\n"


def csv_bytes(*rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["title", "body", "url", "source"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def preview(client, name: str, data: bytes):
    return client.post(IMPORT, {"upload": SimpleUploadedFile(name, data)})


def confirm(client, response, **extra):
    token = response.context["confirm"]["token"].value()
    return client.post(CONFIRM, {"token": token, **extra}, follow=True)


def test_changelist_links_to_the_import_page(curator_client):
    response = curator_client.get(reverse("admin:articles_article_changelist"))
    assert f'href="{IMPORT}"'.encode() in response.content
    assert b"Import articles" in response.content


def test_jsonl_preview_counts_then_confirm_imports(curator_client, curator, data_dir):
    ArticleFactory(url="https://wire.example/2", title="Already here")
    response = preview(curator_client, "feed.jsonl", jsonl(story(1), story(2), story(3)))
    assert response.status_code == 200
    assert [r.title for r, _ in response.context["fresh"]] == ["Story 1", "Story 3"]
    assert [(r.location, reason) for r, reason in response.context["duplicates"]] == [
        ("feed.jsonl:2", "url https://wire.example/2 is already in the corpus")
    ]
    content = response.content.decode()
    assert 'id="count-new">2<' in content and 'id="count-duplicates">1<' in content
    assert "feed.jsonl:2: Story 2 — url https://wire.example/2 is already in the corpus" in content
    assert not Article.objects.filter(title__startswith="Story").exists()
    assert len(list((data_dir / "uploads").iterdir())) == 1

    done = confirm(curator_client, response)
    assert done.redirect_chain[-1][0] == reverse("admin:articles_article_changelist")
    assert "Imported 2 articles from feed.jsonl; skipped 1 duplicate(s)." in [str(m) for m in done.context["messages"]]
    assert set(Article.objects.filter(title__startswith="Story").values_list("title", flat=True)) == {
        "Story 1",
        "Story 3",
    }
    assert list((data_dir / "uploads").iterdir()) == []
    # The history records who imported them.
    event = ArticleEvent.objects.select_related("pgh_context").get(title="Story 1", pgh_label="insert")
    assert event.pgh_context.metadata["user"] == curator.pk


@pytest.mark.parametrize(
    "name,data,titles",
    [
        ("sheet.csv", csv_bytes(story(1), story(2)), {"Story 1", "Story 2"}),
        ("note.txt", b"A plain title\nThe body of a plain text article.", {"A plain title"}),
        ("page.html", FIXTURE.read_bytes(), {"Larchfield ships its first RISC-V laptop chip"}),
        (
            "batch.zip",
            zip_bytes({"a.jsonl": jsonl(story(4)), "b.html": FIXTURE.read_bytes(), "c.txt": b"Txt title\nTxt body"}),
            {"Story 4", "Larchfield ships its first RISC-V laptop chip", "Txt title"},
        ),
    ],
)
def test_each_format_imports(curator_client, name, data, titles):
    response = preview(curator_client, name, data)
    assert not response.context["report"].failures
    confirm(curator_client, response)
    assert set(Article.objects.values_list("title", flat=True)) == titles


def test_html_import_keeps_the_sponsored_paragraph(curator_client):
    confirm(curator_client, preview(curator_client, "page.html", FIXTURE.read_bytes()))
    article = Article.objects.get()
    assert article.body.endswith("Try it free for 30 days at quillix.example.")
    assert "Subscribe to our newsletter" not in article.body
    assert article.byline == "Mara Okonkwo" and article.source.domain == "wirefeed.example"


def test_bad_lines_are_all_shown_and_nothing_can_be_confirmed(curator_client, data_dir):
    response = preview(curator_client, "feed.jsonl", jsonl(story(1), story(2, title=""), story(3, body=7)))
    content = response.content.decode()
    assert "feed.jsonl:2: title is empty" in content
    assert "feed.jsonl:3: body must be text, got int" in content
    assert 'id="count-errors">2<' in content
    assert response.context["confirm"] is None
    assert CONFIRM not in content
    assert not (data_dir / "uploads").exists()
    assert not Article.objects.exists()


def test_oversized_upload_is_refused_with_the_limit(curator_client, settings):
    settings.NEWSNOTES_MAX_IMPORT_BYTES = 1024
    response = preview(curator_client, "feed.jsonl", jsonl(*(story(n) for n in range(40))))
    assert response.status_code == 200
    assert "uploads are limited to 1.0\xa0KB" in response.content.decode()
    assert "report" not in response.context
    assert not Article.objects.exists()


def test_unknown_file_type_is_refused(curator_client):
    response = preview(curator_client, "feed.docx", b"PK")
    assert "is not a file type the import reads" in response.content.decode()


def test_confirm_is_all_or_nothing(curator_client, data_dir):
    response = preview(curator_client, "feed.jsonl", jsonl(story(1), story(2)))
    # The stored upload goes bad between preview and confirm: the second line no longer reads.
    (stored,) = (data_dir / "uploads").iterdir()
    stored.write_bytes(jsonl(story(1)) + b"{not json}\n")
    done = confirm(curator_client, response)
    messages = [str(m) for m in done.context["messages"]]
    assert messages == ["Nothing was imported: feed.jsonl:2: not valid JSON (Expecting property name enclosed in "
                        "double quotes at column 2)"]  # fmt: skip
    assert not Article.objects.exists()


def test_token_is_bound_to_the_session_and_used_once(curator_client, client, data_dir):
    response = preview(curator_client, "feed.jsonl", jsonl(story(1)))
    token = response.context["confirm"]["token"].value()
    other = UserFactory(username="cur2", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="add_article"))
    from django.test import Client

    stranger = Client()
    stranger.force_login(other)
    refused = stranger.post(CONFIRM, {"token": token}, follow=True)
    assert "This import is unknown or has expired" in refused.content.decode()
    assert not Article.objects.exists()

    curator_client.post(CONFIRM, {"token": token})
    assert Article.objects.count() == 1
    again = curator_client.post(CONFIRM, {"token": token}, follow=True)
    assert "This import is unknown or has expired" in again.content.decode()
    assert Article.objects.count() == 1


def test_cancel_discards_the_upload(curator_client, data_dir):
    response = preview(curator_client, "feed.jsonl", jsonl(story(1)))
    done = confirm(curator_client, response, cancel="Cancel")
    assert "Import cancelled; nothing was stored." in done.content.decode()
    assert list((data_dir / "uploads").iterdir()) == []
    assert not Article.objects.exists()


def test_staff_without_add_permission_cannot_import(client):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(viewer)
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(1)))}).status_code == 403
    assert client.post(CONFIRM, {"token": "x" * 32}).status_code == 403
    assert b"Import articles" not in client.get(reverse("admin:articles_article_changelist")).content


@pytest.mark.parametrize("role", ["editor", "reviewer", "researcher"])
def test_non_staff_roles_are_sent_to_the_admin_login(client, role, request):
    client.force_login(request.getfixturevalue(role))
    response = client.post(IMPORT, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(1)))})
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert not Article.objects.exists()
