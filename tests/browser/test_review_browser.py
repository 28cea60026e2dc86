"""The review page in Debian's Chromium: two editors' layers, every conflict settled by keyboard, the article
marked reviewed, and the gold CSV holding exactly what was accepted at code-point offsets."""

import csv
import io
import re

import pytest
from django.urls import reverse

from annotations.exports import ExportFilters, export
from annotations.models import Label
from annotations.review.models import ReviewDecision
from annotations.spans.services import span_create
from annotations.workflow.selectors import workflow_settings
from articles.models import Article
from tests.annotations.agreement.conftest import finish
from tests.browser.test_workspace_browser import BODY, annotate_url, python_offsets
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SELECT_IN = """
([root, needle]) => {
  root = document.getElementById(root);
  const at = root.textContent.indexOf(needle);
  if (at < 0) throw new Error("not on the page: " + needle);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0, start, end;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!start && at < seen + node.data.length) start = [node, at - seen];
    if (!end && at + needle.length <= seen + node.data.length) end = [node, at + needle.length - seen];
    seen += node.data.length;
  }
  window.getSelection().setBaseAndExtent(start[0], start[1], end[0], end[1]);
}
"""

# What the reviewer sees of the region, without what differs between two drawings (message, CSRF tokens).
DRAWN = """() => ({
  body: document.getElementById("review-body").innerHTML,
  conflicts: [...document.querySelectorAll(".conflict")].map((c) => [c.id, c.dataset.settled, c.textContent]),
  gold: [...document.querySelectorAll("#review-gold li")].map((li) => [li.id, li.textContent]),
  counts: [...document.querySelectorAll(".review-panel .count")].map((c) => c.textContent),
  version: document.getElementById("review-version").dataset.version,
})"""

RENEE = "Rene\u0301e"  # e + combining acute accent: two code points


def press(page, key, *, path):
    with page.expect_response(lambda r: path in r.url and r.request.method == "POST") as response:
        page.keyboard.press(key)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    return response.value.status


def current_text(page):
    return page.evaluate("document.querySelector('.conflict.current .conflict-text')?.textContent ?? ''")


def test_two_editors_then_a_reviewer_settles_everything_by_keyboard(
    page, live_server, login, editor, other_editor, reviewer
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    labels = {label.slug: label for label in Label.objects.all()}
    article = ArticleFactory(title="Chip news", body=BODY)

    # Editor A labels in the workspace, with the mouse selection and the label keys.
    login(page, live_server, editor)
    page.goto(annotate_url(live_server, article))
    page.wait_for_selector("#workspace[data-ready]")
    for needle, key in (("Mara Okonkwo", "1"), ("Larchfield Systems", "2"), (RENEE, "1")):
        page.evaluate(SELECT_IN, ["ws-body", needle])
        press(page, key, path="/spans/")
    # Editor B's layer through the services: one agreement, one other label, one span A did not make.
    for needle, label in (("Mara Okonkwo", "person"), ("Larchfield Systems", "person"), ("東京", "org")):
        start, end = python_offsets(BODY, needle)
        span_create(article=article, label=labels[label], start=start, end=end, annotator=other_editor)
    # Blind: Editor A's workspace, drawn again, shows none of B's spans (東京 is B's only).
    page.goto(annotate_url(live_server, article))
    page.wait_for_selector("#workspace[data-ready]")
    assert page.evaluate(
        "[...document.querySelectorAll('#ws-body .seg')].filter((s) => s.textContent.includes('東京'))"
        ".every((s) => !s.classList.contains('hl'))"
    )
    finish(article, editor, other_editor)
    settings = workflow_settings()
    settings.anonymous_review = True
    settings.save(update_fields=["anonymous_review"])

    login(page, live_server, reviewer)
    retargeted = []
    page.on(
        "response",
        lambda r: (
            retargeted.append(r.url)
            if r.request.method == "POST"
            and any(f"/review/{action}/" in r.url for action in ("accept", "reject", "add"))
            and r.headers.get("hx-retarget") == "#review-main"
            else None
        ),
    )
    page.goto(live_server.url + reverse("annotations:article-review", args=[article.pk]))
    page.wait_for_selector("#review-main")
    assert page.locator(".conflict").count() == 3
    assert current_text(page) == "“Larchfield Systems”"
    page.keyboard.press("j")
    assert current_text(page) == f"“{RENEE}”"
    page.keyboard.press("k")
    assert current_text(page) == "“Larchfield Systems”"
    page.keyboard.press("?")
    assert page.locator("#review-help").is_visible()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('dialog[open]')")

    assert press(page, "y", path="/review/agreed/") == 200  # every agreed span, one action
    assert "Accepted 1 agreed span(s): 1 new in gold." in page.locator("#review-message").text_content()
    assert press(page, "a", path="/review/accept/") == 200  # Editor A's ORG
    assert current_text(page) == f"“{RENEE}”"
    assert press(page, "x", path="/review/reject/") == 200  # reject the span only A made
    assert current_text(page) == "“東京”"
    assert press(page, "b", path="/review/accept/") == 200  # Editor B's ORG 東京
    # A gold span of the reviewer's own: select and press the ORG key.
    page.evaluate(SELECT_IN, ["review-body", "Quillix OS"])
    assert press(page, "2", path="/review/add/") == 200
    assert page.locator(".conflict[data-settled='0']").count() == 0
    # Those decisions came back as fragments, and the page they left is the page a reload draws.
    assert retargeted == []
    drawn = page.evaluate(DRAWN)
    page.reload()
    page.wait_for_selector("#review-main")
    assert page.evaluate(DRAWN) == drawn
    html = page.content()
    assert editor.username not in page.locator("#review-main").text_content().split()
    # As a word: the page's random tokens (CSRF, versions) are hex, and one held "…75ced209…" once.
    assert re.search(r"\bed2\b", html) is None
    assert press(page, "r", path="/review/reviewed/") == 200
    assert "Marked reviewed." in page.locator("#review-message").text_content()

    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED
    assert ReviewDecision.objects.filter(article=article, undone_at=None).count() == 6
    data = b"".join(export("csv", ExportFilters(layer="gold"))).decode()
    rows = [
        (r["layer"], r["label"], int(r["start"]), int(r["end"]), r["text"]) for r in csv.DictReader(io.StringIO(data))
    ]
    expected = [
        ("gold", "PERSON", *python_offsets(BODY, "Mara Okonkwo"), "Mara Okonkwo"),
        ("gold", "ORG", *python_offsets(BODY, "Larchfield Systems"), "Larchfield Systems"),
        ("gold", "ORG", *python_offsets(BODY, "東京"), "東京"),
        ("gold", "ORG", *python_offsets(BODY, "Quillix OS"), "Quillix OS"),
    ]
    assert rows == expected
    for _, _, start, end, text in rows:
        assert BODY[start:end] == text
    assert problems == []
