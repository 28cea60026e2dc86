import csv
import json

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Span
from articles.models import Article, Source
from tests.commands import run_command

pytestmark = pytest.mark.django_db


def row(n, **extra):
    return {
        "title": f"Story {n}",
        "body": f"Body of story {n}.\n\nSecond paragraph.",
        "url": f"https://wire.example/{n}",
        "source": "wire.example",
        "byline": "A. Writer",
        "published_at": "2026-03-04T05:06:07Z",
        "language": "en",
        "metadata": {"section": "AI"},
    } | extra


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def run(*args) -> str:
    return run_command("import_articles", *args)


def test_jsonl_import(tmp_path):
    message = run(write_jsonl(tmp_path / "a.jsonl", [row(1), row(2, body="Emoji 👩‍💻 and\r\nCRLF")]))
    assert "imported 2 articles" in message
    first = Article.objects.get(url="https://wire.example/1")
    assert first.source == Source.objects.get(domain="wire.example")
    assert first.published_at.isoformat() == "2026-03-04T05:06:07+00:00"
    assert first.metadata == {"section": "AI"}
    assert Article.objects.get(url="https://wire.example/2").body == "Emoji 👩‍💻 and\nCRLF"


def test_csv_import_keeps_quoted_newlines(tmp_path):
    path = tmp_path / "a.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["title", "body", "url", "source", "metadata"])
        writer.writeheader()
        writer.writerow(
            {"title": "One", "body": 'He said "yes",\r\nthen left.', "url": "", "source": "", "metadata": ""}
        )
        writer.writerow(
            {"title": "Two", "body": "Plain", "url": "https://x.example/2", "source": "x", "metadata": '{"a": 1}'}
        )
    assert "imported 2 articles" in run(path)
    one = Article.objects.get(title="One")
    assert one.body == 'He said "yes",\nthen left.'
    assert one.url is None and one.source is None
    assert Article.objects.get(title="Two").metadata == {"a": 1}


def test_txt_folder_import(tmp_path):
    (tmp_path / "one.txt").write_text("First title\n\nFirst body line.\nSecond line.\n", encoding="utf-8")
    (tmp_path / "two.txt").write_text("Second title\nAnother body.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    assert "imported 2 articles" in run(tmp_path)
    assert Article.objects.get(title="First title").body == "First body line.\nSecond line.\n"


def test_malformed_line_stops_everything(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(row(1)) + "\n" + json.dumps(row(2)) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad\.jsonl:3: not valid JSON") as err:
        run(path)
    assert err.value.returncode == 1
    assert Article.objects.count() == 0 and Source.objects.count() == 0


def test_error_in_second_file_stores_nothing_from_the_first(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [row(1)])
    bad = write_jsonl(tmp_path / "bad.jsonl", [row(2), row(3, body="   ")])
    with pytest.raises(CommandError, match=r"bad\.jsonl:2: body is empty"):
        run(good, bad)
    assert Article.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"title": "t", "body": "a\\u0000b"}\n', r":1: body contains a NUL byte"),
        (b'{"title": "t", "body": "ok"}\n{"title": "t2", "body": "caf\xe9"}\n', r":2: invalid UTF-8"),
        (b'{"title": "", "body": "x"}\n', r":1: title is empty"),
        (b'{"title": "t", "body": "x", "published_at": "yesterday"}\n', r":1: published_at 'yesterday'"),
        (b'["a list"]\n', r":1: each line must be a JSON object"),
        (b'{"title": "t", "body": "x", "url": "ftp://x"}\n', r":1: url 'ftp://x' must start with http"),
    ],
)
def test_clear_errors(tmp_path, content, message):
    path = tmp_path / "in.jsonl"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run(path)
    assert Article.objects.count() == 0


