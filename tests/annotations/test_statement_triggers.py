"""History and the span text check fire once per statement (migration 0024): the same rows as row-level gave.

Written with raw SQL, as an import's COPY or a bulk UPDATE writes: several rows in one statement.
"""

import pghistory
import pytest
from django.db import IntegrityError, connection, transaction
from pghistory.models import Context

from annotations.models import ArticleEvent, Span, SpanEvent
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

BODY = "Mara Okonkwo of Larchfield Systems said so."
INSERT = (
    'INSERT INTO annotations_span (article_id, label_id, start, "end", text, annotator_id, origin, note, attributes,'
    " created_at, updated_at) VALUES {} RETURNING id"
)


def insert_spans(rows: list[tuple]) -> list[int]:
    """One INSERT of ``rows`` (article, label, start, end, text, annotator): ids in order."""
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, 'import', '', '{}', now(), now())"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(INSERT.format(values), [value for row in rows for value in row])
        return [pk for (pk,) in cursor.fetchall()]


@pytest.fixture
def article():
    return ArticleFactory(title="Tern ships", body=BODY)


def test_a_multi_row_insert_with_one_wrong_text_stores_nothing_and_names_the_constraint(article, labels, editor):
    rows = [
        (article.pk, labels["person"].pk, 0, 12, "Mara Okonkwo", editor.pk),
        (article.pk, labels["org"].pk, 16, 34, "Larchfield Systemz", editor.pk),
    ]
    with pytest.raises(IntegrityError, match="does not match body\\[16:34\\]") as raised, transaction.atomic():
        insert_spans(rows)
    assert raised.value.__cause__.diag.constraint_name == "span_text_matches_body"
    assert not Span.objects.exists()
    assert not SpanEvent.objects.exists()


def test_a_multi_row_insert_past_the_end_is_refused_with_the_body_length(article, labels, editor):
    rows = [
        (article.pk, labels["person"].pk, 0, 4, "Mara", editor.pk),
        (article.pk, labels["claim"].pk, 35, 50, "said so." + "x" * 7, editor.pk),
    ]
    past = f"runs past the end of article {article.pk} \\(43 characters\\)"
    with pytest.raises(IntegrityError, match=past), transaction.atomic():
        insert_spans(rows)
    assert not Span.objects.exists()


def test_multi_row_insert_update_delete_give_one_event_per_changed_row_with_the_context(article, labels, editor):
    rows = [
        (article.pk, labels["person"].pk, 0, 12, "Mara Okonkwo", editor.pk),
        (article.pk, labels["org"].pk, 16, 34, "Larchfield Systems", editor.pk),
        (article.pk, labels["claim"].pk, 35, 43, "said so.", editor.pk),
    ]
    with pghistory.context(action="bulk"):
        ids = insert_spans(rows)
        with connection.cursor() as cursor:
            # Two rows really change; the third is rewritten as it was: no event for it (IS DISTINCT FROM).
            cursor.execute(
                "UPDATE annotations_span SET note = CASE WHEN id = %s THEN note ELSE 'checked' END WHERE id = ANY(%s)",
                [ids[2], ids],
            )
            cursor.execute("DELETE FROM annotations_span WHERE id = ANY(%s)", [ids[:2]])
    events = list(SpanEvent.objects.order_by("pgh_id").values_list("pgh_label", "pgh_obj_id", "note", "text"))
    assert events == [
        ("insert", ids[0], "", "Mara Okonkwo"),
        ("insert", ids[1], "", "Larchfield Systems"),
        ("insert", ids[2], "", "said so."),
        ("update", ids[0], "checked", "Mara Okonkwo"),
        ("update", ids[1], "checked", "Larchfield Systems"),
        ("delete", ids[0], "checked", "Mara Okonkwo"),
        ("delete", ids[1], "checked", "Larchfield Systems"),
    ]
    contexts = {event.pgh_context.metadata["action"] for event in SpanEvent.objects.select_related("pgh_context")}
    assert contexts == {"bulk"}
    assert SpanEvent.objects.values("pgh_context_id").distinct().count() == 1


def test_events_without_a_context_have_none(article, labels, editor):
    ids = insert_spans([(article.pk, labels["person"].pk, 0, 4, "Mara", editor.pk)])
    assert SpanEvent.objects.get(pgh_obj_id=ids[0]).pgh_context_id is None


