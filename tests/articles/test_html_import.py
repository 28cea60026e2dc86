"""HTML pages through trafilatura, zips of importable files, and the preview reader that reports every error."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.importers import ImportFailure, archive, html
from articles.importers.preview import read_upload_report
from articles.importers.registry import read_upload
from articles.models import Article

FIXTURE = Path(__file__).parent.parent / "fixtures" / "html" / "larchfield_chip.html"
SPONSORED = (
    "Sponsored: Quillix OS is the privacy-first Linux distribution for RISC-V laptops, with full-disk "
    "encryption and no telemetry. Try it free for 30 days at quillix.example."
)


def test_html_page_becomes_an_article_with_its_metadata():
    (record,) = html.read(FIXTURE)
    assert record.title == "Larchfield ships its first RISC-V laptop chip"
    assert record.byline == "Mara Okonkwo"
    assert record.published_at.isoformat() == "2026-03-04T09:30:00+00:00"
    assert record.url == "https://wirefeed.example/tech/larchfield-risc-v-laptop-chip"
    assert record.source == "wirefeed.example"
    assert record.language == "en"
    paragraphs = record.body.split("\n\n")
    assert paragraphs[0].startswith("Larchfield Systems said on Tuesday")
    assert len(paragraphs) == 5


def test_html_keeps_the_sponsored_paragraph_and_drops_the_chrome():
    (record,) = html.read(FIXTURE)
    assert record.body.split("\n\n")[-1] == SPONSORED
    for chrome in ["Subscribe to our newsletter", "Search Wirefeed", "Related stories", "Arm laptops in 2026",
                   "All rights reserved", "Cookie settings", "Home", "By Mara Okonkwo"]:  # fmt: skip
        assert chrome not in record.body, chrome
    # The headline is the title, not the first paragraph of the text.
    assert "laptop chip" not in record.body.split("\n\n")[0]


@pytest.mark.parametrize(
    "page",
    [
        "<html><body><img src='chart.png' alt=''></body></html>",
        "<html><body><nav><a href='/'>Home</a></nav></body></html>",
        "<html><body><nav><ul><li><a href='/a'>News</a></li><li><a href='/b'>Reviews</a></li></ul></nav>"
        "<footer><p>(c) 2026 Wirefeed. All rights reserved.</p></footer></body></html>",
    ],
)
def test_html_without_article_text_is_refused(tmp_path, page):
    path = tmp_path / "empty.html"
    path.write_text(page, encoding="utf-8")
    with pytest.raises(ImportFailure, match=r"empty\.html: no article text found"):
        list(html.read(path))


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_file:
        for name, data in files.items():
            archive_file.writestr(name, data)
    return buffer.getvalue()


def jsonl(*rows) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode() + b"\n"


def story(n: int, **extra) -> dict:
    return {"title": f"Story {n}", "body": f"Body of story {n}.", "url": f"https://wire.example/{n}"} | extra


def test_zip_reads_each_member_with_its_reader_in_name_order():
    data = zip_bytes(
        {
            "b/two.jsonl": jsonl(story(2), story(3)),
            "a.txt": b"Plain title\nPlain body.",
            "c.html": FIXTURE.read_bytes(),
            "__MACOSX/._a.txt": b"resource fork",
            "notes.md": b"not an article",
        }
    )
    records = list(read_upload("batch.zip", data))
    assert [r.title for r in records] == [
        "Plain title",
        "Story 2",
        "Story 3",
        "Larchfield ships its first RISC-V laptop chip",
    ]
    assert records[2].location == "batch.zip/b/two.jsonl:2"
    assert archive.unpack(Path("batch.zip"), data).skipped == ["notes.md"]


def test_zip_bomb_is_refused_before_it_is_unpacked(settings):
    settings.NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES = 1024 * 1024
    data = zip_bytes({"big.txt": b"Title\n" + b"a" * (2 * 1024 * 1024)})
    assert len(data) < 10_000
    with pytest.raises(ImportFailure, match="unpacks to more than 1 MB"):
        list(read_upload("bomb.zip", data))


def test_zip_member_lying_about_its_size_is_cut_off(settings):
    settings.NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES = 1024 * 1024
    data = bytearray(zip_bytes({"big.txt": b"Title\n" + b"a" * (2 * 1024 * 1024)}))
    # Rewrite the declared uncompressed size (local header and central directory) to 100 bytes.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at : at + 4] = (100).to_bytes(4, "little")
    # zipfile stops at the declared size and then fails the CRC check: the lie is caught, not trusted.
    with pytest.raises(ImportFailure, match=r"liar\.zip/big\.txt: cannot be unpacked"):
        list(read_upload("liar.zip", bytes(data)))


def test_zip_with_too_many_files_or_nested_zips_is_refused(settings):
    settings.NEWSNOTES_MAX_IMPORT_FILES = 3
    many = zip_bytes({f"{n}.txt": b"T\nB" for n in range(4)})
    with pytest.raises(ImportFailure, match="holds 4 files; at most 3"):
        list(read_upload("many.zip", many))
    nested = zip_bytes({"inner.zip": zip_bytes({"a.txt": b"T\nB"})})
    with pytest.raises(ImportFailure, match="a zip inside a zip"):
        list(read_upload("nested.zip", nested))
    with pytest.raises(ImportFailure, match="not a valid zip"):
        list(read_upload("broken.zip", b"PK not really"))


def test_preview_reports_every_bad_line_with_its_original_number():
    data = jsonl(story(1), story(2, title=""), story(3)) + b"{broken\n" + jsonl(story(5), story(6, url="ftp://x"))
    report = read_upload_report("feed.jsonl", data)
    assert [str(f) for f in report.failures] == [
        "feed.jsonl:2: title is empty",
        "feed.jsonl:4: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "feed.jsonl:6: url 'ftp://x' must start with http:// or https://",
    ]
    assert [(r.title, r.location) for r in report.records] == [
        ("Story 1", "feed.jsonl:1"),
        ("Story 3", "feed.jsonl:3"),
        ("Story 5", "feed.jsonl:5"),
    ]


def test_preview_reads_csv_rows_after_a_bad_multiline_row():
    text = (
        "title,body,url\n"
        'One,"first\nparagraph",https://a.example/1\n'
        ',"no title\nat all",https://a.example/2\n'
        "Three,third,notaurl\n"
        "Four,fourth,https://a.example/4\n"
    )
    report = read_upload_report("sheet.csv", text.encode())
    assert [str(f) for f in report.failures] == [
        "sheet.csv:4: title is empty",
        "sheet.csv:6: url 'notaurl' must start with http:// or https://",
    ]
    assert [(r.title, r.location) for r in report.records] == [("One", "sheet.csv:2"), ("Four", "sheet.csv:7")]


def test_preview_reports_errors_from_every_file_of_a_zip():
    data = zip_bytes({"a.jsonl": jsonl(story(1), {"body": "x"}), "b.txt": b"\n\n", "c.csv": b"body\nx\n"})
    report = read_upload_report("batch.zip", data)
    assert [str(f) for f in report.failures] == [
        "batch.zip/a.jsonl:2: title is empty",
        "batch.zip/b.txt:1: the first line (the title) is empty",
        "batch.zip/c.csv:1: header lacks column(s) title; expected body, byline, language, metadata, "
        "published_at, source, title, url",
    ]
    assert [r.title for r in report.records] == ["Story 1"]


@pytest.mark.django_db
def test_import_command_reads_html_and_zip(tmp_path):
    (tmp_path / "page.html").write_bytes(FIXTURE.read_bytes())
    (tmp_path / "batch.zip").write_bytes(zip_bytes({"s.jsonl": jsonl(story(7))}))
    call_command("import_articles", str(tmp_path / "page.html"), str(tmp_path / "batch.zip"), stdout=io.StringIO())
    assert set(Article.objects.values_list("title", flat=True)) == {
        "Larchfield ships its first RISC-V laptop chip",
        "Story 7",
    }
    assert Article.objects.get(title="Story 7").url == "https://wire.example/7"
