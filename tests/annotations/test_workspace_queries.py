"""The workspace's query counts are pinned: a page and a create cost the same few queries however many spans
and suggestions an article holds (bench/annotate.py and bench/load.py measure the time these queries take)."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ArticleFactory, SpanFactory
from tests.workspace import HX, url

pytestmark = pytest.mark.django_db

WORDS = [f"Name{i:03d}" for i in range(120)]
BODY = " ".join(f"{word} said the chip ships." for word in WORDS)
# Counted under the test settings (savepoints included): session, user, permissions, article, slot lease,
# labels, spans, suggestions, progress, undo count; a create adds the idempotency claim and settle, the locked
# article, the insert, the undo entry (inserted and pruned in one statement), propagation (one INSERT … SELECT,
# no savepoint), and the redraw's reads; a started slot is found without a savepoint. Was 38 before the undo
# merge, the single-statement propagation and the slot fast path; 29 before the span insert and the idempotency
# claim lost their savepoints and the undo entry's statement returned the count. The page reads the editor's
# stored drawing (one query, which spares drawing the body and list; a page whose rows changed stores it anew,
# one more). Was 18 and 19 before the page found its drawing by the article's revision with the labels, undo
# count, slots and settings in the same statement (no span or suggestion read when the drawing is current), and
# the permissions came in one query; a reload within a minute no longer renews the slot's lease (10). Then 5 and 14:
# the user comes with their permissions, a slot that holds is found in one read without a lock or savepoint, and
# a create finds the editor's started slot in the statement that locks the article and reads its body. Then 13:
# that statement reads the label too, and the suggestion a create hides is found among the suggestions read.
# Lower these when a change removes queries; never raise them to let an N+1 in.
PAGE_QUERIES = 5
CREATE_QUERIES = 13


def _article_with_spans(editor, labels, count):
    article = ArticleFactory(title=f"Counted {count}", body=f"{BODY} ({count})")
    for word in WORDS[:count]:
        start = BODY.index(word)
        SpanFactory(article=article, label=labels["person"], start=start, end=start + len(word), annotator=editor)
    return article


def _page_queries(client, article):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url("article-annotate", article)).status_code == 200
    return len(queries)


def _create_queries(client, article, label, word):
    start = BODY.index(word)
    data = {"label": label.pk, "start": start, "end": start + len(word), "text": word}
    headers = {**HX, "Idempotency-Key": uuid.uuid4().hex}
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url("span-create", article), data, headers=headers).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_with_5_or_100_spans(editor_client, editor, labels):
    few = _article_with_spans(editor, labels, 5)
    many = _article_with_spans(editor, labels, 100)
    _page_queries(editor_client, few)  # the first visit takes the slot; later visits only renew the lease
    _page_queries(editor_client, many)
    counted = _page_queries(editor_client, few)
    assert counted == _page_queries(editor_client, many)
    assert counted <= PAGE_QUERIES, counted


def test_a_create_costs_the_same_queries_with_5_or_100_spans(editor_client, editor, labels):
    few = _article_with_spans(editor, labels, 5)
    many = _article_with_spans(editor, labels, 100)
    for article in (few, many):
        _page_queries(editor_client, article)
        _create_queries(editor_client, article, labels["org"], WORDS[-1])  # the first create starts the article
    counted = _create_queries(editor_client, few, labels["org"], WORDS[-2])
    assert counted == _create_queries(editor_client, many, labels["org"], WORDS[-2])
    assert counted <= CREATE_QUERIES, counted


# A relabel and a note: session, user with permissions, article, the post's transaction (idempotency claim and
# settle, the span read once under its row lock, the article's status lock, the update, for a relabel the undo
# entry) and the redraw (page reads with the body, spans, suggestions). Neither opens a savepoint: a refusal
# rolls the post's own transaction back. Counted here with the test's savepoint around the post (two statements
# more than in production, where they are BEGIN and COMMIT). Were 21 and 20 in production (three reads of the
# span, the duplicate check the unique constraint makes anyway, two or three savepoints, the body read apart).
RELABEL_QUERIES = 16
NOTE_QUERIES = 14


def _write_queries(client, article, name, data):
    headers = {**HX, "Idempotency-Key": uuid.uuid4().hex}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(name, article), data, headers=headers)
        assert response.status_code == 200, response.content[:300]
    return [query["sql"] for query in queries.captured_queries]


def test_a_relabel_and_a_note_read_the_span_once_and_open_no_savepoint(editor_client, editor, labels):
    from annotations.models import Span

    for count in (5, 100):
        article = _article_with_spans(editor, labels, count)
        _page_queries(editor_client, article)
        span = Span.objects.filter(article=article).order_by("pk").first()
        counts = {}
        for name, data, pinned in [
            ("span-relabel", {"span": span.pk, "label": labels["org"].pk}, RELABEL_QUERIES),
            ("span-details", {"span": span.pk, "note": f"checked ({count})"}, NOTE_QUERIES),
        ]:
            statements = _write_queries(editor_client, article, name, data)
            # One: the post's own transaction, a savepoint here only because the test runs inside a transaction.
            assert len([sql for sql in statements if "SAVEPOINT" in sql and "RELEASE" not in sql]) == 1
            span_reads = [sql for sql in statements if sql.startswith('SELECT "annotations_span"."id", ')]
            assert len(span_reads) == 1 and span_reads[0].endswith('FOR UPDATE OF "annotations_span"')
            assert len(statements) <= pinned, (name, len(statements))
            counts[name] = len(statements)
        span.refresh_from_db()
        assert (span.label_id, span.note) == (labels["org"].pk, f"checked ({count})")
        # The same few queries with 5 spans or 100.
        if count == 5:
            few = counts
        else:
            assert counts == few


def test_a_delete_is_one_statement_that_clears_the_references_to_the_span(editor_client, editor, labels):
    """Accepting a suggestion makes a span that the decision (and a suggestion) point at; deleting it in the
    workspace sets both to NULL and deletes it in one statement (Django's delete took five: read the span, one
    UPDATE per referencing table, DELETE), its history kept, and no savepoint."""
    from annotations.models import Span, SpanEvent
    from annotations.suggestions import decisions
    from annotations.suggestions.models import Suggestion, SuggestionDecision, SuggestionOrigin

    article = ArticleFactory(body="Ada said it. Ada left.")
    suggestion = Suggestion.objects.create(
        article=article, label=labels["person"], start=13, end=16, text="Ada", origin=SuggestionOrigin.PLUGIN
    )
    span = decisions.suggestion_accept(suggestion_id=suggestion.pk, article=article, editor=editor)
    Suggestion.objects.filter(pk=suggestion.pk).update(span=span)  # as a suggestion that became this span
    assert SuggestionDecision.objects.get().span_id == span.pk
    _page_queries(editor_client, article)
    statements = _write_queries(editor_client, article, "span-delete", {"span": span.pk})
    deletes = [sql for sql in statements if "DELETE FROM" in sql and "annotations_span" in sql]
    assert len(deletes) == 1 and "UPDATE" in deletes[0]
    assert not [sql for sql in statements if sql.startswith("UPDATE")]
    assert len([sql for sql in statements if "SAVEPOINT" in sql and "RELEASE" not in sql]) == 1
    assert not Span.objects.filter(pk=span.pk).exists()
    assert Suggestion.objects.get(pk=suggestion.pk).span_id is None
    assert SuggestionDecision.objects.get().span_id is None
    assert SpanEvent.objects.filter(pgh_obj_id=span.pk, pgh_label="delete").exists()


def test_reopening_an_article_whose_slot_holds_is_one_read_without_a_lock(editor_client, editor, labels):
    """A page view by an editor whose slot holds with a lease renewed within LEASE_SLACK writes nothing, so it
    takes no lock and opens no transaction; a lease that has run longer is renewed under the article's lock, and a
    released slot is claimed again there."""
    import datetime as dt

    from django.utils import timezone

    from annotations.models import Assignment
    from annotations.workflow.selectors import workflow_settings
    from annotations.workflow.services import LEASE_SLACK

    article = _article_with_spans(editor, labels, 5)

    def page_statements():
        with CaptureQueriesContext(connection) as queries:
            assert editor_client.get(url("article-annotate", article)).status_code == 200
        return [query["sql"] for query in queries.captured_queries]

    first = page_statements()  # takes the slot
    assert any("FOR UPDATE" in sql for sql in first)
    again = page_statements()
    assert not [sql for sql in again if "FOR UPDATE" in sql or "SAVEPOINT" in sql]
    # Session, user with permissions, article, the slot (with the article's status and the lease length), and the
    # stored drawing with everything else the page shows.
    assert len(again) == 5, again
    slot = Assignment.objects.get(article=article, user=editor)
    # A lease that has run for longer than LEASE_SLACK: renewed, under the lock.
    lease = dt.timedelta(minutes=workflow_settings().lease_minutes)
    aged = timezone.now() + lease - 2 * LEASE_SLACK
    Assignment.objects.filter(pk=slot.pk).update(leased_until=aged)
    renewing = page_statements()
    assert any("FOR UPDATE" in sql for sql in renewing)
    assert Assignment.objects.get(pk=slot.pk).leased_until > aged
    # Released by a curator: opening the article claims it again (there is room), under the lock.
    Assignment.objects.filter(pk=slot.pk).update(released_at=timezone.now())
    assert any("FOR UPDATE" in sql for sql in page_statements())
    assert Assignment.objects.get(pk=slot.pk).released_at is None


def test_a_writes_answer_reads_the_same_rows_pipelined_as_one_by_one(editor_client, editor, labels):
    """drawings.answer_reads sends page_reads, the editor's spans and their suggestions in one round trip (psycopg's
    pipeline mode): the same rows as reading them one statement after another."""
    from annotations.models import Span
    from annotations.spans.selectors import workspace_spans
    from annotations.suggestions.decisions import suggestion_rows
    from annotations.suggestions.models import Suggestion, SuggestionOrigin
    from annotations.workspace import drawings

    article = _article_with_spans(editor, labels, 5)
    drawn = Suggestion.objects.create(
        article=article, label=labels["org"], start=0, end=7, text=BODY[:7], origin=SuggestionOrigin.PLUGIN
    )
    _page_queries(editor_client, article)
    place = (0, 7)  # a span of ORG there would hide the suggestion
    reads, rows, suggested, hidden = drawings.answer_reads(
        article_id=article.pk, editor_id=editor.pk, body=True, place=place
    )
    one_by_one = drawings.page_reads(article_id=article.pk, editor_id=editor.pk, stored=False, body=True)
    assert reads._replace(labels=None) == one_by_one._replace(labels=None)
    assert reads.labels.keys() == one_by_one.labels.keys() and reads.body == article.body
    assert rows == list(workspace_spans(article=article, annotator=editor)) and len(rows) == 5
    assert suggested == suggestion_rows(article=article, editor=editor) and len(suggested) == 1
    assert hidden == [(-drawn.pk, 0, 7, labels["org"].pk, "", None)] == suggested
    # Once the editor has labelled the place so, the suggestion is no longer drawn, but still read at the place.
    Span.objects.create(article=article, label=labels["org"], start=0, end=7, text=BODY[:7], annotator=editor)
    reads, rows, suggested, hidden = drawings.answer_reads(
        article_id=article.pk, editor_id=editor.pk, body=False, place=place
    )
    assert suggested == [] and hidden == [(-drawn.pk, 0, 7, labels["org"].pk, "", None)]
    assert drawings.answer_reads(article_id=article.pk, editor_id=editor.pk, body=False).at_place == []


def test_the_workspace_reads_its_article_and_source_by_a_compiled_statement(editor_client, editor, labels):
    from tests.factories import SourceFactory

    with_source = ArticleFactory(title="Sourced", body=BODY, source=SourceFactory(name="Wire & <Feed>"))
    without = ArticleFactory(title="Unsourced", body=BODY + " (2)", source=None)
    page = editor_client.get(url("article-annotate", with_source)).content.decode()
    assert "<span>Wire &amp; &lt;Feed&gt;</span>" in page
    assert editor_client.get(url("article-annotate", without)).status_code == 200
    missing = editor_client.post(url("span-create", without).replace(f"/{without.pk}/", "/999999/"), {}, headers=HX)
    assert missing.status_code == 404
    assert editor_client.get(url("article-annotate", without).replace(f"/{without.pk}/", "/999999/")).status_code == 404


def test_a_note_leaves_the_text_of_a_page_that_holds_it_alone(editor_client, editor, labels):
    """A note changes nothing in the text: the answer redraws the side panel, and the text only for a page that
    does not hold its current drawing (another tab changed it meanwhile)."""
    import re

    from annotations.models import Span

    article = _article_with_spans(editor, labels, 5)
    page = editor_client.get(url("article-annotate", article)).content.decode()
    version = re.search(r'id="ws-body-patch"[^>]*data-version="([0-9.]+)"', page).group(1)
    span = Span.objects.filter(article=article).order_by("pk").first()
    data = {"span": span.pk, "note": "checked", "body_version": version}
    kept = editor_client.post(url("span-details", article), data, headers=HX).content.decode()
    assert 'id="ws-body"' not in kept and "seg hl" not in kept
    holder = re.search(r'<div id="ws-body-patch"[^>]*>', kept).group(0)
    assert "data-from" not in holder and "data-windows" not in holder
    # The note is in the drawing's rows: the page keeps its text under the drawing's new version.
    assert 'data-version="' in holder and f'data-version="{version}"' not in holder
    assert 'class="badge" title="checked"' in kept  # the side panel shows the note
    stale = editor_client.post(url("span-details", article), {**data, "body_version": "0.0.0"}, headers=HX)
    assert 'id="ws-body" hx-swap-oob="innerHTML"' in stale.content.decode()
    assert Span.objects.get(pk=span.pk).note == "checked"


def test_undo_redraws_only_the_stretch_of_the_span_it_put_back_or_took_away(editor_client, editor, labels):
    """Undoing a create, a relabel or a delete changes one span's place in the text: a page that holds the drawing
    just before gets that stretch (as the change itself did), a page that missed a change the whole text."""
    import re

    from annotations.models import Span

    article = _article_with_spans(editor, labels, 100)  # spans all along: a change's stretch is short
    version = re.compile(r'id="ws-body-patch"[^>]*data-version="([0-9.]+)"')
    held = version.search(editor_client.get(url("article-annotate", article)).content.decode()).group(1)

    def post(name, data=None, *, stale=False):
        nonlocal held
        payload = {**(data or {}), "body_version": "0.0.0" if stale else held}
        answer = editor_client.post(url(name, article), payload, headers=HX).content.decode()
        held = version.search(answer).group(1)
        return answer

    word = WORDS[-1]
    start = BODY.index(word)
    post("span-create", {"label": labels["org"].pk, "start": start, "end": start + len(word), "text": word})
    made = Span.objects.get(article=article, start=start)
    post("span-relabel", {"span": made.pk, "label": labels["person"].pk})
    for undone in ("relabel", "create"):
        answer = post("article-undo")
        assert 'id="ws-body"' not in answer, undone
        assert "data-from" in answer, undone  # the stretch from the span boundary before it to the one after
    assert not Span.objects.filter(pk=made.pk).exists()
    first = Span.objects.filter(article=article).order_by("pk").first()
    post("span-delete", {"span": first.pk})
    answer = post("article-undo")  # brought back under its own id
    assert 'id="ws-body"' not in answer and "data-from" in answer
    assert Span.objects.filter(pk=first.pk).exists()
    post("span-delete", {"span": first.pk})
    assert 'id="ws-body" hx-swap-oob="innerHTML"' in post("article-undo", stale=True)


def test_a_create_locks_the_article_and_finds_the_started_slot_in_one_statement(editor_client, editor, labels):
    article = _article_with_spans(editor, labels, 5)
    _page_queries(editor_client, article)
    _create_queries(editor_client, article, labels["org"], WORDS[-1])  # the first starts the slot
    word = WORDS[-2]
    start = BODY.index(word)
    statements = _write_queries(
        editor_client,
        article,
        "span-create",
        {"label": labels["org"].pk, "start": start, "end": start + len(word), "text": word},
    )
    locks = [sql for sql in statements if "FOR NO KEY UPDATE" in sql]
    assert len(locks) == 1 and "annotations_assignment" in locks[0]
    assert not [sql for sql in statements if sql.startswith('SELECT "annotations_assignment"')]
