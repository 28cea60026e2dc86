"""Once an article is reviewed, its editors' spans are frozen on the server, not only hidden by the page: an editor
may not relabel, delete or edit the note of their own span there (issue #14, defect 7); reviewers and curators
still may. Checked at the service and through the workspace's URLs."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from annotations.models import Span
from annotations.spans import claims
from annotations.spans.services import span_delete, span_update
from articles.models import Article
from tests.factories import ArticleFactory, SpanFactory
from tests.workspace import HX, url

pytestmark = pytest.mark.django_db

BODY = "Mara Okonkwo said the chip ships in May."


def _reviewed_with_span(labels, editor):
    article = ArticleFactory(body=BODY)
    span = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor, note="first")
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    article.refresh_from_db()
    return article, span


def _unchanged(span):
    stored = Span.objects.get(pk=span.pk)
    assert (stored.label_id, stored.note) == (span.label_id, span.note)


def test_an_editor_cannot_relabel_delete_or_annotate_their_span_on_a_reviewed_article(labels, editor):
    _, span = _reviewed_with_span(labels, editor)
    with pytest.raises(PermissionDenied, match="has been reviewed"):
        span_update(span=span, actor=editor, label=labels["org"])
    with pytest.raises(PermissionDenied, match="has been reviewed"):
        span_update(span=span, actor=editor, note="changed")
    with pytest.raises(PermissionDenied, match="has been reviewed"):
        claims.span_set_details(span=span, actor=editor, note="changed")
    with pytest.raises(PermissionDenied, match="has been reviewed"):
        span_delete(span=span, actor=editor)
    _unchanged(span)


def test_the_same_editor_may_change_their_span_before_review(labels, editor):
    article, span = _reviewed_with_span(labels, editor)
    Article.objects.filter(pk=article.pk).update(status=Article.Status.IN_ANNOTATION)
    assert span_update(span=span, actor=editor, label=labels["org"], note="second").note == "second"
    span_delete(span=span, actor=editor)
    assert not Span.objects.filter(pk=span.pk).exists()


@pytest.mark.parametrize("role", ["reviewer", "curator"])
def test_reviewers_and_curators_still_change_spans_on_a_reviewed_article(request, labels, editor, role):
    actor = request.getfixturevalue(role)
    _, span = _reviewed_with_span(labels, editor)
    assert span_update(span=span, actor=actor, label=labels["org"], note="fixed").label_id == labels["org"].pk
    span_delete(span=span, actor=actor)
    assert not Span.objects.filter(pk=span.pk).exists()


def test_the_workspace_refuses_the_editor_with_the_sentence(labels, editor):
    article, span = _reviewed_with_span(labels, editor)
    client = Client()
    client.force_login(editor)
    posts = [
        ("span-relabel", {"span": span.pk, "label": labels["org"].pk}),
        ("span-details", {"span": span.pk, "note": "changed"}),
        ("span-delete", {"span": span.pk}),
    ]
    for name, data in posts:
        response = client.post(url(name, article), data, headers=HX)
        assert response.status_code == 403, (name, response.status_code)
        assert "This article has been reviewed" in response.content.decode(), name
    _unchanged(span)
