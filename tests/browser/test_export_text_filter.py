"""The Export page's "Text contains" filter in Chromium, by keyboard: typing the start of a name narrows the count
to the articles whose title or body has a word starting so (the stored search vector, as the queue searches)."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import ArticleFactory, SpanFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_text_contains_narrows_the_count(page, live_server, login):
    corvane = ArticleFactory(title="Corvane ships a new chip", body="Mara Okonkwo of Corvane said the chip ships.")
    other = ArticleFactory(title="Larchfield delays its fab", body="Mara Okonkwo of Larchfield said the fab slips.")
    for article in (corvane, other):
        SpanFactory(article=article, start=0, end=12)
    researcher = UserFactory(username="researcher")
    researcher.groups.add(Group.objects.get(name="Researchers"))
    login(page, live_server, researcher)

    page.goto(live_server.url + reverse("annotations:export"))
    field = page.get_by_label("Text contains")
    field.focus()
    page.keyboard.type("Corv")
    page.get_by_role("button", name="Count").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => /from\\s+1\\s+article/.test(document.body.innerText)", timeout=15_000)
    assert re.search(r"1\s+spans?\s+from\s+1\s+articles?", page.locator("main").inner_text())
