"""Unanimous agreement is accepted into gold when the article becomes ready for review, without a reviewer's key."""

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import Assignment
from annotations.progress import Transition, article_status_change
from annotations.review import services
from annotations.review.alignment import ConflictKind
from annotations.review.models import GoldDecision, GoldSource, GoldSpan, ReviewDecision
from annotations.review.selectors import review_state
from articles.models import Article
from tests.annotations.review.conftest import at
from tests.factories import SpanFactory
from tests.html import select, text


@pytest.fixture
def labelled(article, labels, editor, other_editor):
    """Both editors hold a started slot; they agree on one PERSON and differ on an ORG's label."""
    now = timezone.now()
    for who in (editor, other_editor):
        Assignment.objects.create(article=article, user=who, leased_until=now, started_at=now)
    for who, label in ((editor, labels["org"]), (other_editor, labels["person"])):
        SpanFactory(
            article=article,
            label=labels["person"],
            start=at("Mara Okonkwo")[0],
            end=at("Mara Okonkwo")[1],
            annotator=who,
        )
        SpanFactory(
            article=article,
            label=label,
            start=at("Larchfield Systems")[0],
            end=at("Larchfield Systems")[1],
            annotator=who,
        )
    return article


def done(article, *editors):
    for who in editors:
        article_status_change(article=article, actor=who, transition=Transition.DONE)


def test_agreed_spans_become_gold_when_the_last_editor_is_done(labelled, editor, other_editor):
    done(labelled, editor)
    assert not GoldSpan.objects.exists()  # one editor done: not ready, nothing merged
    done(labelled, other_editor)
    labelled.refresh_from_db()
    assert labelled.status == Article.Status.READY_FOR_REVIEW
    gold = GoldSpan.objects.get(article=labelled)
    assert (gold.text, gold.decision, gold.label.slug) == ("Mara Okonkwo", GoldDecision.AUTO, "person")
    assert gold.accepted_by.username == services.AUTO_MERGE_USERNAME
    assert not gold.accepted_by.has_usable_password() and not gold.accepted_by.is_active
    assert sorted(GoldSource.objects.filter(gold=gold).values_list("annotator_id", flat=True)) == sorted(
        [editor.pk, other_editor.pk]
    )
    alignment = review_state(article=labelled).alignment
    assert alignment.agreed_open() == []
    assert [c.kind for c in alignment.open_conflicts()] == [ConflictKind.LABELS]


def test_the_review_page_shows_them_accepted_and_its_get_saves_nothing(
    client, reviewer, labelled, editor, other_editor
):
    done(labelled, editor, other_editor)
    client.force_login(reviewer)
    decisions = ReviewDecision.objects.count()
    page = client.get(reverse("annotations:article-review", args=[labelled.pk]))
    assert ReviewDecision.objects.count() == decisions
    items = select(page.content, "ul.gold li")
    assert len(items) == 1
    assert "Mara Okonkwo" in text(items[0]) and "Merged automatically" in text(items[0])
    assert "Accept every agreed span (0)" in page.content.decode()


def test_re_merge_leaves_the_reviewers_decision_alone(labelled, editor, other_editor, reviewer):
    done(labelled, editor, other_editor)
    key = review_state(article=labelled).alignment.open_conflicts()[0].key
    services.review_reject(article=labelled, reviewer=reviewer, conflict=key)
    outcome = services.review_merge(article=labelled, reviewer=reviewer)
    assert outcome.gold_created == 0
    assert GoldSpan.objects.filter(article=labelled).count() == 1
    assert ReviewDecision.objects.filter(article=labelled, action="reject", undone_at__isnull=True).count() == 1


def test_the_reviewer_can_undo_the_automatic_merge_after_their_own_decisions(labelled, editor, other_editor, reviewer):
    done(labelled, editor, other_editor)
    key = review_state(article=labelled).alignment.open_conflicts()[0].key
    services.review_reject(article=labelled, reviewer=reviewer, conflict=key)
    services.review_undo(article=labelled, reviewer=reviewer)  # their own reject first
    assert GoldSpan.objects.filter(article=labelled).count() == 1
    services.review_undo(article=labelled, reviewer=reviewer)  # then the automatic merge
    assert not GoldSpan.objects.filter(article=labelled).exists()
    assert len(review_state(article=labelled).alignment.agreed_open()) == 1
