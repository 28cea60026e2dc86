import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from annotations.models import Span
from annotations.spans.selectors import body_lock_reason
from annotations.spans.services import span_create, span_delete, span_update
from articles.services import article_update
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db

BODY = "Mara Okonkwo 👩‍💻 said «مرحبا» and Rene\u0301e agreed.\nCJK: 株式会社"


@pytest.fixture
def article():
    return ArticleFactory(body=BODY)


def test_create_stores_code_point_offsets_and_text(article, labels, editor):
    start = BODY.index("Rene\u0301e")
    span = span_create(article=article, label=labels["person"], start=start, end=start + 6, annotator=editor)
    span.refresh_from_db()
    assert span.text == "Rene\u0301e" == BODY[span.start : span.end]
    emoji = span_create(article=article, label=labels["org"], start=13, end=16, annotator=editor, text="👩‍💻")
    assert emoji.text == BODY[13:16]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (-1, 3, "negative"),
        (5, 5, "at least one character"),
        (6, 2, "at least one character"),
        (0, len(BODY) + 1, "past the end"),
        ("a", 3, "whole numbers"),
        (None, 3, "whole numbers"),
    ],
)
def test_create_rejects_bad_offsets(article, labels, editor, start, end, message):
    with pytest.raises(ValidationError, match=message):
        span_create(article=article, label=labels["person"], start=start, end=end, annotator=editor)
    assert Span.objects.count() == 0


def test_create_rejects_text_mismatch(article, labels, editor):
    with pytest.raises(ValidationError, match="does not match"):
        span_create(article=article, label=labels["person"], start=0, end=4, annotator=editor, text="Okon")
    assert Span.objects.count() == 0


def test_create_rejects_inactive_label(article, labels, editor):
    labels["org"].active = False
    labels["org"].save()
    with pytest.raises(ValidationError, match="inactive"):
        span_create(article=article, label=labels["org"], start=0, end=4, annotator=editor)


def test_same_create_twice_stores_one_span(article, labels, editor):
    first = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    again = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    assert first.pk == again.pk
    assert Span.objects.count() == 1


def test_overlapping_and_nested_spans_are_allowed(article, labels, editor, other_editor):
    span_create(article=article, label=labels["claim"], start=0, end=30, annotator=editor)
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=other_editor)
    assert Span.objects.count() == 3


def test_database_rejects_start_not_before_end(article, labels, editor):
    with pytest.raises(IntegrityError, match="span_start_before_end"), transaction.atomic():
        Span.objects.create(article=article, label=labels["person"], start=4, end=4, text="", annotator=editor)


def test_database_rejects_duplicate_span(article, labels, editor):
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    with pytest.raises(IntegrityError, match="span_unique_per_annotator"), transaction.atomic():
        Span.objects.create(article=article, label=labels["person"], start=0, end=4, text="Mara", annotator=editor)


def test_database_rejects_text_that_is_not_the_body(article, labels, editor):
    with pytest.raises(IntegrityError, match="does not match body"), transaction.atomic():
        Span.objects.create(article=article, label=labels["person"], start=0, end=4, text="Nope", annotator=editor)
    with pytest.raises(IntegrityError, match="past the end"), transaction.atomic():
        Span.objects.create(
            article=article, label=labels["person"], start=len(BODY), end=len(BODY) + 2, text="xx", annotator=editor
        )


def test_body_is_immutable_once_spanned(article, labels, editor):
    article_update(article=article, body=BODY + " More.")  # no spans yet: allowed
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    with pytest.raises(ValidationError, match="cannot change: 1 span") as refused:
        article_update(article=article, body="Something else entirely.")
    # The database's explanation is the one the admin gives up front.
    assert refused.value.message_dict["body"] == [body_lock_reason(article=article)]
    article.refresh_from_db()
    assert article.body == BODY + " More."
    # The database refuses too, whatever code tries.
    with pytest.raises(IntegrityError, match="text cannot change"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE articles_article SET body = 'x' WHERE id = %s", [article.pk])
    # Other fields stay editable.
    article_update(article=article, title="New title")
    article.refresh_from_db()
    assert article.title == "New title"


def test_update_relabels_and_rechecks_offsets(article, labels, editor):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    span_update(span=span, actor=editor, label=labels["org"], note="check spelling", end=12)
    span.refresh_from_db()
    assert (span.label, span.end, span.text, span.note) == (labels["org"], 12, "Mara Okonkwo", "check spelling")
    with pytest.raises(ValidationError, match="past the end"):
        span_update(span=span, actor=editor, end=10_000)


def test_only_owner_or_reviewer_changes_a_span(article, labels, editor, other_editor, reviewer):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    with pytest.raises(PermissionDenied):
        span_delete(span=span, actor=other_editor)
    with pytest.raises(PermissionDenied):
        span_update(span=span, actor=other_editor, note="mine now")
    span_update(span=span, actor=reviewer, note="reviewed")
    span_delete(span=span, actor=reviewer)
    assert not Span.objects.exists()


@pytest.mark.django_db
def test_hotkeys_are_unique_ignoring_case_in_the_database(labels):
    labels["person"].hotkey = "p"
    labels["person"].save()
    refused = pytest.raises(IntegrityError, match="label_hotkey_lower_unique")
    with refused, transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE annotations_label SET hotkey = 'P' WHERE id = %s", [labels["org"].pk])
    with connection.cursor() as cur:  # empty hotkeys stay allowed on any number of labels
        cur.execute("UPDATE annotations_label SET hotkey = ''")
