"""The gold layer, read-only, for editors once the article is reviewed; never before (blind labelling)."""

import pytest
from django.urls import reverse

from annotations.review import services
from annotations.review.selectors import review_state
from tests.html import select


@pytest.fixture
def gold_article(article, two_layers, reviewer):
    services.review_accept_agreed(article=article, reviewer=reviewer)
    return article


def gold_url(article):
    return reverse("annotations:article-gold", args=[article.pk])


def test_an_editor_sees_no_gold_before_review(client, editor, gold_article):
    client.force_login(editor)
    response = client.get(gold_url(gold_article))
    assert response.status_code == 403
    assert "Mara Okonkwo" not in response.content.decode()


def test_an_editor_sees_the_gold_layer_once_the_article_is_reviewed(client, editor, reviewer, gold_article):
    state = review_state(article=gold_article).state
    services.review_mark_reviewed(article=gold_article, reviewer=reviewer, state=state, override_note="test")
    client.force_login(editor)
    response = client.get(gold_url(gold_article))
    assert response.status_code == 200
    items = select(response.content, "#gold-spans li")
    assert len(items) == 1
    assert "Mara Okonkwo" in response.content.decode()
    assert client.post(gold_url(gold_article)).status_code == 405
    workspace = client.get(reverse("annotations:article-annotate", args=[gold_article.pk]))
    assert [a.get("href") for a in select(workspace.content, "#ws-gold")] == [gold_url(gold_article)]


def test_the_workspace_links_no_gold_before_review(client, editor, gold_article):
    client.force_login(editor)
    workspace = client.get(reverse("annotations:article-annotate", args=[gold_article.pk]))
    assert workspace.status_code == 200
    assert not select(workspace.content, "#ws-gold")


@pytest.mark.parametrize("role,status", [("reviewer", 200), ("curator", 200), ("researcher", 403), (None, 302)])
def test_permission_matrix_before_review(client, gold_article, role, status, request):
    if role:
        client.force_login(request.getfixturevalue(role))
    assert client.get(gold_url(gold_article)).status_code == status
