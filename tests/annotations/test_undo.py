"""Undo in the workspace: the typed history, its database storage, and Ctrl+Z against a changed world.

Whatever happened since an edit (a label merged away or retired, the span changed or deleted by a reviewer, an
editor deleted), undo answers with a sentence and drops the entry: never a server error.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from annotations.curation.services import label_deactivate, label_merge
from annotations.models import Span, UndoEntry
from annotations.spans.services import SpanSnapshot, span_update
from annotations.workspace import undo
from tests.factories import ArticleFactory, SpanFactory, UserFactory
from tests.html import one, select, text
from tests.workspace import HX, create, url

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May, and Quillix OS agreed."


def relabel(client, article, span, label):
    response = client.post(url("span-relabel", article), {"span": span.pk, "label": label.pk}, headers=HX)
    assert response.status_code == 200, response.content


def undo_post(client, article, status=200):
    response = client.post(url("article-undo", article), headers=HX)
    assert response.status_code == status, response.content
    return response.content.decode()


def error_text(html):
    return text(one(html, "#ws-error"))


def history(client, article):
    return undo.DatabaseUndoStore(user_id=int(client.session["_auth_user_id"]), article_id=article.pk).load()


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


# The typed history and its storage ----------------------------------------------------------------------------


def snapshot(**changes):
    return SpanSnapshot(id=7, article_id=1, label_id=2, start=0, end=4, text="Mara", annotator_id=3, **changes)


def test_entries_survive_the_json_round_trip():
    entries = [
        undo.Created(span=1, label=2),
        undo.Deleted(snapshot(attributes={"verdict": "false"})),
        undo.Relabelled(span=1, label=3, previous=2, previous_name="PERSON"),
    ]
    assert [undo.from_json(undo.to_json(entry)) for entry in entries] == entries


def test_unreadable_entries_are_forgotten():
    # The untyped dicts this history replaced, and anything else a session may hold.
    assert undo.from_json({"op": "create", "span": 5}) is None
    assert undo.from_json({"op": "delete", "span": {"id": 5}}) is None
    assert undo.from_json({"op": "teleport"}) is None
    assert undo.from_json("create") is None


@pytest.mark.django_db
def test_database_store_appends_pops_and_is_bounded(editor):
    article = ArticleFactory()
    store = undo.DatabaseUndoStore(user_id=editor.pk, article_id=article.pk)
    for n in range(undo.UNDO_DEPTH + 10):
        undo.undo_record(store, undo.Created(span=n, label=1))
    entries = store.load()
    assert len(entries) == undo.UNDO_DEPTH and entries[0] == undo.Created(span=10, label=1)
    assert store.count() == undo.UNDO_DEPTH
    with transaction.atomic():
        assert store.pop() == undo.Created(span=undo.UNDO_DEPTH + 9, label=1)
    assert len(store.load()) == undo.UNDO_DEPTH - 1
    assert undo.DatabaseUndoStore(user_id=editor.pk, article_id=ArticleFactory().pk).load() == []


@pytest.mark.django_db
def test_database_store_forgets_entries_older_than_the_age_limit(editor):
    article = ArticleFactory()
    store = undo.DatabaseUndoStore(user_id=editor.pk, article_id=article.pk)
    store.append(undo.Created(span=1, label=1))
    UndoEntry.objects.update(created_at=timezone.now() - undo.UNDO_MAX_AGE - timedelta(minutes=1))
    store.append(undo.Created(span=2, label=1))
    assert store.load() == [undo.Created(span=2, label=1)]


@pytest.mark.django_db
def test_undo_last_service_pops_and_reverses(article, labels, editor):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    store = undo.DatabaseUndoStore(user_id=editor.pk, article_id=article.pk)
    store.append(undo.Created(span=span.pk, label=labels["person"].pk))
    assert undo.undo_last(article=article, actor=editor, store=store) == undo.Undone("Removed PERSON “Mara”.")
    assert store.load() == [] and not Span.objects.exists()
    assert undo.undo_last(article=article, actor=editor, store=store) == undo.Undone("Nothing to undo on this article.")


# Ctrl+Z in the workspace ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_undo_create_delete_and_relabel_in_reverse_order(editor_client, article, labels):
    person = create(editor_client, article, labels["person"], "Mara Okonkwo")
    relabel(editor_client, article, person, labels["org"])
    editor_client.post(url("span-details", article), {"span": person.pk, "note": "kept"}, headers=HX)
    editor_client.post(url("span-delete", article), {"span": person.pk}, headers=HX)
    assert not Span.objects.exists()

    html = undo_post(editor_client, article)  # the delete: the span comes back, under its id, note and all
    restored = Span.objects.get()
    assert (restored.pk, restored.label, restored.start, restored.end) == (person.pk, labels["org"], 0, 12)
    assert restored.note == "kept"
    assert "Restored ORG “Mara Okonkwo”." in text(one(html, "#ws-message"))
    assert select(html, f'#ws-body [data-spans="{restored.pk}"]')

    html = undo_post(editor_client, article)  # the relabel
    restored.refresh_from_db()
    assert restored.label == labels["person"]
    assert "back from ORG to PERSON" in text(one(html, "#ws-message"))

    html = undo_post(editor_client, article)  # the create
    assert not Span.objects.exists()
    assert one(html, "#ws-undo button").get("disabled") is not None

    assert "Nothing to undo on this article." in undo_post(editor_client, article)


@pytest.mark.django_db
def test_undo_history_is_per_article_and_per_editor(client, editor, other_editor, labels):
    first, second = ArticleFactory(body=BODY), ArticleFactory(body=BODY + " More.")
    client.force_login(editor)
    mine_first = create(client, first, labels["person"], "Mara")
    create(client, second, labels["person"], "Mara")
    other = Client()
    other.force_login(other_editor)
    theirs = create(other, second, labels["org"], "Larchfield")

    undo_post(client, first)
    assert not Span.objects.filter(pk=mine_first.pk).exists()
    assert Span.objects.filter(article=second).count() == 2  # neither my span there nor theirs
    assert "Nothing to undo" in undo_post(client, first)
    undo_post(client, second)
    assert list(Span.objects.filter(article=second)) == [theirs]


@pytest.mark.django_db
def test_relabel_then_label_merged_away_then_undo_says_why(editor_client, curator, article, labels):
    """The reported crash: PERSON → ORG, a curator merges PERSON into CLAIM, Ctrl+Z was an HTTP 500 (KeyError)."""
    span = create(editor_client, article, labels["person"], "Mara Okonkwo")
    relabel(editor_client, article, span, labels["org"])
    label_merge(source=labels["person"], target=labels["claim"], actor=curator)

    html = undo_post(editor_client, article, status=409)
    assert error_text(html) == ("Could not undo: The label PERSON no longer exists (merged into another label?).")
    span.refresh_from_db()
    assert span.label == labels["org"]
    assert history(editor_client, article) == [undo.Created(span=span.pk, label=labels["person"].pk)]
    # The entry was dropped; the create before it is now the label the span no longer has: refused, dropped too.
    html = undo_post(editor_client, article, status=409)
    assert "changed after your edit" in error_text(html)
    assert history(editor_client, article) == []


@pytest.mark.django_db
def test_undo_delete_of_a_span_whose_label_was_merged_away(editor_client, curator, article, labels):
    span = create(editor_client, article, labels["person"], "Mara")
    editor_client.post(url("span-delete", article), {"span": span.pk}, headers=HX)
    label_merge(source=labels["person"], target=labels["org"], actor=curator)
    html = undo_post(editor_client, article, status=409)
    assert "label has been deleted (merged into another?)" in error_text(html)
    assert not Span.objects.exists()


@pytest.mark.django_db
def test_undo_onto_a_deactivated_label_says_why_and_moves_on(editor_client, curator, article, labels):
    person = create(editor_client, article, labels["person"], "Mara")
    editor_client.post(url("span-delete", article), {"span": person.pk}, headers=HX)
    label_deactivate(label=labels["person"], actor=curator)
    html = undo_post(editor_client, article, status=409)
    assert error_text(html) == "Could not undo: The label PERSON is inactive and cannot be applied."
    assert not Span.objects.exists()
    assert history(editor_client, article) == [undo.Created(span=person.pk, label=labels["person"].pk)]


@pytest.mark.django_db
def test_undo_relabel_onto_a_deactivated_label(editor_client, curator, article, labels):
    span = create(editor_client, article, labels["person"], "Mara")
    relabel(editor_client, article, span, labels["org"])
    label_deactivate(label=labels["person"], actor=curator)
    html = undo_post(editor_client, article, status=409)
    assert "The label PERSON is inactive" in error_text(html)
    span.refresh_from_db()
    assert span.label == labels["org"]


@pytest.mark.django_db
def test_undo_after_a_reviewer_changed_the_span(editor_client, reviewer, article, labels):
    span = create(editor_client, article, labels["person"], "Mara")
    span_update(span=span, actor=reviewer, label=labels["org"])
    html = undo_post(editor_client, article, status=409)
    assert "changed after your edit" in error_text(html)
    assert Span.objects.get().label == labels["org"]  # the reviewer's decision stands


@pytest.mark.django_db
def test_undo_after_a_reviewer_deleted_the_span(editor_client, article, labels):
    kept = create(editor_client, article, labels["org"], "Larchfield")
    gone = create(editor_client, article, labels["person"], "Mara")
    Span.objects.filter(pk=gone.pk).delete()
    html = undo_post(editor_client, article, status=409)
    assert "deleted after your edit" in error_text(html)
    undo_post(editor_client, article)  # the entry was dropped: the next Ctrl+Z reaches the one before
    assert not Span.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_undo_restores_another_editors_span_for_the_reviewer_who_deleted_it(article, labels, editor, reviewer):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    client = Client()
    client.force_login(reviewer)
    client.post(url("span-delete", article), {"span": span.pk}, headers=HX)
    undo_post(client, article)
    assert Span.objects.get().annotator == editor


@pytest.mark.django_db
def test_undo_delete_after_its_editor_was_deleted(article, labels, reviewer):
    gone_editor = UserFactory(username="leaver")
    gone_editor.groups.add(*reviewer.groups.none())
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=gone_editor)
    client = Client()
    client.force_login(reviewer)
    client.post(url("span-delete", article), {"span": span.pk}, headers=HX)
    get_user_model().objects.filter(pk=gone_editor.pk).delete()
    html = undo_post(client, article, status=409)
    assert error_text(html) == "Could not undo: The editor who made this span no longer exists."
    assert not Span.objects.exists()
