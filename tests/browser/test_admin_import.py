"""A curator imports a JSONL file through the admin in a real browser and finds the articles in the list."""

import json
import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from articles.models import Article
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_curator_imports_jsonl_and_finds_the_articles(page, live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
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

    # The strict CSP holds in the admin too: the browser reports any inline script or style it blocks.
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("pw-for-tests")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Articles").first.click()
    page.get_by_role("link", name="Import articles").click()

    page.locator("input[name=upload]").set_input_files(str(feed))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#count-new")).to_have_text("2")
    expect(page.locator("#count-errors")).to_have_text("0")
    assert not Article.objects.exists()

    page.get_by_role("button", name=re.compile(r"^Confirm: import 2 articles")).click()
    expect(page.locator("ul.messagelist")).to_contain_text("Imported 2 articles from feed.jsonl")
    expect(page.get_by_role("link", name="Browser story 1")).to_be_visible()
    expect(page.get_by_role("link", name="Browser story 2")).to_be_visible()
    assert sorted(Article.objects.values_list("title", flat=True)) == ["Browser story 1", "Browser story 2"]
    assert violations == []
