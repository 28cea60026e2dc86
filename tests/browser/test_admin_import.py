"""A curator imports a JSONL file through the admin in Chromium with a real `manage.py db_worker` process:
upload, the preview appearing by htmx polling, Confirm, the import's result; no console error, no CSP report."""

import json
import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from annotations.imports.models import ImportJob
from articles.models import Article
from tests.browser.test_export_job_browser import start_worker  # noqa: F401 - the real worker, as a fixture
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def breadcrumbs_background(page) -> str:
    return page.locator("nav ol.breadcrumbs").evaluate("element => getComputedStyle(element).backgroundColor")


def test_curator_uploads_previews_confirms_and_sees_the_result(page, live_server, tmp_path, start_worker):  # noqa: F811
    curator = UserFactory(username="curator", is_staff=True)
    curator.groups.add(Group.objects.get(name="Curators"))
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            json.dumps({"title": f"Browser story {n}", "body": f"Text of browser story {n}.", "source": "wire.example"})
            for n in (1, 2)
        )
        + "\n",
        encoding="utf-8",
    )
    # Any console error (a CSP report for an inline script or style included) or uncaught exception fails the test.
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Articles").first.click()
    admin_breadcrumbs = breadcrumbs_background(page)
    page.get_by_role("link", name="Import articles").click()

    # The import pages use the admin's own breadcrumbs (they were an unstyled div): same bar, last item current.
    assert breadcrumbs_background(page) == admin_breadcrumbs != "rgba(0, 0, 0, 0)"
    expect(page.locator("ol.breadcrumbs li[aria-current=page]")).to_have_text("Import articles")

    page.locator("input[name=upload]").set_input_files(str(feed))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(re.compile(r"/admin/articles/article/import/[0-9a-f-]{36}/$"))
    expect(page.locator("#job-status h2")).to_have_text("Waiting for the worker")
    expect(page.locator("ol.breadcrumbs li[aria-current=page]")).to_have_text("feed.jsonl")
    assert breadcrumbs_background(page) == admin_breadcrumbs

    start_worker()
    # htmx polls the status region and swaps the preview in place once the worker has read the file.
    expect(page.locator("#count-new")).to_have_text("2", timeout=60_000)
    expect(page.locator("#count-errors")).to_have_text("0")
    assert not Article.objects.exists()

    page.get_by_role("button", name=re.compile(r"^Confirm: import 2 articles")).click()
    expect(page.locator("#import-result")).to_have_text(
        "Imported 2 articles from feed.jsonl; skipped 0 duplicates.", timeout=60_000
    )
    expect(page.locator("#result-created")).to_have_text("2")
    assert sorted(Article.objects.values_list("title", flat=True)) == ["Browser story 1", "Browser story 2"]
    assert ImportJob.objects.get().status == ImportJob.Status.FINISHED

    page.get_by_role("link", name="Go to the articles").click()
    expect(page.get_by_role("link", name="Browser story 1")).to_be_visible()
    page.get_by_role("link", name="Import articles").click()
    expect(page.locator(".nn-import-jobs tbody tr")).to_have_count(1)
    expect(page.locator(".nn-import-jobs tbody td").nth(3)).to_have_text("Imported")
    assert problems == []