def test_a_multi_row_article_update_records_only_the_rows_it_changed(labels):
    first, second = ArticleFactory(body="One text."), ArticleFactory(body="Another text.", status="reviewed")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET status = 'reviewed' WHERE id = ANY(%s)", [[first.pk, second.pk]])
    events = ArticleEvent.objects.order_by("pgh_id").values_list("pgh_label", "pgh_obj_id", "status")
    assert list(events) == [
        ("insert", first.pk, "new"),
        ("insert", second.pk, "reviewed"),
        ("update", first.pk, "reviewed"),
    ]


def test_an_edit_that_breaks_the_text_is_still_refused_row_by_row(article, labels, editor):
    (pk,) = insert_spans([(article.pk, labels["person"].pk, 0, 4, "Mara", editor.pk)])
    refused = pytest.raises(IntegrityError, match="does not match body")
    with refused as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE annotations_span SET \"end\" = 5, text = 'Mara!' WHERE id = %s", [pk])
    assert raised.value.__cause__.diag.constraint_name == "span_text_matches_body"
    assert Span.objects.get(pk=pk).text == "Mara"


def test_a_statement_that_changes_no_row_writes_no_context(article, labels, editor):
    """Row-level history attached a context only for a row it recorded; a statement that records none attaches none.

    Statement-level triggers fire for every statement, rows or none, and joined the context to the rows: whenever
    the plan read the context first (a multi-row UPDATE that rewrote rows as they were, or any statement once
    such a plan was cached on the connection), a POST that changed nothing left a ``pghistory_context`` row that
    no event points to.
    """
    rows = [
        (article.pk, labels["person"].pk, 0, 12, "Mara Okonkwo", editor.pk),
        (article.pk, labels["org"].pk, 16, 34, "Larchfield Systems", editor.pk),
        (article.pk, labels["claim"].pk, 35, 43, "said so.", editor.pk),
    ]
    ids = insert_spans(rows)
    other = ArticleFactory(body="Another text.")
    with pghistory.context(action="nothing"), connection.cursor() as cursor:
        cursor.execute("UPDATE annotations_span SET note = note WHERE id = ANY(%s)", [ids])
        cursor.execute("UPDATE articles_article SET status = status WHERE id = ANY(%s)", [[article.pk, other.pk]])
        cursor.execute("UPDATE annotations_span SET note = 'x' WHERE id = -1")
        cursor.execute("DELETE FROM annotations_span WHERE id = -1")
        cursor.execute("DELETE FROM articles_article WHERE id = -1")
        cursor.execute("INSERT INTO annotations_span SELECT * FROM annotations_span WHERE false")
    assert not Context.objects.exists()
    assert SpanEvent.objects.count() == 3 and ArticleEvent.objects.count() == 2  # the inserts, outside the context
    # A statement that does record something still attaches its context, once.
    with pghistory.context(action="something"), connection.cursor() as cursor:
        cursor.execute("UPDATE annotations_span SET note = CASE WHEN id = %s THEN 'checked' ELSE note END", [ids[0]])
    assert list(Context.objects.values_list("metadata__action", flat=True)) == ["something"]
    update = SpanEvent.objects.get(pgh_label="update")
    assert (update.pgh_obj_id, update.pgh_context.metadata["action"]) == (ids[0], "something")


