"""The Export page's Download in Chromium, with a real `manage.py db_worker` subprocess on the test database:
queued, progress polled by htmx under the strict CSP, then the finished file, byte for byte the streamed export."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from annotations.exports.models import ExportJob
from tests.annotations.export_fixtures import build_corpus
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_worker():
    """Starts a real worker process against the test database; stops it (SIGTERM, as compose does) afterwards."""
    processes = []

    def start() -> None:
        processes.append(_worker())

    yield start
    for process in processes:
        process.terminate()
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err.decode()


def _worker() -> subprocess.Popen:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSNOTES_TEST_DB", "DJANGO_SETTINGS_MODULE")}
    env |= {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_download_runs_a_job_shows_progress_and_offers_the_file(page, live_server, login, start_worker):
    build_corpus()
    researcher = UserFactory(username="researcher")
    researcher.groups.add(Group.objects.get(name="Researchers"))
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    login(page, live_server, researcher)

    page.goto(live_server.url + reverse("annotations:export"))
    page.select_option("#id_format", "jsonl")
    page.get_by_role("button", name="Download").click()
    page.wait_for_url("**/export/jobs/*/")
    assert "Waiting for the worker" in page.locator("#job-status").inner_text()
    start_worker()
    # htmx polls and swaps the status region in place until the worker has finished the file.
    link = page.get_by_role("link", name="Download newsnotes-doccano-")
    link.wait_for(timeout=60_000)
    assert "Finished" in page.locator("#job-status").inner_text()

    with page.expect_download() as caught:
        link.click()
    got = Path(caught.value.path()).read_bytes()
    streamed = page.request.get(live_server.url + reverse("annotations:export-download") + "?format=jsonl").body()
    assert got == streamed and got
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FINISHED and job.bytes == len(got)
    assert violations == []
