"""The admin's "Import articles" pages: the upload is stored in PostgreSQL, the worker previews it (new,
duplicates, every error by file and line), Confirm queues the import, the worker runs it all or nothing, and
the job page shows each stage. Jobs run in the real worker against real PostgreSQL (``tests.jobs``)."""

import csv
import datetime as dt
import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotations.imports.jobs import import_jobs_prune
from annotations.imports.models import ImportChunk, ImportJob
from annotations.models import ArticleEvent, Span
from articles.models import Article
from tests.factories import ArticleFactory, UserFactory
from tests.html import one, parse, select, text
from tests.jobs import run_worker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

IMPORT = reverse("admin:articles_article_import")
FIXTURE = Path(__file__).parent.parent / "fixtures" / "html" / "larchfield_chip.html"


def job_url(job, name: str = "import_job") -> str:
    return reverse(f"admin:articles_article_{name}", args=[job.pk])


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


def upload(client, name: str, data: bytes) -> ImportJob:
    response = client.post(IMPORT, {"upload": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:500]
    match = re.fullmatch(r"/admin/articles/article/import/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return ImportJob.objects.get(pk=match.group(1))


def previewed(client, name: str, data: bytes) -> ImportJob:
    job = upload(client, name, data)
    run_worker()
    job.refresh_from_db()
    return job


def confirmed(client, job: ImportJob) -> ImportJob:
    response = client.post(job_url(job, "import_confirm"))
    assert response.status_code == 302 and response["Location"] == job_url(job)
    run_worker()
    job.refresh_from_db()
    return job


def status_region(client, job: ImportJob) -> str:
    response = client.get(job_url(job), headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="job-status"'), "the fragment only"
    return text


def test_changelist_links_to_the_import_page(curator_client):
    response = curator_client.get(reverse("admin:articles_article_changelist"))
    assert f'href="{IMPORT}"'.encode() in response.content
    assert b"Import articles" in response.content


def test_the_upload_is_stored_in_postgresql_previewed_by_the_worker_then_imported(curator_client, curator, data_dir):
    ArticleFactory(url="https://wire.example/2", title="Already here")
    data = jsonl(story(1), story(2), story(3))
    job = upload(curator_client, "feed.jsonl", data)

    # Stored in the database, not on the web process's disk; nothing read or imported yet.
    assert job.status == ImportJob.Status.QUEUED and job.owner == curator and job.size == len(data)
    assert b"".join(bytes(c) for c in job.chunks.order_by("seq").values_list("data", flat=True)) == data
    assert not (data_dir / "uploads").exists()
    page = curator_client.get(job_url(job))
    assert "Waiting for the worker" in page.content.decode()
    assert b'hx-trigger="every 1s"' in page.content  # the status region polls while the worker has the job
    assert "Waiting for the worker" in status_region(curator_client, job)

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert (job.preview["new"], job.preview["duplicates"], job.preview["errors"]) == (2, 1, [])
    assert [row["title"] for row in job.preview["new_sample"]] == ["Story 1", "Story 3"]
    region = status_region(curator_client, job)
    assert 'id="count-new">2<' in region and 'id="count-duplicates">1<' in region
    assert "feed.jsonl:2: Story 2 — url https://wire.example/2 is already in the corpus" in region
    assert "every 1s" not in region  # settled: the page stops polling until the curator confirms
    assert job_url(job, "import_confirm") in region
    assert not Article.objects.filter(title__startswith="Story").exists()
    assert job.chunks.exists()  # kept for the confirmation

    response = curator_client.post(job_url(job, "import_confirm"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CONFIRMED and job.total == 3
    region = status_region(curator_client, job)
    assert "Confirmed: waiting for the worker" in region and "every 1s" in region

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FINISHED and job.processed == job.total == 3
    assert job.result["created"] == 2 and job.result["duplicates"] == 1
    assert set(Article.objects.filter(title__startswith="Story").values_list("title", flat=True)) == {
        "Story 1",
        "Story 3",
    }
    assert not job.chunks.exists()  # the file is gone once it cannot be confirmed again
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    page = parse(curator_client.get(job_url(job)).content)
    assert text(one(page, "#import-result")) == ("Imported 2 articles from feed.jsonl; skipped 1 duplicate.")
    assert one(page, "#job-status").get("hx-trigger") is None
    # The history records who imported them, as when the page imported in the request.
    event = ArticleEvent.objects.select_related("pgh_context").get(title="Story 1", pgh_label="insert")
    assert event.pgh_context.metadata["user"] == curator.pk
    assert event.pgh_context.metadata["import_job"] == str(job.pk)


def test_a_file_of_several_chunks_comes_back_whole(curator_client, monkeypatch):
    monkeypatch.setattr("annotations.imports.jobs.FILE_CHUNK_BYTES", 64)
    data = jsonl(*(story(n) for n in range(1, 6)))
    job = previewed(curator_client, "feed.jsonl", data)
    assert ImportChunk.objects.filter(job=job).count() == -(-len(data) // 64) > 3
    assert job.preview["new"] == 5
    assert confirmed(curator_client, job).result["created"] == 5


def test_each_format_imports(curator_client):
    files = {
        "sheet.csv": csv_bytes(story(1), story(2)),
        "note.txt": b"A plain title\nThe body of a plain text article.",
        "page.html": FIXTURE.read_bytes(),
        "batch.zip": zip_bytes({"a.jsonl": jsonl(story(4)), "c.txt": b"Txt title\nTxt body"}),
    }
    jobs = [upload(curator_client, name, data) for name, data in files.items()]
    run_worker()
    for job in jobs:
        job.refresh_from_db()
        assert job.preview["errors"] == [] and job.preview["confirmable"], job.name
        assert curator_client.post(job_url(job, "import_confirm")).status_code == 302
    run_worker()
    assert [ImportJob.objects.get(pk=job.pk).status for job in jobs] == ["finished"] * 4
    assert set(Article.objects.values_list("title", flat=True)) == {
        "Story 1",
        "Story 2",
        "A plain title",
        "Larchfield ships its first RISC-V laptop chip",
        "Story 4",
        "Txt title",
    }
    article = Article.objects.get(title__startswith="Larchfield")
    assert article.body.endswith("Try it free for 30 days at quillix.example.")
    assert "Subscribe to our newsletter" not in article.body
    assert article.byline == "Mara Okonkwo" and article.source.domain == "wirefeed.example"


def test_bad_lines_are_all_shown_and_nothing_can_be_confirmed(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1), story(2, title=""), story(3, body=7)))
    assert job.status == ImportJob.Status.PREVIEWED and not job.confirmable
    region = status_region(curator_client, job)
    assert "feed.jsonl:2: title is empty" in region
    assert "feed.jsonl:3: body must be text, got int" in region
    assert 'id="count-errors">2<' in region
    assert job_url(job, "import_confirm") not in region
    assert not job.chunks.exists()  # nothing to confirm: the file is not kept
    # A forged Confirm changes nothing.
    refused = curator_client.post(job_url(job, "import_confirm"), follow=True)
    assert "This import can no longer be confirmed." in refused.content.decode()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PREVIEWED
    run_worker()
    assert not Article.objects.exists()


def test_oversized_and_unknown_uploads_are_refused_before_any_job(curator_client, settings):
    settings.NEWSNOTES_MAX_IMPORT_BYTES = 1024
    response = curator_client.post(
        IMPORT, {"upload": SimpleUploadedFile("feed.jsonl", jsonl(*(story(n) for n in range(40))))}
    )
    assert response.status_code == 200
    assert "uploads are limited to 1.0\xa0KB" in response.content.decode()
    response = curator_client.post(IMPORT, {"upload": SimpleUploadedFile("feed.docx", b"PK")})
    assert "is not a file type the import reads" in response.content.decode()
    assert not ImportJob.objects.exists() and not ImportChunk.objects.exists()


def test_a_failure_during_the_import_names_file_and_line_and_stores_nothing(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1), story(2)))
    # The stored upload goes bad between preview and confirm: the second line no longer reads. The import's
    # own reading fails, after the first batch would have been read: all or nothing.
    ImportChunk.objects.filter(job=job).update(data=jsonl(story(1)) + b"{not json}\n")

    job = confirmed(curator_client, job)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == ("feed.jsonl:2: not valid JSON (Expecting property name enclosed in double quotes at column 2)")
    assert not Article.objects.exists() and not Span.objects.exists()
    assert not job.chunks.exists()
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1
    page = parse(curator_client.get(job_url(job)).content)
    assert text(one(page, "#job-status h2")) == "The import failed"
    alert = one(page, "#import-error")
    assert alert.get("role") == "alert"
    assert text(alert).startswith("Nothing was stored. feed.jsonl:2: not valid JSON")
    assert one(page, "#job-status").get("hx-trigger") is None


def test_a_failure_inside_the_transaction_rolls_every_article_back(curator_client, labels):
    """The articles are stored when the spans' annotator turns out unknown: the import says where, keeps none."""
    body = "Alice Hart said the chip ships in May."
    line = {
        "text": body,
        "label": [[0, 10, "PERSON"]],
        "spans": [{"start": 0, "end": 10, "label": "PERSON", "text": "Alice Hart", "annotator": "ghost"}],
    }
    job = previewed(curator_client, "feed.jsonl", jsonl(line))
    assert job.preview["confirmable"] and job.preview["new"] == 1  # the preview cannot know the annotators

    job = confirmed(curator_client, job)

    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("feed.jsonl:1: unknown annotator(s): 'ghost'"), job.error
    assert not Article.objects.exists() and not Span.objects.exists()
    assert "Nothing was stored. feed.jsonl:1: unknown annotator" in status_region(curator_client, job)


def test_progress_is_shown_while_the_import_runs(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1), story(2)))
    # What the page sees while the worker is between two batches of a large import.
    ImportJob.objects.filter(pk=job.pk).update(status="importing", total=400, processed=100)
    page = parse(status_region(curator_client, job))
    region = one(page, "#job-status")
    assert region.get("hx-trigger") == "every 1s" and region.get("hx-get") == job_url(job)
    assert "100 of 400 records stored so far" in text(region)
    assert one(page, "#import-progress").get("value") == "25"
    assert one(page, "form[action$='/cancel/'] input[type=submit]").get("value") == ("Cancel the import (roll back)")


