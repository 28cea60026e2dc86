"""What a span edit locks: the span's own row, never its label's.

Found by bench/load.py (concurrent relabels and notes answered 503 "deadlock detected"): ``span_update`` locked the
span with ``select_for_update().select_related("label")``, which locks the joined label row FOR UPDATE too, and
then the article. A create on the same article holds the article and, inserting its span, needs FOR KEY SHARE
on that label: each waited for the other. The probe below asks, from a second connection and at the moment the
edit's lock is taken, whether that label row could still be key-shared, as a concurrent create's insert needs.
"""

import psycopg
import pytest
from django.db import connection

from annotations.spans.services import span_update
from tests.factories import SpanFactory


def _label_key_shareable(label_id: int) -> bool:
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=False,
    ) as other:
        try:
            other.execute("SELECT id FROM annotations_label WHERE id = %s FOR KEY SHARE NOWAIT", [label_id])
        except psycopg.errors.LockNotAvailable:
            return False
        finally:
            other.rollback()
    return True


def _probe_when_a_span_is_locked(label_id: int, seen: list[bool]):
    """An execute wrapper that, right after each statement locking a span row, notes in ``seen`` whether the
    label ``label_id`` could still be key-shared by another connection."""

    def probe(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "FOR UPDATE" in sql and 'FROM "annotations_span"' in sql:
            seen.append(_label_key_shareable(label_id))
        return result

    return probe


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"note": "the CTO"}, {"label": "org"}])
def test_editing_a_span_leaves_its_label_free_for_concurrent_creates(editor, labels, change):
    span = SpanFactory(annotator=editor, label=labels["person"])
    seen: list[bool] = []
    probe = _probe_when_a_span_is_locked(labels["person"].pk, seen)

    if "label" in change:
        change = {"label": labels[change["label"]]}
    with connection.execute_wrapper(probe):
        span_update(span=span, actor=editor, **change)
    assert seen == [True]


@pytest.mark.django_db
def test_a_workspace_write_reads_the_span_as_span_locked_does_and_locks_its_row_alone(editor, other_editor, labels):
    """spans.services.span_of_article_locked (the workspace's relabel, note and delete): a statement compiled once,
    the same span and label as the ORM reads them (JSON attributes decoded), None for another article's span or,
    when asked, another editor's; and, as span_locked, its label left free for concurrent creates."""
    from django.db import transaction

    from annotations.spans.services import span_locked, span_of_article_locked

    span = SpanFactory(annotator=editor, label=labels["claim"], attributes={"verdict": "false", "speaker": "Ana"})
    seen: list[bool] = []
    probe = _probe_when_a_span_is_locked(labels["claim"].pk, seen)

    with transaction.atomic(), connection.execute_wrapper(probe):
        found = span_of_article_locked(article_id=span.article_id, span_id=span.pk)
        mine = span_of_article_locked(article_id=span.article_id, span_id=span.pk, annotator_id=editor.pk)
    assert seen == [True, True]
    with transaction.atomic():
        expected = span_locked(span.pk)
        assert span_of_article_locked(article_id=span.article_id + 1, span_id=span.pk) is None
        assert span_of_article_locked(article_id=span.article_id, span_id=span.pk, annotator_id=other_editor.pk) is None
    for got in (found, mine):
        assert got.__dict__.keys() >= {"id", "attributes"} and got.attributes == {"verdict": "false", "speaker": "Ana"}
        assert [getattr(got, f.attname) for f in got._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in expected._meta.concrete_fields
        ]
        assert got.label == expected.label and got.label.name == expected.label.name and not got._state.adding
