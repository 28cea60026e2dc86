"""A decision on one conflict reads only what it touches (``review_focus``): PostgreSQL groups the versions into
conflicts, and the answer must be the one the whole alignment in Python gives, on any layers. Random overlapping
layers (stacked same-label spans, other labels, other boundaries, spans only some editors made, an unfinished
editor whose layer does not count), some conflicts decided whole or in part, some gold: for every span, the
focus must name the conflict the full alignment puts it in (or none), with the same counters, the same version
digest, and the same stretch of the page's body to redraw."""

from __future__ import annotations

import random
import re

import pytest
from django.utils import timezone

from annotations.models import Span
from annotations.review import services
from annotations.review.alignment import EditorSpan
from annotations.review.focus import review_focus
from annotations.review.models import GoldDecision, GoldSource, GoldSpan, ReviewDecision
from annotations.review.rendering import changed_window, drawn_rows, item_hash, layers_digest, span_item
from annotations.review.selectors import review_state
from tests.annotations.agreement.conftest import finish
from tests.annotations.review.conftest import at
from tests.factories import ArticleFactory, SpanFactory, make_editor

SEEDS = range(24)


def random_review(rng: random.Random, labels, reviewer):
    """An article with 2 or 3 finished layers drawn from one pool of places, an unfinished layer, some decisions
    and some gold."""
    words = [f"w{n}" for n in range(rng.randint(25, 60))]
    article = ArticleFactory(body=" ".join(words))
    body = article.body
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\w+", body)]
    label_list = [labels["person"], labels["org"], labels["claim"]]
    places = []
    for _ in range(rng.randint(8, 30)):
        first = rng.randrange(len(bounds))
        last = min(len(bounds) - 1, first + rng.choice([0, 0, 0, 1, 2, 4]))
        end = bounds[last][1] + (rng.random() < 0.2 and last + 1 < len(bounds))  # its space too: touches the next
        places.append((bounds[first][0], end, rng.choice(label_list)))
    editors = [make_editor(f"e{n}") for n in range(rng.choice([2, 3, 3]))]
    unfinished = make_editor("late")
    rows = []
    for who in [*editors, unfinished]:
        for start, end, label in places:
            if rng.random() < 0.3:
                continue
            if rng.random() < 0.15:
                label = rng.choice(label_list)
            if rng.random() < 0.15 and end - start > 2:
                end -= 1
            rows.append(Span(article=article, label=label, start=start, end=end, text=body[start:end], annotator=who))
    Span.objects.bulk_create(rows, ignore_conflicts=True)
    finish(article, *editors)
    state = review_state(article=article)
    now = timezone.now()
    for conflict in state.alignment.conflicts:
        roll = rng.random()
        ids = conflict.span_ids if roll < 0.3 else rng.sample(conflict.span_ids, 1) if roll < 0.4 else []
        if ids:
            ReviewDecision.objects.create(
                article=article, reviewer=reviewer, action="reject", span_ids=ids, created_at=now
            )
    for start, end, label in rng.sample(places, min(len(places), rng.randint(0, 6))):
        GoldSpan.objects.get_or_create(
            article=article,
            label=label,
            start=start,
            end=end,
            defaults={
                "text": body[start:end],
                "decision": GoldDecision.ADDED,
                "accepted_by": reviewer,
                "accepted_at": now,
            },
        )
    return article


def shape(conflict):
    return [
        (v.label_id, v.start, v.end, v.text, [tuple(s) for s in v.spans]) for v in conflict.versions
    ], conflict.settled


@pytest.mark.parametrize("seed", SEEDS)
def test_the_focus_agrees_with_the_whole_alignment(seed, labels, reviewer):
    rng = random.Random(seed)
    article = random_review(rng, labels, reviewer)
    full = review_state(article=article, with_gold=True)
    gold = full.gold or []
    length = len(article.body)
    digest = layers_digest(editor_ids=full.editor_ids, spans=full.spans, decided=full.alignment.decided, gold=gold)
    open_conflicts = full.alignment.open_conflicts()
    rows_before = drawn_rows(gold, full.alignment.conflicts)
    in_conflict = {span_id: c for c in full.alignment.conflicts for span_id in c.span_ids}
    probes = [s.id for s in full.spans] + [max((s.id for s in full.spans), default=0) + 1000]
    for span_id in probes:
        focus = review_focus(article=article, span_id=span_id, length=length)
        assert focus.editor_ids == full.editor_ids
        assert focus.digest == digest
        assert (focus.conflicts, focus.open, focus.gold_count) == (
            len(full.alignment.conflicts),
            len(open_conflicts),
            len(gold),
        )
        expected = in_conflict.get(span_id)
        if expected is None:
            assert focus.conflict is None, span_id
            continue
        assert focus.conflict is not None and focus.conflict.key == expected.key
        assert shape(focus.conflict) == shape(expected)
        assert focus.decided == set(expected.span_ids) & full.alignment.decided
        if expected.settled:
            continue
        # The stretch of the body a decision on it redraws: where the full drawings before and after differ
        # (the conflict's extent gone; a gold span made inside it changes nothing outside the conflict's extent).
        rows_after = [row for row in rows_before if row[0] != -expected.ident]
        window = changed_window(rows_before, rows_after, length=length)
        assert focus.window == window
        lo, hi = window
        near = {row for row in rows_after if row[1] < hi and row[2] > lo}
        assert set(focus.drawn) == near
        after_start = [g for g in gold if g.start >= expected.start]
        inside = [g for g in after_start if g.start < expected.end]
        following = [g for g in after_start if g.start >= expected.end][:1]
        assert focus.gold == sorted(inside + following, key=lambda g: (g.start, -g.end, g.label_id))


