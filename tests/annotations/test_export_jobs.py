"""The export page's Download as a background job: lifecycle over HTTP, who may see what, the finished file,
failures, retention. The job runs in the real worker (django-tasks-db's ``Worker``) against real PostgreSQL;
the tests are transactional because the job writes its file over a second connection, as in production."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotations.exports.jobs import export_jobs_prune
from annotations.exports.models import ExportChunk, ExportJob
from annotations.models import Label, Span
from tests.annotations.export_fixtures import build_corpus
from tests.factories import UserFactory
from tests.jobs import run_worker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

START = reverse("annotations:export-job-create")


def user_in(group: str, name: str):
    user = UserFactory(username=name)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def corpus():
    return build_corpus()


@pytest.fixture
def researcher_client(client, corpus):
    client.force_login(user_in("Researchers", "researcher"))
    return client


def job_id_from(response) -> str:
    assert response.status_code == 302
    match = re.fullmatch(r"/export/jobs/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def cli_bytes(tmp_path, *args: str) -> bytes:
    path = tmp_path / "cli.out"
    call_command("export_spans", *args, "-o", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return path.read_bytes()


def test_a_job_goes_queued_running_finished_and_its_file_is_the_clis(researcher_client, corpus, tmp_path):
    response = researcher_client.post(START, {"format": "csv", "labels": [corpus["labels"]["claim"].pk]})
    job_id = job_id_from(response)
    page = researcher_client.get(response["Location"])
    assert b"Waiting for the worker" in page.content
    # The page polls its status region every second until the job is done.
    assert b'hx-trigger="every 1s"' in page.content
    status = researcher_client.get(response["Location"], headers={"HX-Request": "true"})
    assert status.content.lstrip().startswith(b'<div id="job-status"')

    run_worker()

    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportJob.Status.FINISHED
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    status = researcher_client.get(response["Location"], headers={"HX-Request": "true"})
    assert b"Finished" in status.content and b"every 1s" not in status.content
    file_url = reverse("annotations:export-job-file", args=[job_id])
    assert file_url.encode() in status.content

    download = researcher_client.get(file_url)
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert int(download["Content-Length"]) == len(body) == job.bytes
    assert download["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    assert body == cli_bytes(tmp_path, "--format", "csv", "--label", "CLAIM")
    assert job.rows == job.total == Span.objects.filter(label=corpus["labels"]["claim"]).count() > 0


def test_the_job_file_equals_the_streamed_download_in_every_format(researcher_client, corpus):
    formats = ["csv", "articles-csv", "jsonl", "label-studio", "conll", "brat", "w3c"]
    ids = {fmt: job_id_from(researcher_client.post(START, {"format": fmt})) for fmt in formats}
    run_worker()
    for fmt, job_id in ids.items():
        job = ExportJob.objects.get(pk=job_id)
        assert job.status == ExportJob.Status.FINISHED, (fmt, job.error)
        got = b"".join(researcher_client.get(reverse("annotations:export-job-file", args=[job_id])).streaming_content)
        streamed = researcher_client.get(reverse("annotations:export-download"), {"format": fmt})
        if fmt == "brat":  # a zip carries the time it was written; compare what it holds

            def contents(data: bytes) -> dict:
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    return {name: z.read(name) for name in z.namelist()}

            assert contents(got) == contents(b"".join(streamed.streaming_content))
        else:
            assert got == b"".join(streamed.streaming_content), fmt


def test_a_large_file_is_stored_in_several_chunks_and_comes_back_whole(researcher_client, corpus, monkeypatch):
    monkeypatch.setattr("annotations.exports.jobs.FILE_CHUNK_BYTES", 64)
    job_id = job_id_from(researcher_client.post(START, {"format": "jsonl"}))
    run_worker()
    assert ExportChunk.objects.filter(job_id=job_id).count() > 3
    got = b"".join(researcher_client.get(reverse("annotations:export-job-file", args=[job_id])).streaming_content)
    assert got == b"".join(researcher_client.get(reverse("annotations:export-download"), {"format": "jsonl"}))


def test_a_failing_job_says_why_and_offers_no_file(researcher_client, corpus):
    # A curator deletes the label the researcher chose between starting the export and the worker running it.
    doomed = Label.objects.create(name="Doomed", slug="doomed", kind="entity")
    job_id = job_id_from(researcher_client.post(START, {"format": "csv", "labels": [doomed.pk]}))
    doomed.delete()

    run_worker()

    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportJob.Status.FAILED
    assert "Labels" in job.error and "no longer valid" in job.error
    assert DBTaskResult.objects.get().status == "FAILED"
    assert not ExportChunk.objects.filter(job_id=job_id).exists()
    page = researcher_client.get(reverse("annotations:export-job", args=[job_id]))
    assert b"The export failed and there is no file" in page.content
    assert b"no longer valid" in page.content
    assert reverse("annotations:export-job-file", args=[job_id]).encode() not in page.content
    file = researcher_client.get(reverse("annotations:export-job-file", args=[job_id]))
    assert file.status_code == 409
    assert b"failed" in file.content


def test_an_unfinished_job_has_no_file_yet(researcher_client, corpus):
    job_id = job_id_from(researcher_client.post(START, {"format": "csv"}))
    assert researcher_client.get(reverse("annotations:export-job-file", args=[job_id])).status_code == 409


def test_invalid_filters_are_refused_before_any_job(researcher_client, corpus):
    response = researcher_client.post(
        START, {"format": "csv", "published_from": "2026-02-01", "published_to": "2026-01-01"}
    )
    assert response.status_code == 400
    assert b"The end date is before the start date." in response.content
    assert not ExportJob.objects.exists()


def test_permissions(client, corpus):
    owner = user_in("Researchers", "owner")
    client.force_login(owner)
    job_id = job_id_from(client.post(START, {"format": "csv"}))
    urls = [reverse("annotations:export-job", args=[job_id]), reverse("annotations:export-job-file", args=[job_id])]
    client.logout()

    # Anonymous: to the login page, for starting and for watching.
    response = client.post(START, {"format": "csv"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    # Editors and reviewers have no export permission.
    for group in ("Editors", "Reviewers"):
        client.force_login(user_in(group, f"someone-{group}"))
        assert client.post(START, {"format": "csv"}).status_code == 403
        for url in urls:
            assert client.get(url).status_code == 403

    # Another researcher, and a curator (who may export), cannot see someone else's job.
    for group in ("Researchers", "Curators"):
        client.force_login(user_in(group, f"other-{group}"))
        for url in urls:
            assert client.get(url).status_code == 404
        assert job_id_from(client.post(START, {"format": "csv"}))

    # Starting needs CSRF like every write.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(START, {"format": "csv"}).status_code == 403
    page = strict.get(reverse("annotations:export"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token
    assert strict.post(START, {"format": "csv", "csrfmiddlewaretoken": token.group(1).decode()}).status_code == 302


def test_old_jobs_and_their_files_are_deleted_after_the_retention_period(researcher_client, corpus, settings):
    settings.NEWSNOTES_EXPORT_RETENTION_HOURS = 24
    old, fresh = (job_id_from(researcher_client.post(START, {"format": "csv"})) for _ in range(2))
    run_worker()
    ExportJob.objects.filter(pk=old).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    assert ExportChunk.objects.filter(job_id=old).exists()
    assert export_jobs_prune() == 2  # the job and its one chunk
    assert not ExportJob.objects.filter(pk=old).exists()
    assert not ExportChunk.objects.filter(job_id=old).exists()
    assert ExportJob.objects.filter(pk=fresh, status="finished").exists()


def test_a_job_whose_worker_died_shows_as_stalled_then_failed(researcher_client, corpus):
    job_id = job_id_from(researcher_client.post(START, {"format": "csv"}))
    # What a SIGKILLed worker leaves behind: a running job with part of a file and no more progress.
    long_ago = timezone.now() - dt.timedelta(minutes=11)
    ExportJob.objects.filter(pk=job_id).update(status="running", started_at=long_ago, progress_at=long_ago, rows=1)
    ExportChunk.objects.create(job_id=job_id, seq=0, data=b"span_id,")
    page = researcher_client.get(reverse("annotations:export-job", args=[job_id]))
    assert b"the worker may have stopped" in page.content

    export_jobs_prune()

    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportJob.Status.FAILED and "worker stopped" in job.error
    assert not ExportChunk.objects.filter(job_id=job_id).exists()
    assert researcher_client.get(reverse("annotations:export-job-file", args=[job_id])).status_code == 409
