"""The review page and its actions over HTTP: permissions, fragments, anonymity, refusals."""

import re

import pytest
from django.urls import reverse

from annotations.review.alignment import ConflictKind
from annotations.review.models import GoldSpan
from annotations.review.selectors import review_state
from tests.annotations.review.conftest import at
from tests.html import one, parse, select, text

ACTIONS = [
    "review-accept",
    "review-reject",
    "review-add",
    "review-agreed",
    "review-merge",
    "review-undo",
    "review-reviewed",
]


def url(name, article):
    return reverse(f"annotations:{name}", args=[article.pk])


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def conflict_key(article, kind):
    return next(c.key for c in review_state(article=article).alignment.conflicts if c.kind == kind)


@pytest.mark.parametrize(
    "role,page_status,post_status",
    [("editor", 403, 403), ("researcher", 403, 403), ("reviewer", 200, None), ("curator", 200, None), (None, 302, 302)],
)
def test_permission_matrix_for_every_review_url(client, article, two_layers, role, page_status, post_status, request):
    if role:
        client.force_login(request.getfixturevalue(role))
    response = client.get(url("article-review", article))
    assert response.status_code == page_status
    if page_status == 302:
        assert response["Location"].startswith(reverse("login"))
    for name in ACTIONS:
        response = client.post(url(name, article), {})
        if post_status is None:
            assert response.status_code in (302, 200), name  # a reviewer's empty post is refused with a message
        else:
            assert response.status_code == post_status, name
    assert client.get(url("review-merge", article)).status_code in (405, 302, 403)
    if role not in ("reviewer", "curator"):
        assert not GoldSpan.objects.exists()


def test_the_page_shows_agreed_spans_and_conflicts_and_never_an_editors_name(
    reviewer_client, article, two_layers, editor, other_editor, anonymous
):
    editor.username, other_editor.username = "Zanzibar", "Quetzal"
    editor.save(), other_editor.save()
    response = reviewer_client.get(url("article-review", article))
    html = response.content.decode()
    assert "Zanzibar" not in html and "Quetzal" not in html
    page = parse(html)
    assert [text(e) for e in select(page, ".editor-tag")] == ["a Editor A", "b Editor B"]
    kinds = sorted(text(e) for e in select(page, ".conflict .kind"))
    assert kinds == [
        "Only some editors marked this",
        "Overlapping, different boundaries",
        "Same range, different labels",
    ]
    assert text(one(page, ".agreed li")) == "PERSON {}–{} “Mara Okonkwo”".format(*at("Mara Okonkwo"))
    assert "Accept every agreed span (1)" in text(one(page, "#review-agreed button"))


def test_an_htmx_decision_returns_the_main_region_only_naming_no_editor(
    reviewer_client, article, two_layers, editor, anonymous
):
    key = conflict_key(article, ConflictKind.LABELS)
    response = reviewer_client.post(
        url("review-accept", article), {"conflict": key, "editor": "A"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = parse(response.content)
    assert len(select(fragment, "#review-main")) == 1 and not select(fragment, "header")
    assert text(one(fragment, "#review-message")) == "Accepted 1 span(s) into gold; conflict settled."
    # As a word: random hex tokens (CSRF, versions) in the answer may hold the letters.
    assert re.search(r"\bed2\b", response.content.decode()) is None and editor.username not in text(fragment).split()
    undo = reviewer_client.post(url("review-undo", article), headers={"HX-Request": "true"})
    assert text(one(parse(undo.content), "#review-message")) == "Undid “Accept a version”: 1 gold span(s) removed."
    assert not GoldSpan.objects.exists()


def test_without_htmx_a_decision_redirects_back_with_a_message(reviewer_client, article, two_layers):
    response = reviewer_client.post(url("review-agreed", article), follow=True)
    assert response.redirect_chain[-1][0] == url("article-review", article)
    assert "Accepted 1 agreed span(s): 1 new in gold." in text(parse(response.content))


def test_a_refusal_is_a_message_in_the_error_region(reviewer_client, article, two_layers):
    response = reviewer_client.post(
        url("review-accept", article), {"conflict": "999999", "editor": "A"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#review-error"
    assert "changed since this page was drawn" in text(one(parse(response.content), "#review-error"))
    response = reviewer_client.post(
        url("review-reviewed", article),
        {"state": review_state(article=article).state},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "3 conflict(s) and 1 agreed span(s) are not settled yet" in text(parse(response.content))


def test_gold_is_added_with_offsets_in_code_points(reviewer_client, article, two_layers, labels):
    start, end = at("Cafe\u0301")
    response = reviewer_client.post(
        url("review-add", article),
        {"label": labels["claim"].pk, "start": start, "end": end, "text": "Cafe\u0301"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    gold = GoldSpan.objects.get()
    assert (gold.start, gold.end, gold.text, gold.decision) == (start, end, "Cafe\u0301", "added")


def test_without_anonymous_review_editors_are_named(reviewer_client, article, two_layers, editor, other_editor):
    page = parse(reviewer_client.get(url("article-review", article)).content)
    assert [text(e) for e in select(page, ".editor-tag")] == ["a ed (A)", "b ed2 (B)"]


def test_only_finished_layers_count(reviewer_client, article, two_layers, labels, django_user_model):
    from django.contrib.auth.models import Group

    from tests.factories import SpanFactory

    late = django_user_model.objects.create(username="late")
    late.groups.add(Group.objects.get(name="Editors"))
    start, end = at("chip")
    SpanFactory(article=article, label=labels["org"], annotator=late, start=start, end=end)
    page = parse(reviewer_client.get(url("article-review", article)).content)
    assert len(select(page, ".editor-tag")) == 2
    assert "chip" not in text(one(page, ".conflicts"))


def test_the_header_names_the_merge_strategy_without_a_stray_separator(reviewer_client, article, two_layers, anonymous):
    page = parse(reviewer_client.get(url("article-review", article)).content)
    assert text(one(page, ".ws-header .meta")).startswith("Anonymous review · merge strategy ")
    anonymous.anonymous_review = False
    anonymous.save(update_fields=["anonymous_review"])
    page = parse(reviewer_client.get(url("article-review", article)).content)
    assert text(one(page, ".ws-header .meta")).startswith("Merge strategy ")  # it began "· merge strategy"
