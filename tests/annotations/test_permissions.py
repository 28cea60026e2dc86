"""Every service that checks who is asking refuses someone who may not, and changes nothing.

The views and the admin check permissions too; these tests call the services directly, so removing any of the
services' own checks fails here.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.curation import services as curation
from annotations.models import Assignment, Label, Span, SpanEvent
from annotations.progress import Transition, article_status_change
from annotations.spans import claims
from annotations.spans import services as spans
from articles.models import Article
from tests.factories import ArticleFactory, SpanFactory, UserFactory

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May."


@pytest.fixture
def nobody(db):
    """Logged in, in no group: may read, may change nothing."""
    return UserFactory(username="nobody")


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


@pytest.fixture
def span(article, labels, editor):
    return SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)


def refused(call, match="permission|another editor|only a reviewer|Only editors"):
    with pytest.raises(PermissionDenied, match=match):
        call()


# Spans: an editor changes only their own ------------------------------------------------------------------------


@pytest.mark.django_db
def test_span_writes_refuse_another_editors_span(span, labels, other_editor):
    refused(lambda: spans.span_update(span=span, actor=other_editor, label=labels["org"]))
    refused(lambda: spans.span_delete(span=span, actor=other_editor))
    refused(lambda: claims.span_set_details(span=span, actor=other_editor, note="mine now"))
    span.refresh_from_db()
    assert (span.label, span.note) == (labels["person"], "")


@pytest.mark.django_db
def test_claim_details_are_refused_before_they_are_checked(article, labels, editor, other_editor):
    claim = SpanFactory(article=article, label=labels["claim"], start=0, end=12, annotator=editor)
    refused(lambda: claims.span_set_details(span=claim, actor=other_editor, note="", verdict="nonsense"))


@pytest.mark.django_db
def test_bringing_back_a_span_needs_its_owner_and_the_right_to_annotate(span, other_editor, nobody):
    snapshot = spans.SpanSnapshot.of(span)
    Span.objects.filter(pk=span.pk).delete()
    refused(lambda: spans.span_bring_back(snapshot=snapshot, actor=other_editor))
    mine = spans.SpanSnapshot(**{**snapshot.__dict__, "annotator_id": nobody.pk})
    refused(lambda: spans.span_bring_back(snapshot=mine, actor=nobody))  # their own, but they may not annotate
    assert not Span.objects.exists()


# Status --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("transition", list(Transition))
def test_status_changes_refuse_someone_without_the_role(article, nobody, transition):
    refused(lambda: article_status_change(article=article, actor=nobody, transition=transition))
    article.refresh_from_db()
    assert article.status == Article.Status.NEW


@pytest.mark.django_db
@pytest.mark.parametrize("transition", [Transition.REVIEWED, Transition.SEND_BACK])
def test_editors_do_not_review(article, editor, transition):
    refused(lambda: article_status_change(article=article, actor=editor, transition=transition))


@pytest.mark.django_db
def test_a_reviewed_article_is_the_reviewers_to_reopen(article, editor, reviewer):
    """An editor's reopen is refused (only a reviewer sends it back); their done is refused with the reason it
    would change nothing; a reviewer's reopen sends it back to work."""
    article_status_change(article=article, actor=reviewer, transition=Transition.REVIEWED)
    refused(
        lambda: article_status_change(article=article, actor=editor, transition=Transition.REOPEN),
        match="This article has been reviewed: .* Only a reviewer can send it back to work.",
    )
    with pytest.raises(ValidationError, match="Marking it done changes nothing"):
        article_status_change(article=article, actor=editor, transition=Transition.DONE)
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED
    article_status_change(article=article, actor=reviewer, transition=Transition.REOPEN)
    assert article.status != Article.Status.REVIEWED


@pytest.mark.django_db
def test_workflow_services_refuse_unprivileged_actors(article, editor, nobody, researcher, curator):
    from annotations.progress import article_mark_reviewed
    from annotations.workflow.services import slot_claim, slot_release

    slot = slot_claim(article=article, editor=editor)
    for actor in (editor, nobody, researcher):
        refused(lambda actor=actor: slot_release(slot=slot, actor=actor), match="Only curators release")
        refused(lambda actor=actor: article_mark_reviewed(article=article, actor=actor))
    assert slot_claim(article=article, editor=nobody) is None  # no right to annotate: no slot
    assert slot_claim(article=article, editor=curator) is None  # curators never take one by opening
    slot.refresh_from_db()
    article.refresh_from_db()
    assert slot.released_at is None and article.status == Article.Status.NEW


# Curation -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assigning_needs_the_permission(article, editor, nobody):
    refused(lambda: curation.assignment_create(article=article, user=editor, assigned_by=nobody))
    refused(lambda: curation.assignment_create(article=article, user=editor, assigned_by=editor))
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_deleting_articles_needs_the_permission(article, span, editor, nobody):
    for actor in (nobody, editor):
        refused(lambda actor=actor: curation.articles_delete(articles=Article.objects.all(), actor=actor))
    assert Article.objects.count() == 1 and Span.objects.count() == 1


@pytest.mark.django_db
def test_label_changes_need_the_permissions(labels, span, editor, reviewer, nobody):
    for actor in (nobody, editor, reviewer):
        refused(lambda actor=actor: curation.label_merge(source=labels["person"], target=labels["org"], actor=actor))
        refused(lambda actor=actor: curation.label_deactivate(label=labels["person"], actor=actor))
    assert Label.objects.get(pk=labels["person"].pk).active
    assert Span.objects.get().label == labels["person"]


@pytest.mark.django_db
def test_bulk_relabel_needs_the_permission_and_ownership(labels, span, other_editor, nobody):
    refused(lambda: curation.spans_relabel(spans=Span.objects.all(), label=labels["org"], actor=nobody))
    refused(lambda: curation.spans_relabel(spans=Span.objects.all(), label=labels["org"], actor=other_editor))
    own = SpanFactory(article=span.article, label=labels["person"], start=5, end=12, annotator=nobody)
    refused(lambda: curation.spans_relabel(spans=Span.objects.filter(pk=own.pk), label=labels["org"], actor=nobody))
    assert set(Span.objects.values_list("label", flat=True)) == {labels["person"].pk}


@pytest.mark.django_db
def test_restoring_a_deleted_span_needs_its_owner_or_a_reviewer(span, editor, other_editor, nobody, reviewer):
    spans.span_delete(span=span, actor=editor)
    event = SpanEvent.objects.get(pgh_label="delete")
    refused(lambda: curation.span_restore(event=event, actor=other_editor))
    refused(lambda: curation.span_restore(event=event, actor=nobody))
    assert not Span.objects.exists()
    assert curation.span_restore(event=event, actor=reviewer).annotator == editor