def test_every_history_trigger_attaches_its_context_only_for_rows_it_records():
    """A model tracked with pghistory's own events (not annotations.history's) would bring the CTE back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE prosrc LIKE '%%(SELECT _pgh_attach_context())%%')"
            " FROM pg_proc WHERE proname LIKE 'pgtrigger_%%' AND prosrc LIKE '%%_pgh_attach%%'"
        )
        attaching, on_demand = cursor.fetchone()
    assert attaching == on_demand >= 17  # spans, articles, assignments and the review's three tables


# Over 200 characters (migration 0028 reads a body in pieces of SPAN_CHECK_PIECE): accents, curly quotes, a ZWJ emoji
# and a flag (several code points, several UTF-8 bytes each), so that every piece is a different number of bytes.
LONG_BODY = "".join(
    f"Paragraph {n}: Zoë Brandt-Ødegaard said “the café’s 👩‍💻 team 🇳🇴 shipped it” on day {n}.\n" for n in range(12)
)


@pytest.mark.parametrize("companions", [0, 9], ids=["alone: substr", "in a bulk insert: pieces"])
def test_the_insert_check_reads_pieces_exactly_as_python_slices_the_body(labels, editor, companions):
    """A statement of up to SPAN_CHECK_DIRECT spans reads each with substr, a bigger one reads the bodies in pieces:
    both refuse exactly the spans whose text is not Python's body[start:end]."""
    from annotations.models import SPAN_CHECK_DIRECT, SPAN_CHECK_PIECE

    assert companions == 0 or companions >= SPAN_CHECK_DIRECT
    article = ArticleFactory(body=LONG_BODY)
    # Right spans sent along with each wrong one (another label, so they never collide with it).
    right = [(article.pk, labels["claim"].pk, n, n + 3, LONG_BODY[n : n + 3], editor.pk) for n in range(companions)]
    piece = SPAN_CHECK_PIECE
    edges = [0, 1, piece - 3, piece - 1, piece, piece + 1, 2 * piece - 2, 2 * piece, 3 * piece + 7]
    offsets = {(start, start + length) for start in edges for length in (1, 2, 5, piece - 1, piece, piece + 1, 450)}
    offsets |= {(len(LONG_BODY) - 3, len(LONG_BODY)), (0, len(LONG_BODY))}
    offsets = {(start, end) for start, end in offsets if end <= len(LONG_BODY)}
    rows = [(article.pk, labels["person"].pk, s, e, LONG_BODY[s:e], editor.pk) for s, e in sorted(offsets)]
    assert len(insert_spans(rows)) == len(offsets)  # every right text passes, whichever pieces it lies across
    for start, end in sorted(offsets)[::7]:
        wrong = LONG_BODY[start : end - 1] + ("x" if LONG_BODY[end - 1] != "x" else "y")
        with pytest.raises(IntegrityError, match=f"does not match body\\[{start}:{end}\\]"), transaction.atomic():
            insert_spans([*right, (article.pk, labels["org"].pk, start, end, wrong, editor.pk)])
    length = len(LONG_BODY)
    past = f"runs past the end of article {article.pk} \\({length} characters"
    with pytest.raises(IntegrityError, match=past), transaction.atomic():
        insert_spans([*right, (article.pk, labels["org"].pk, length - 2, length + 1, LONG_BODY[-2:] + "x", editor.pk)])


SUGGESTIONS_INSERT = (
    'INSERT INTO annotations_suggestion (article_id, label_id, start, "end", text, origin, status, created_at)'
    " VALUES {}"
)


def insert_suggestions(rows: list[tuple]) -> int:
    """One INSERT of suggestion ``rows`` (article, label, start, end, text): how many it stored."""
    values = ", ".join(["(%s, %s, %s, %s, %s, 'plugin', 'pending', now())"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(SUGGESTIONS_INSERT.format(values), [value for row in rows for value in row])
        return cursor.rowcount


@pytest.mark.parametrize("companions", [0, 1, 2], ids=["alone: substr", "two: substr", "in a bulk insert: pieces"])
def test_the_suggestion_insert_check_reads_pieces_exactly_as_python_slices_the_body(labels, companions):
    """Migration 0029: a statement of up to two suggestions of an article reads each with substr, a bigger one the
    body in pieces of 200 characters: both refuse exactly the suggestions whose text is not Python's
    body[start:end], past the body's end included."""
    article = ArticleFactory(body=LONG_BODY)
    right = [(article.pk, labels["claim"].pk, n, n + 3, LONG_BODY[n : n + 3]) for n in range(companions)]
    piece = 200
    edges = [0, 1, piece - 3, piece - 1, piece, piece + 1, 2 * piece - 2, 2 * piece, 3 * piece + 7]
    offsets = {(start, start + length) for start in edges for length in (1, 2, 5, piece - 1, piece, piece + 1, 450)}
    offsets |= {(len(LONG_BODY) - 3, len(LONG_BODY)), (0, len(LONG_BODY))}
    offsets = {(start, end) for start, end in offsets if end <= len(LONG_BODY)}
    rows = [(article.pk, labels["person"].pk, s, e, LONG_BODY[s:e]) for s, e in sorted(offsets)]
    assert insert_suggestions(rows) == len(offsets)  # every right text passes, whichever pieces it lies across
    for start, end in sorted(offsets)[::7]:
        wrong = LONG_BODY[start : end - 1] + ("x" if LONG_BODY[end - 1] != "x" else "y")
        with pytest.raises(IntegrityError, match=f"does not match body\\[{start}:{end}\\]"), transaction.atomic():
            insert_suggestions([*right, (article.pk, labels["org"].pk, start, end, wrong)])
    length = len(LONG_BODY)
    past = (article.pk, labels["org"].pk, length - 2, length + 1, LONG_BODY[-2:] + "x")
    with (
        pytest.raises(IntegrityError, match=f"does not match body\\[{length - 2}:{length + 1}\\]") as raised,
        transaction.atomic(),
    ):
        insert_suggestions([*right, past])
    assert raised.value.__cause__.diag.constraint_name == "suggestion_text_matches_body"