def test_cancel_before_the_import_deletes_the_upload(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1)))
    assert curator_client.post(job_url(job, "import_cancel")).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and not job.chunks.exists()
    assert "The import was cancelled; nothing was stored." in status_region(curator_client, job)
    assert curator_client.post(job_url(job, "import_confirm")).status_code == 302
    run_worker()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CANCELLED
    assert not Article.objects.exists()


def test_cancel_during_the_import_rolls_it_back(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1), story(2)))
    assert curator_client.post(job_url(job, "import_confirm")).status_code == 302
    # Cancel pressed just after the worker claimed the import: the worker sees it at its next progress report.
    ImportJob.objects.filter(pk=job.pk).update(status="importing")
    assert curator_client.post(job_url(job, "import_cancel")).status_code == 302
    ImportJob.objects.filter(pk=job.pk).update(status="confirmed")
    assert ImportJob.objects.get(pk=job.pk).cancel_requested
    run_worker()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and not job.chunks.exists()
    assert not Article.objects.exists()


def test_confirm_twice_imports_once(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1)))
    curator_client.post(job_url(job, "import_confirm"))
    again = curator_client.post(job_url(job, "import_confirm"), follow=True)
    assert "This import can no longer be confirmed." in again.content.decode()
    run_worker()
    assert Article.objects.count() == 1
    # One preview, one import, and the boilerplate check the import queued with its article.
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "annotations.imports.jobs.run_import",
        "annotations.imports.jobs.run_import_preview",
        "annotations.suggestions.imports.import_checks",
    ]


