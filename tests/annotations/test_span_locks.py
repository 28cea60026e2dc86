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


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"note": "the CTO"}, {"label": "org"}])
def test_editing_a_span_leaves_its_label_free_for_concurrent_creates(editor, labels, change):
    span = SpanFactory(annotator=editor, label=labels["person"])
    seen: list[bool] = []

    def probe(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "FOR UPDATE" in sql and 'FROM "annotations_span"' in sql:
            seen.append(_label_key_shareable(labels["person"].pk))
        return result

    if "label" in change:
        change = {"label": labels[change["label"]]}
    with connection.execute_wrapper(probe):
        span_update(span=span, actor=editor, **change)
    assert seen == [True]