def test_the_version_digest_is_a_sum_postgresql_computes_the_same(labels, reviewer):
    rng = random.Random(99)
    article = random_review(rng, labels, reviewer)
    full = review_state(article=article, with_gold=True)
    span = full.spans[0]
    focus = review_focus(article=article, span_id=span.id, length=len(article.body))
    # Swapping two spans' starts, or deciding one more span, changes the digest.
    assert item_hash(2, 10, 1, 1, 5, 9) + item_hash(2, 11, 1, 1, 7, 12) != item_hash(2, 10, 1, 1, 7, 9) + item_hash(
        2, 11, 1, 1, 5, 12
    )
    ReviewDecision.objects.create(
        article=article, reviewer=reviewer, action="reject", span_ids=[span.id + 10**6], created_at=timezone.now()
    )
    later = review_focus(article=article, span_id=span.id, length=len(article.body))
    assert later.digest == (focus.digest + item_hash(3, span.id + 10**6)) % 2**64


def test_an_accepted_claim_keeps_its_note_and_attributes_and_an_existing_gold_span_gains_sources(
    article, labels, editor, other_editor, reviewer
):
    start, end = at("the chip ships in May")
    claim = SpanFactory(
        article=article,
        label=labels["claim"],
        annotator=editor,
        start=start,
        end=end,
        note="Vendor's own date",
        attributes={"verdict": "unverified"},
    )
    other = SpanFactory(article=article, label=labels["claim"], annotator=other_editor, start=start, end=end - 7)
    finish(article, editor, other_editor)
    key = review_state(article=article).alignment.conflicts[0].key
    services.review_accept_version(article=article, reviewer=reviewer, conflict=key, editor_id=editor.pk)
    gold = GoldSpan.objects.get(article=article)
    assert (gold.note, gold.attributes, gold.text) == ("Vendor's own date", {"verdict": "unverified"}, claim.text)
    assert list(GoldSource.objects.filter(gold=gold).values_list("span_ref", flat=True)) == [claim.pk]
    # Undone, then the other editor's version already in gold: accepting it adds sources, not a second gold span.
    services.review_undo(article=article, reviewer=reviewer)
    made = GoldSpan.objects.create(
        article=article,
        label=labels["claim"],
        start=other.start,
        end=other.end,
        text=other.text,
        decision=GoldDecision.ADDED,
        accepted_by=reviewer,
        accepted_at=timezone.now(),
    )
    outcome = services.review_accept_version(
        article=article, reviewer=reviewer, conflict=key, editor_id=other_editor.pk
    )
    assert outcome.gold_created == 0 and GoldSpan.objects.filter(article=article).count() == 1
    assert list(GoldSource.objects.filter(gold=made).values_list("span_ref", flat=True)) == [other.pk]


def test_the_unrolled_span_hash_is_the_item_hash():
    rng = random.Random(5)
    for _ in range(500):
        span = EditorSpan(*(rng.choice([rng.randrange(2**31 + 9), rng.randrange(10**15)]) for _ in range(5)), "")
        assert layers_digest(editor_ids=[], spans=[span], decided=[], gold=[]) == item_hash(*span_item(span))


@pytest.mark.parametrize("key", ["99999999999999999999,1", "٣", "", "1,2"])
def test_a_key_naming_no_conflict_is_refused_as_stale(article, two_layers, reviewer, key):
    with pytest.raises(services.StaleReview):
        services.review_reject(article=article, reviewer=reviewer, conflict=key)
    assert not ReviewDecision.objects.filter(article=article).exists()