def test_other_curators_see_the_job_read_only(curator_client, curator):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1)))
    other = UserFactory(username="cur2", is_staff=True)
    other.groups.add(Group.objects.get(name="Curators"))
    colleague = Client()
    colleague.force_login(other)
    listing = parse(colleague.get(IMPORT).content)
    assert [text(a) for a in select(listing, ".nn-import-jobs td a")] == ["feed.jsonl"]
    region = status_region(colleague, job)
    assert "Waiting for cur to confirm this import." in region
    assert "import_confirm" not in region and "/confirm/" not in region and "/cancel/" not in region
    assert colleague.post(job_url(job, "import_confirm")).status_code == 403
    assert colleague.post(job_url(job, "import_cancel")).status_code == 403
    run_worker()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PREVIEWED
    assert not Article.objects.exists()


def test_permissions(client, curator_client, editor, reviewer, researcher):
    job = upload(curator_client, "feed.jsonl", jsonl(story(1)))
    gets = [IMPORT, job_url(job)]
    posts = [IMPORT, job_url(job, "import_confirm"), job_url(job, "import_cancel")]
    login = reverse("admin:login")

    anonymous = Client()
    for url in gets:
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    for url in posts:
        response = anonymous.post(url, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(2)))})
        assert response.status_code == 302 and response["Location"].startswith(login), url

    # Editors, reviewers and researchers are not staff: the admin sends them to its login page.
    for user in (editor, reviewer, researcher):
        desk = Client()
        desk.force_login(user)
        for url in gets:
            assert desk.get(url)["Location"].startswith(login), (user, url)
        for url in posts:
            response = desk.post(url, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(2)))})
            assert response.status_code == 302 and response["Location"].startswith(login), (user, url)

    # Staff who may only view articles cannot import, nor look at imports.
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_article"))
    staff = Client()
    staff.force_login(viewer)
    for url in gets:
        assert staff.get(url).status_code == 403, url
    for url in posts:
        assert staff.post(url, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(2)))}).status_code == 403
    assert b"Import articles" not in staff.get(reverse("admin:articles_article_changelist")).content

    # Every write needs the CSRF token.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(job.owner)
    for url in posts:
        assert strict.post(url, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(2)))}).status_code == 403
    token = select(strict.get(IMPORT).content, "input[name=csrfmiddlewaretoken]")[0].get("value")
    ok = strict.post(IMPORT, {"upload": SimpleUploadedFile("f.jsonl", jsonl(story(2))), "csrfmiddlewaretoken": token})
    assert ok.status_code == 302

    assert ImportJob.objects.count() == 2  # the curator's two uploads, nobody else's
    run_worker()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PREVIEWED
    assert not Article.objects.exists()


