"""Propagation in one article costs the same few queries however often the labelled word recurs: a stop word
labelled by mistake gets at most ``MAX_PER_CREATE`` suggestions, the nearest to the labelled place first, and
every rule (whole words, other labels block, one per editor and place, other articles untouched) still holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.spans.services import span_create
from annotations.suggestions.models import Suggestion, SuggestionOrigin, SuggestionStatus
from annotations.suggestions.propagation import MAX_PER_CREATE, suggestions_propagate_span
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def _body(times: int) -> str:
    return " ".join(f"the chip{i} ships." for i in range(times))


def _starts_of(body: str, word: str) -> list[int]:
    starts, at = [], body.find(word)
    while at != -1:
        starts.append(at)
        at = body.find(word, at + 1)
    return starts


def test_a_stop_word_gets_at_most_the_cap_nearest_first(labels, editor):
    body = _body(3 * MAX_PER_CREATE)
    article = ArticleFactory(body=body)
    starts = _starts_of(body, "the ")
    middle = starts[len(starts) // 2]
    span = span_create(article=article, label=labels["person"], start=middle, end=middle + 3, annotator=editor)
    with CaptureQueriesContext(connection) as queries:
        assert suggestions_propagate_span(span=span) == MAX_PER_CREATE
    # The body read and one INSERT … SELECT (the savepoint pair of the atomic block aside).
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 2
    suggested = sorted(Suggestion.objects.filter(article=article).values_list("start", flat=True))
    others = sorted((s for s in starts if s != middle), key=lambda s: (abs(s - middle), s))
    assert suggested == sorted(others[:MAX_PER_CREATE])
    assert set(Suggestion.objects.values_list("text", "origin", "status", "derived_from", "created_by")) == {
        ("the", SuggestionOrigin.PROPAGATION, SuggestionStatus.PENDING, editor.pk, editor.pk)
    }


def test_labelling_again_further_on_suggests_the_next_places_never_the_same_twice(labels, editor):
    body = _body(MAX_PER_CREATE + 50)
    article = ArticleFactory(body=body)
    starts = _starts_of(body, "the ")
    first = span_create(article=article, label=labels["person"], start=0, end=3, annotator=editor)
    assert suggestions_propagate_span(span=first) == MAX_PER_CREATE
    last = span_create(article=article, label=labels["person"], start=starts[-1], end=starts[-1] + 3, annotator=editor)
    # Every other place but the two labelled ones, each once (none where the editor labelled it the same way).
    assert suggestions_propagate_span(span=last) == len(starts) - 2 - MAX_PER_CREATE
    assert Suggestion.objects.filter(article=article).count() == len(starts) - 2
    assert not Suggestion.objects.filter(start__in=[0, starts[-1]]).exists()


def test_the_query_does_not_depend_on_how_often_the_word_occurs(labels, editor):
    counted = []
    for times in (3, 2 * MAX_PER_CREATE):
        article = ArticleFactory(body=_body(times))
        span = span_create(article=article, label=labels["person"], start=0, end=3, annotator=editor)
        with CaptureQueriesContext(connection) as queries:
            suggestions_propagate_span(span=span, body=article.body)
        counted.append(len(queries))
    assert counted[0] == counted[1]


def test_blocking_spans_and_other_articles_within_the_set_based_insert(labels, editor, other_editor):
    body = "Quillix, Quillix Labs, Quillix; and Quillixian Quillix. Ask Quillix now."
    article = ArticleFactory(body=body)
    elsewhere = ArticleFactory(body=body + " Again.")
    first, second, third, fourth, fifth = (i for i in _starts_of(body, "Quillix") if body[i + 7] != "i")
    org = labels["org"]
    span_create(article=article, label=org, start=first, end=first + 3, annotator=other_editor)  # inside it
    span_create(article=article, label=org, start=second, end=second + 12, annotator=other_editor)  # around: fine
    span_create(article=article, label=org, start=fourth, end=fourth + 7, annotator=other_editor)  # exactly on it
    span_create(article=article, label=org, start=fifth + 4, end=fifth + 11, annotator=other_editor)  # crossing
    span = span_create(article=article, label=labels["person"], start=third, end=third + 7, annotator=editor)
    assert suggestions_propagate_span(span=span) == 1
    assert list(Suggestion.objects.values_list("article", "start", "end")) == [(article.pk, second, second + 7)]
    assert not Suggestion.objects.filter(article=elsewhere).exists()


def test_the_database_checks_every_row_of_a_many_row_insert_and_every_update(labels, editor):
    from django.db import IntegrityError, transaction

    article = ArticleFactory(body="Quillix met Mara. Quillix left.")
    other = ArticleFactory(body="Mara Okonkwo wrote it.")

    def suggestion(on, start, text):
        return Suggestion(
            article=on, label=labels["org"], start=start, end=start + len(text), text=text, origin="propagation"
        )

    good = [suggestion(article, 0, "Quillix"), suggestion(other, 0, "Mara")]
    for bad in (suggestion(article, 18, "Quillis"), suggestion(other, 5, "Okonkwa"), suggestion(other, 20, "xyz")):
        with pytest.raises(IntegrityError, match=r"suggestion_text_matches_body|does not match"), transaction.atomic():
            Suggestion.objects.bulk_create([*good, bad])
    Suggestion.objects.bulk_create(good)
    assert Suggestion.objects.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Suggestion.objects.filter(article=article).update(start=1, end=8)


def test_under_the_cap_places_suggested_already_are_left_to_the_unique_index(labels, editor):
    """Under MAX_PER_CREATE places the statement has no test of its own for places this editor has suggested: the
    insert's ON CONFLICT skips them (suggestion_unique_place), and only new suggestions are counted."""
    body = _body(10)
    article = ArticleFactory(body=body)
    first, second = _starts_of(body, "the ")[:2]
    span = span_create(article=article, label=labels["person"], start=first, end=first + 3, annotator=editor)
    assert suggestions_propagate_span(span=span) == 9  # every other place
    span = span_create(article=article, label=labels["person"], start=second, end=second + 3, annotator=editor)
    assert suggestions_propagate_span(span=span) == 0  # suggested already, or labelled by the editor
    assert Suggestion.objects.filter(article=article, derived_from=editor).count() == 9
