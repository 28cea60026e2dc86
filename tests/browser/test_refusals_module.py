"""static/js/refusals.js, the one place the workspace and the review page let htmx swap a refusal (a 4xx with a
sentence and HX-Retarget) into their error region: the module alone on a page of the app, then a real refusal on
each page, its sentence shown where the user reads it."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Label
from annotations.spans import claims
from annotations.spans.services import span_create
from tests.annotations.agreement.conftest import finish, make_editor, span
from tests.browser.test_review_browser import press as review_press
from tests.browser.test_workspace_browser import BODY, press
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# What the handler makes of an answer's status and HX-Retarget header: [shouldSwap, isError] after it ran, for an
# event as htmx sends it (htmx sets shouldSwap false and isError true for every 4xx and 5xx).
DECIDE = """async (answers) => {
  const { showRefusal } = await import("/static/js/refusals.js");
  return answers.map(([status, retarget]) => {
    const detail = {
      xhr: { status, getResponseHeader: (name) => (name === "HX-Retarget" ? retarget : null) },
      shouldSwap: status < 400,
      isError: status >= 400,
    };
    showRefusal({ detail });
    return [detail.shouldSwap, detail.isError];
  });
}"""


def test_only_a_4xx_aimed_at_a_region_is_swapped(page, live_server, login, editor):
    login(page, live_server, editor)
    page.goto(live_server.url + "/")
    answers = [[400, "#ws-error"], [409, "#review-error"], [404, None], [500, "#ws-error"], [200, None]]
    assert page.evaluate(DECIDE, answers) == [
        [True, False],  # refusals, shown as a 200 would be
        [True, False],
        [False, True],  # no region named: left to htmx and the page's own error handling
        [False, True],  # a server error is not a refusal (requests.js reports it)
        [True, False],  # a success is untouched
    ]


def test_the_workspace_shows_a_refusals_sentence(page, live_server, login, editor, labels):
    article = ArticleFactory(title="Chip news", body=BODY)
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    claim = span_create(article=article, label=labels["claim"], start=16, end=62, annotator=editor)
    claims.span_set_details(span=claim, actor=editor, note="", speaker="", speaker_span=person.pk, verdict=None)
    login(page, live_server, editor)
    page.goto(live_server.url + reverse("annotations:article-annotate", args=[article.pk]))
    page.wait_for_selector("#workspace[data-ready]")
    page.locator("#ws-body .seg.hl", has_text="Mara Okonkwo").click()
    assert press(page, "Delete", path="/spans/delete/") == 409
    expect(page.locator("#ws-error")).to_contain_text("A claim names “Mara Okonkwo” as its speaker")


def test_the_review_page_shows_a_refusals_sentence(page, live_server, login, reviewer):
    labels = {label.slug: label for label in Label.objects.all()}
    article = ArticleFactory(title="Refused", body="Mara Okonkwo of Larchfield Systems said the chip ships in May.")
    ana, bo = make_editor("ana"), make_editor("bo")
    span(article, ana, labels["person"], 0, 12)
    span(article, bo, labels["org"], 16, 34)
    finish(article, ana, bo)
    login(page, live_server, reviewer)
    page.goto(live_server.url + reverse("annotations:article-review", args=[article.pk]))
    expect(page.locator("#review-error")).to_be_empty()
    assert review_press(page, "u", path="/review/undo/") == 422
    expect(page.locator("#review-error")).to_contain_text("There is nothing of yours to undo on this article.")