def test_unconfirmed_uploads_expire_and_old_jobs_are_deleted(curator_client, settings):
    settings.NEWSNOTES_IMPORT_RETENTION_HOURS = 24
    waiting, done, fresh = (previewed(curator_client, f"f{n}.jsonl", jsonl(story(n))) for n in range(3))
    confirmed(curator_client, done)
    long_ago = timezone.now() - dt.timedelta(hours=25)
    ImportJob.objects.filter(pk__in=[waiting.pk, done.pk]).update(created_at=long_ago)
    ImportJob.objects.filter(pk=done.pk).update(finished_at=long_ago)

    import_jobs_prune()

    waiting.refresh_from_db()
    assert waiting.status == ImportJob.Status.CANCELLED and "Not confirmed in time" in waiting.error
    assert not waiting.chunks.exists()
    assert not ImportJob.objects.filter(pk=done.pk).exists()
    assert ImportJob.objects.get(pk=fresh.pk).status == ImportJob.Status.PREVIEWED and fresh.chunks.exists()
    assert Article.objects.count() == 1  # deleting the job record never touches what it imported


def test_a_job_whose_worker_died_shows_as_stalled_then_failed(curator_client):
    job = previewed(curator_client, "feed.jsonl", jsonl(story(1)))
    curator_client.post(job_url(job, "import_confirm"))
    # What a SIGKILLed worker leaves behind: an import without progress; its transaction died with it.
    long_ago = timezone.now() - dt.timedelta(minutes=11)
    ImportJob.objects.filter(pk=job.pk).update(status="importing", progress_at=long_ago)
    assert "the worker may have stopped" in status_region(curator_client, job)

    import_jobs_prune()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "worker stopped" in job.error and not job.chunks.exists()
    assert "Nothing was stored." in status_region(curator_client, job)


def test_the_worker_beats_while_the_import_reports_no_progress(curator_client, monkeypatch):
    """Parts of corpus_import report no progress; the heartbeat keeps such an import from looking stalled."""
    from annotations.imports import jobs

    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.01)
    real_import = jobs.corpus_import
    beats = []

    def import_after_a_beat(**kwargs):
        claimed = ImportJob.objects.get(status="importing").progress_at
        for _ in range(1000):  # a long step without progress calls, until the heartbeat has written
            now = ImportJob.objects.get(status="importing").progress_at
            if now > claimed:
                beats.append(now)
                break
            time.sleep(0.01)
        return real_import(**kwargs)

    monkeypatch.setattr(jobs, "corpus_import", import_after_a_beat)
    job = confirmed(curator_client, previewed(curator_client, "feed.jsonl", jsonl(story(1))))
    assert job.status == ImportJob.Status.FINISHED and len(beats) == 1