def test_csv_errors_name_the_line(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('title,body\nok,"fine"\nbad,"one",extra\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"in\.csv:3: row has 3 cells, the header has 2"):
        run(path)
    path.write_text("title,text\nx,y\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"in\.csv:1: header lacks column\(s\) body"):
        run(path)


def test_duplicates_are_skipped_and_counted(tmp_path):
    run(write_jsonl(tmp_path / "a.jsonl", [row(1)]))
    message = run(
        write_jsonl(
            tmp_path / "b.jsonl",
            [row(1), row(2, body=row(1)["body"]), row(3, url="https://wire.example/1"), row(4), row(4, url=None)],
        )
    )
    assert "imported 1 article and 0 spans; skipped 4 duplicates" in message
    assert Article.objects.count() == 2


def test_unknown_file_type_and_missing_path(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(CommandError, match=r"x\.pdf: unknown file type '\.pdf'"):
        run(tmp_path / "x.pdf")
    with pytest.raises(CommandError, match="no such file or folder"):
        run(tmp_path / "missing.jsonl")


def test_load_demo_is_idempotent_and_prints_logins(capsys):
    call_command("load_demo")
    first = capsys.readouterr().out
    articles, spans = Article.objects.count(), Span.objects.count()
    call_command("load_demo")
    assert "editor-newsnotes" in first and "curator-newsnotes" in first
    assert articles >= 12 and spans >= 2
    assert (Article.objects.count(), Span.objects.count()) == (articles, spans)
    sponsored = Article.objects.filter(body__contains="Quillix OS is the privacy-first").count()
    assert sponsored >= 5
    assert Article.objects.filter(body__contains="\u200d").exists()  # a ZWJ emoji sequence
    assert "editor2-newsnotes" in first and "editor3-newsnotes" in first
    labelled = Article.objects.filter(spans__isnull=False).distinct()
    # The review demo: three editors finished a few articles, one of which a reviewer settled into gold.
    assert {a.status for a in labelled} == {
        Article.Status.IN_ANNOTATION,
        Article.Status.READY_FOR_REVIEW,
        Article.Status.REVIEWED,
    }
    reviewed = Article.objects.get(status=Article.Status.REVIEWED)
    assert reviewed.gold_spans.exists()
    assert Article.objects.filter(status=Article.Status.READY_FOR_REVIEW).count() >= 2
    assert {s.annotator.username for s in reviewed.spans.select_related("annotator")} >= {"editor2", "editor3"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_article_stored_meanwhile_by_someone_else_is_refused_with_its_line(tmp_path):
    """The duplicate checks run before each batch's COPY; an article another session stores in between (a curator,
    a second import) reaches the database's unique index first. The import waits for that session, then is refused
    naming the line of the file, and stores nothing: no traceback."""
    import threading

    import psycopg
    from django.db import connection

    path = write_jsonl(tmp_path / "a.jsonl", [row(1), row(2), row(3)])
    settings = connection.settings_dict
    server = {
        "host": settings["HOST"],
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": settings["NAME"],
    }
    competitor = psycopg.connect(**server)
    competitor.execute(
        "INSERT INTO articles_article (title, url, byline, language, body, body_sha256, status, imported_at, "
        "metadata) VALUES ('Theirs', 'https://wire.example/2', '', 'en', 'Their body.', "
        "encode(sha256('Their body.'), 'hex'), 'new', now(), '{}')"
    )
    done = threading.Event()

    def commit_once_the_import_waits() -> None:
        with psycopg.connect(**server, autocommit=True) as watcher:
            while not done.is_set():
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'COPY articles_article%%'"
                ).fetchone()[0]
                if waiting:
                    break
                done.wait(0.01)
        competitor.commit()

    thread = threading.Thread(target=commit_once_the_import_waits)
    thread.start()
    try:
        with pytest.raises(CommandError) as refused:
            run(path)
    finally:
        done.set()
        thread.join()
        competitor.close()
    message = str(refused.value)
    assert message.startswith(f"{path}:2: ")
    assert "https://wire.example/2" in message and "already" in message
    assert list(Article.objects.values_list("title", flat=True)) == ["Theirs"]
