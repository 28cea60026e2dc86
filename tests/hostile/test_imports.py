"""What a careless or hostile import file can do, and what it gets back: a `file:line` message, nothing stored.

Each case is tried through both doors a user meets: ``manage.py import_articles`` and the admin's import page
(preview, and Confirm for a file that slips past the preview).
"""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.models import Span
from articles.models import Article
from tests.jobs import admin_confirm, admin_preview

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:articles_article_import")
GOOD = {"title": "Fine", "body": "A perfectly ordinary body of text."}


def line(**fields) -> str:
    return json.dumps(GOOD | fields)


DEEP = '{"title":"Deep","body":"deep body","metadata":' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"
# Distinct words give PostgreSQL's full-text vector an entry each: this body's vector passes its 1 MB limit.
MANY_WORDS = " ".join("q" + "".join(chr(97 + n // 26**k % 26) for k in range(5)) for n in range(140_000))

# (what the file holds, the JSON Lines text, what the user is told after "file:2: ")
HOSTILE_LINES = [
    ("a date past year 9999 in UTC", line(published_at="9999-12-31T23:59:59-12:00"), "published_at"),
    ("a date before year 1 in UTC", line(published_at="0001-01-01T00:00:00+14:00"), "published_at"),
    ("a date in year 10", line(published_at="0010-06-01"), "between the years 1000 and 9998"),
    ("a language tag over 16 characters", line(language="x" * 17), "language"),
    ("a byline over 300 characters", line(byline="b" * 301), "byline is 301 characters; at most 300"),
    ("a source over 200 characters", line(source="s" * 201 + ".example"), "source is 209 characters; at most 200"),
    ("a url over 2,000 characters", line(url="https://x.example/" + "p" * 2000), "url is 2018 characters"),
    ("a NUL character in metadata", line(metadata={"k": "a\u0000b"}), "metadata contains a NUL"),
    ("a NUL character in a metadata key", line(metadata={"a\u0000": 1}), "metadata contains a NUL"),
    ("NaN in metadata", '{"title":"t","body":"b b","metadata":{"x":NaN}}', "NaN"),
    ("Infinity in metadata", '{"title":"t","body":"b b","metadata":{"x":-Infinity}}', "-Infinity"),
    ("metadata nested 5,000 deep", DEEP, "nested too deeply"),
    ("metadata that is a list", line(metadata=[1, 2]), "metadata must be a JSON object"),
    ("a body over the length limit", line(body="x" * 1_000_001), "body is 1000001 characters; at most 1000000"),
    ("a language tag that is not BCP-47", line(language="en_US!"), "language"),
]


def jsonl(*lines: str) -> bytes:
    return ("\n".join([line(title="The good first line"), *lines]) + "\n").encode()


def run_cli(path) -> str:
    with pytest.raises(CommandError) as err:
        call_command("import_articles", str(path), stdout=io.StringIO())
    return str(err.value)


@pytest.mark.parametrize(("case", "text", "message"), HOSTILE_LINES, ids=[c[0] for c in HOSTILE_LINES])
def test_cli_refuses_with_file_and_line(tmp_path, case, text, message):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(text))
    error = run_cli(path)
    assert error.startswith(f"{path}:2: ")
    assert message in error
    assert not Article.objects.exists()


@pytest.mark.parametrize(("case", "text", "message"), HOSTILE_LINES, ids=[c[0] for c in HOSTILE_LINES])
def test_admin_preview_lists_the_error_and_offers_no_confirm(curator_client, case, text, message):
    job = admin_preview(curator_client, "feed.jsonl", jsonl(text))
    failures = job.preview["errors"]
    assert len(failures) == 1 and failures[0].startswith("feed.jsonl:2: ") and message in failures[0]
    assert not job.confirmable
    assert not Article.objects.exists()


def test_a_body_too_rich_for_the_full_text_index_is_refused(tmp_path, curator_client):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(line(body=MANY_WORDS)))
    error = run_cli(path)
    assert error.startswith(f"{path}:2: ") and "full-text" in error
    job = admin_preview(curator_client, "feed.jsonl", path.read_bytes())
    assert job.preview["errors"] == [error.replace(str(path), "feed.jsonl")]
    assert not Article.objects.exists()


def test_csv_metadata_with_nan_is_refused(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text('title,body,metadata\nT,Some body,"{""x"": NaN}"\n', encoding="utf-8")
    assert run_cli(path) == f"{path}:2: metadata holds NaN, which JSON does not allow"


def test_csv_with_a_million_columns_gets_a_short_message(tmp_path, curator_client):
    header = ",".join(["title", "body", *(f"c{n}" for n in range(1_000_000))])
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n", encoding="utf-8")
    error = run_cli(path)
    assert error.startswith(f"{path}:1: the header has 1000002 columns; at most 64")
    assert len(error) < 500
    job = admin_preview(curator_client, "wide.csv", path.read_bytes())
    assert job.preview["errors"] == [error.replace(str(path), "wide.csv")]
    response = curator_client.get(reverse("admin:articles_article_import_job", args=[job.pk]))
    assert error.replace(str(path), "wide.csv") in response.content.decode()
    assert len(response.content) < 100_000


def test_html_lang_is_stored_as_bcp47(tmp_path):
    page = (
        '<html lang="en_US"><head><title>Chip news</title></head><body><article><h1>Chip news</h1>'
        "<p>Larchfield Systems said on Tuesday that its first laptop chip ships in May to reviewers.</p>"
        "<p>The company expects volume shipments in the autumn, according to its chief executive.</p>"
        "</article></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    call_command("import_articles", str(path), stdout=io.StringIO())
    assert Article.objects.get().language == "en-US"


def test_language_field_is_normalised_to_bcp47(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(line(title="Two", body="Second body", language="zh_hant_tw")))
    call_command("import_articles", str(path), stdout=io.StringIO())
    assert sorted(Article.objects.values_list("language", flat=True)) == ["", "zh-Hant-TW"]


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_is_refused_at_preview_and_at_confirm(curator_client, settings, tmp_path):
    small = zip_of({"a.jsonl": jsonl()})
    job = admin_preview(curator_client, "batch.zip", small)
    assert job.confirmable
    # The limit drops between preview and confirm (or the stored file was swapped): the import checks again.
    settings.NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES = 10
    job = admin_confirm(curator_client, job)
    assert job.status == "failed" and "unpacks to more than" in job.error
    assert not Article.objects.exists()
    bomb = zip_of({"a.txt": b"Title\n" + b"x" * 200})
    job = admin_preview(curator_client, "bomb.zip", bomb)
    assert job.preview["errors"] == ["bomb.zip: the archive unpacks to more than 10 bytes"]


def test_label_names_match_case_insensitively_at_import(tmp_path, labels, editor):
    doccano = json.dumps({"text": "Mara Okonkwo spoke.", "label": [[0, 12, "person"]]})
    path = tmp_path / "spans.jsonl"
    path.write_text(doccano + "\n", encoding="utf-8")
    call_command("import_articles", str(path), "--annotator", editor.username, stdout=io.StringIO())
    assert Span.objects.get().label == labels["person"]


def label_studio_task(**value) -> dict:
    region = {"type": "labels", "value": value}
    return {"data": {"text": "Mara Okonkwo spoke."}, "annotations": [{"result": [region]}]}


@pytest.mark.parametrize(
    ("case", "text", "message"),
    [
        (
            "a result whose value is a string",
            json.dumps(
                [
                    {
                        "data": {"text": "Mara spoke."},
                        "annotations": [{"result": [{"type": "labels", "value": "PERSON"}]}],
                    }
                ]
            ),
            "spans.json:task 1: annotation 1: a result's value must be a JSON object",
        ),
        ("NaN in a task", '[{"data": {"text": "Mara spoke.", "score": NaN}}]', "spans.json: holds NaN"),
        (
            "Infinity in a result",
            '[{"data": {"text": "x"}, "annotations": [{"result": [{"value": {"start": Infinity}}]}]}]',
            "spans.json: holds Infinity",
        ),
    ],
    ids=["value string", "NaN", "Infinity"],
)
def test_label_studio_files_are_refused_with_file_and_task(tmp_path, labels, editor, case, text, message):
    path = tmp_path / "spans.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("import_articles", str(path), "--annotator", editor.username, stdout=io.StringIO())
    assert message in str(err.value)
    assert not Article.objects.exists()
