"""Review services: alignment, every decision, atomic accept-agreed, undo, reviewed on the current state."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from annotations.models import Span
from annotations.review import services
from annotations.review.alignment import ConflictKind
from annotations.review.models import GoldDecision, GoldSource, GoldSpan, ReviewDecision
from annotations.review.selectors import review_state
from articles.models import Article
from tests.annotations.agreement.conftest import finish
from tests.annotations.review.conftest import BODY, at
from tests.factories import SpanFactory


def conflicts(article):
    return {c.kind: c for c in review_state(article=article).alignment.conflicts}


def gold_rows(article):
    return sorted(GoldSpan.objects.filter(article=article).values_list("label__name", "start", "end", "text"))


def test_alignment_finds_agreed_spans_and_each_kind_of_conflict(article, two_layers):
    state = review_state(article=article)
    assert [(v.start, v.end) for v in state.alignment.agreed] == [at("Mara Okonkwo")]
    kinds = sorted(c.kind for c in state.alignment.conflicts)
    assert kinds == sorted([ConflictKind.LABELS, ConflictKind.BOUNDARIES, ConflictKind.MISSING])


def test_a_perfect_agreement_is_agreed_even_under_an_overlapping_disagreement(article, labels, editor, other_editor):
    # webanno#1101: both editors made PERSON "Mara Okonkwo"; ed also made an ORG over a longer range.
    for who in (editor, other_editor):
        SpanFactory(
            article=article,
            label=labels["person"],
            annotator=who,
            **dict(zip(("start", "end"), at("Mara Okonkwo"), strict=True)),
        )
    start, end = at("Mara Okonkwo of Larchfield")
    SpanFactory(article=article, label=labels["org"], annotator=editor, start=start, end=end)
    finish(article, editor, other_editor)
    state = review_state(article=article)
    assert [(v.start, v.end) for v in state.alignment.agreed] == [at("Mara Okonkwo")]
    assert [c.kind for c in state.alignment.conflicts] == [ConflictKind.MISSING]


def test_accepting_a_version_makes_gold_with_provenance_and_settles_the_conflict(article, two_layers, reviewer, editor):
    conflict = conflicts(article)[ConflictKind.LABELS]
    outcome = services.review_accept_version(
        article=article, reviewer=reviewer, conflict=conflict.key, editor_id=editor.pk
    )
    assert outcome.gold_created == 1
    gold = GoldSpan.objects.get(article=article)
    assert (gold.label.name, gold.text, gold.decision, gold.accepted_by) == (
        "ORG",
        "Larchfield Systems",
        GoldDecision.ACCEPTED,
        reviewer,
    )
    source = gold.sources.get()
    assert (source.span_ref, source.annotator, source.label.name) == (two_layers["labels_a"].pk, editor, "ORG")
    assert conflicts(article)[ConflictKind.LABELS].settled
    # Provenance survives the editor deleting their span.
    Span.objects.filter(pk=two_layers["labels_a"].pk).delete()
    source.refresh_from_db()
    assert (source.span_id, source.span_ref, source.text) == (None, two_layers["labels_a"].pk, "Larchfield Systems")


def test_rejecting_settles_without_gold(article, two_layers, reviewer):
    conflict = conflicts(article)[ConflictKind.MISSING]
    services.review_reject(article=article, reviewer=reviewer, conflict=conflict.key)
    assert conflicts(article)[ConflictKind.MISSING].settled
    assert not GoldSpan.objects.exists()


def test_adjusting_boundaries_over_a_conflict_settles_it_with_exact_code_points(article, two_layers, reviewer, labels):
    conflict = conflicts(article)[ConflictKind.BOUNDARIES]
    start, end = at("Quillix Labs otherwise")
    services.review_add(
        article=article,
        reviewer=reviewer,
        label=labels["org"],
        start=start,
        end=end,
        text=BODY[start:end],
        conflict=conflict.key,
    )
    gold = GoldSpan.objects.get()
    assert (gold.start, gold.end, gold.decision) == (start, end, GoldDecision.ADJUSTED)
    assert BODY[gold.start : gold.end] == "Quillix Labs otherwise"
    assert sorted(gold.sources.values_list("span_ref", flat=True)) == sorted(
        [two_layers["bounds_a"].pk, two_layers["bounds_b"].pk]
    )
    assert conflicts(article)[ConflictKind.BOUNDARIES].settled


def test_adding_refuses_text_that_does_not_match_and_saves_nothing(article, two_layers, reviewer, labels):
    start, end = at("Cafe\u0301")
    with pytest.raises(ValidationError, match="does not match"):
        services.review_add(
            article=article, reviewer=reviewer, label=labels["person"], start=start, end=end - 1, text="Café"
        )
    assert not GoldSpan.objects.exists() and not ReviewDecision.objects.exists()


def test_accept_every_agreed_span_is_one_atomic_action_and_reports_what_it_saved(article, two_layers, reviewer):
    outcome = services.review_accept_agreed(article=article, reviewer=reviewer)
    assert (outcome.gold_created, outcome.settled) == (1, 1)
    assert outcome.message == "Accepted 1 agreed span(s): 1 new in gold."
    assert gold_rows(article) == [("PERSON", *at("Mara Okonkwo"), "Mara Okonkwo")]
    assert services.review_accept_agreed(article=article, reviewer=reviewer).gold_created == 0


def test_accept_every_agreed_span_saves_nothing_when_one_fails(article, two_layers, reviewer, monkeypatch):
    # INCEpTION #6355: a failure part way must leave nothing saved, not a report of failure over saved rows.
    real = services._version_gold
    calls = []

    def failing(**kwargs):
        calls.append(1)
        real(**kwargs)
        raise IntegrityError("simulated failure after the first row")

    monkeypatch.setattr(services, "_version_gold", failing)
    with pytest.raises(IntegrityError):
        services.review_accept_agreed(article=article, reviewer=reviewer)
    assert calls and not GoldSpan.objects.exists() and not ReviewDecision.objects.exists()


def test_stacked_identical_spans_of_several_editors_are_one_gold_span(article, labels, editor, other_editor, reviewer):
    # inception#1893
    start, end = at("Quillix Labs")
    for who in (editor, other_editor):
        SpanFactory(article=article, label=labels["org"], annotator=who, start=start, end=end)
    finish(article, editor, other_editor)
    services.review_merge(article=article, reviewer=reviewer)
    gold = GoldSpan.objects.get()
    assert gold.decision == GoldDecision.AUTO and gold.sources.count() == 2


def test_undo_removes_the_gold_of_the_last_decision_and_reopens_its_conflict(article, two_layers, reviewer, editor):
    services.review_accept_agreed(article=article, reviewer=reviewer)
    conflict = conflicts(article)[ConflictKind.LABELS]
    services.review_accept_version(article=article, reviewer=reviewer, conflict=conflict.key, editor_id=editor.pk)
    services.review_undo(article=article, reviewer=reviewer)
    assert gold_rows(article) == [("PERSON", *at("Mara Okonkwo"), "Mara Okonkwo")]
    assert not conflicts(article)[ConflictKind.LABELS].settled
    assert not GoldSource.objects.filter(span_ref=two_layers["labels_a"].pk).exists()


def test_merge_keeps_the_reviewers_decisions(article, two_layers, reviewer, other_editor):
    conflict = conflicts(article)[ConflictKind.LABELS]
    services.review_accept_version(article=article, reviewer=reviewer, conflict=conflict.key, editor_id=other_editor.pk)
    services.review_merge(article=article, reviewer=reviewer)
    assert gold_rows(article) == [
        ("PERSON", *at("Mara Okonkwo"), "Mara Okonkwo"),
        ("PERSON", *at("Larchfield Systems"), "Larchfield Systems"),
    ]


def test_marking_reviewed_needs_every_conflict_settled_or_an_override_note(article, two_layers, reviewer):
    state = review_state(article=article).state
    with pytest.raises(ValidationError, match="3 conflict\\(s\\) and 1 agreed span\\(s\\) are not settled"):
        services.review_mark_reviewed(article=article, reviewer=reviewer, state=state)
    services.review_mark_reviewed(article=article, reviewer=reviewer, state=state, override_note="rest is noise")
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED
    assert ReviewDecision.objects.get(action="reviewed").note == "rest is noise"


def test_marking_reviewed_acts_on_the_current_layers(article, two_layers, reviewer, editor, labels):
    # INCEpTION #6314: the page was drawn, then an editor changed their layer.
    state = review_state(article=article).state
    services.review_accept_agreed(article=article, reviewer=reviewer)
    for conflict in review_state(article=article).alignment.conflicts:
        services.review_reject(article=article, reviewer=reviewer, conflict=conflict.key)
    start, end = at("chip")
    SpanFactory(article=article, label=labels["org"], annotator=editor, start=start, end=end)
    with pytest.raises(services.StaleReview, match="changed since this page was drawn"):
        services.review_mark_reviewed(article=article, reviewer=reviewer, state=state)
    article.refresh_from_db()
    assert article.status != Article.Status.REVIEWED


def test_a_conflict_that_changed_under_the_page_is_refused(article, two_layers, reviewer, editor):
    conflict = conflicts(article)[ConflictKind.LABELS]
    Span.objects.filter(pk=two_layers["labels_b"].pk).delete()
    with pytest.raises(ValidationError, match="changed since this page was drawn"):
        services.review_accept_version(article=article, reviewer=reviewer, conflict=conflict.key, editor_id=editor.pk)


@pytest.mark.parametrize("who", ["editor", "researcher", "nobody"])
def test_every_review_service_refuses_an_unprivileged_actor(
    article, two_layers, labels, who, request, django_user_model
):
    actor = django_user_model.objects.create(username="nobody") if who == "nobody" else request.getfixturevalue(who)
    key = conflicts(article)[ConflictKind.LABELS].key
    start, end = at("chip")
    calls = [
        lambda: services.review_accept_version(article=article, reviewer=actor, conflict=key, editor_id=actor.pk),
        lambda: services.review_reject(article=article, reviewer=actor, conflict=key),
        lambda: services.review_add(
            article=article, reviewer=actor, label=labels["org"], start=start, end=end, text=None
        ),
        lambda: services.review_accept_agreed(article=article, reviewer=actor),
        lambda: services.review_merge(article=article, reviewer=actor),
        lambda: services.review_undo(article=article, reviewer=actor),
        lambda: services.review_mark_reviewed(article=article, reviewer=actor, state="x", override_note="n"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match="Only reviewers"):
            call()
    assert not GoldSpan.objects.exists() and not ReviewDecision.objects.exists()


INSERT_GOLD = (
    'INSERT INTO annotations_goldspan (article_id, label_id, start, "end", text, note, attributes, decision,'
    " accepted_by_id, accepted_at) VALUES (%s, %s, 0, %s, %s, '', '{}', 'added', %s, now())"
)


def test_the_database_refuses_a_gold_span_whose_text_is_not_the_body(article, reviewer, labels):
    with (
        pytest.raises(IntegrityError, match="does not match"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(INSERT_GOLD, [article.pk, labels["org"].pk, 4, "nope", reviewer.pk])
    with pytest.raises(IntegrityError, match="goldspan_unique"), transaction.atomic(), connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(INSERT_GOLD, [article.pk, labels["org"].pk, 1, BODY[0], reviewer.pk])


def test_gold_decisions_are_kept_in_the_history(article, two_layers, reviewer):
    services.review_accept_agreed(article=article, reviewer=reviewer)
    services.review_undo(article=article, reviewer=reviewer)
    from annotations.models import GoldSpanEvent, ReviewDecisionEvent  # pghistory's event models

    assert list(GoldSpanEvent.objects.order_by("pgh_id").values_list("pgh_label", flat=True)) == ["insert", "delete"]
    assert ReviewDecisionEvent.objects.filter(pgh_label="update", undone_at__isnull=False).exists()


def test_gold_feeds_the_agreement_figures(article, two_layers, reviewer):
    import io
    import json

    from django.core.management import call_command

    services.review_accept_agreed(article=article, reviewer=reviewer)
    for conflict in review_state(article=article).alignment.conflicts:
        services.review_reject(article=article, reviewer=reviewer, conflict=conflict.key)
    services.review_mark_reviewed(article=article, reviewer=reviewer, state=review_state(article=article).state)
    out = io.StringIO()
    call_command("agreement", "--format", "json", stdout=out)
    gold = json.loads(out.getvalue())["labels"]["PERSON"]["gold"]
    # Gold holds PERSON "Mara Okonkwo" only; ed2 made exactly that PERSON span plus one on the ORG's range.
    assert set(gold) == {"ed", "ed2"}
    assert gold["ed"]["recall"] == 1.0 and gold["ed2"]["recall"] == 1.0
    assert gold["ed"]["precision"] < 1.0


def test_majority_merge_accepts_what_enough_editors_made_and_only_that(article, labels, editor, other_editor, reviewer):
    from django.contrib.auth.models import Group

    from annotations.workflow.selectors import workflow_settings
    from tests.factories import UserFactory

    third = UserFactory(username="ed3")
    third.groups.add(Group.objects.get(name="Editors"))
    settings = workflow_settings()
    settings.merge_strategy, settings.majority_threshold = "majority", 2
    settings.save(update_fields=["merge_strategy", "majority_threshold"])
    start, end = at("Larchfield Systems")
    for who, label in ((editor, "org"), (other_editor, "org"), (third, "person")):
        SpanFactory(article=article, label=labels[label], annotator=who, start=start, end=end)
    start, end = at("Quillix")
    SpanFactory(article=article, label=labels["org"], annotator=third, start=start, end=end)
    finish(article, editor, other_editor, third)
    outcome = services.review_merge(article=article, reviewer=reviewer)
    assert outcome.gold_created == 1
    assert gold_rows(article) == [("ORG", *at("Larchfield Systems"), "Larchfield Systems")]
    open_conflicts = review_state(article=article).alignment.open_conflicts()
    assert [(c.start, c.end) for c in open_conflicts] == [at("Quillix")]
