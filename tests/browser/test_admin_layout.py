"""The curators' article list at 1440 px: titles at a reading width, no clipped columns (issue 14 point 9)."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import ArticleFactory, SpanFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_article_list_is_not_cramped_at_1440(page, live_server, login, labels):
    curator = UserFactory(username="curator", is_staff=True)
    curator.groups.add(Group.objects.get(name="Curators"))
    editor = UserFactory(username="wide-editor")
    editor.groups.add(Group.objects.get(name="Editors"))
    for n in range(3):
        article = ArticleFactory(title=f"Larchfield Systems ships a new chip for edge inference, story {n}")
        SpanFactory(article=article, label=labels["org"], start=0, end=4, annotator=editor)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/admin/articles/article/")
    page.wait_for_selector("#result_list")
    title_width = page.evaluate(
        "document.querySelector('#result_list td.field-title, #result_list th.field-title')"
        ".getBoundingClientRect().width"
    )
    assert title_width >= 240, title_width
    # No column is cut off: the table fits its box (or the box scrolls, it never clips).
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('#result_list thead th')]
              .filter(th => th.scrollWidth > th.clientWidth + 1).map(th => th.textContent.trim())"""
    )
    assert clipped == []
    # And every column is in view: the box does not scroll either (it did with the app sidebar beside it).
    hidden = page.evaluate(
        "(() => { const box = document.querySelector('#changelist .results');"
        " return box.scrollWidth - box.clientWidth; })()"
    )
    assert hidden <= 1, hidden
    assert page.locator("#result_list th.column-count_org").count() == 1  # the class admin_curation.css sizes
    words_per_line = page.evaluate(
        """() => { const cell = document.querySelector('#result_list th.field-title a, #result_list td.field-title a');
                   const r = document.createRange(); r.selectNodeContents(cell);
                   return r.getClientRects().length; }"""
    )
    assert words_per_line <= 3, words_per_line
