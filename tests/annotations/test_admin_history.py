"""History in the admin (django-pghistory): who changed what and when; a deleted span comes back."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from annotations.curation.services import span_restore
from annotations.models import ArticleEvent, Span, SpanEvent
from annotations.spans.services import span_delete, span_update
from articles.services import article_update
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db

EVENTS = reverse("admin:annotations_spanevent_changelist")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def article():
    return ArticleFactory(title="Tern ships", body="Mara Okonkwo of Larchfield Systems said so.")


def test_admin_change_is_recorded_with_who_and_shown(curator_client, curator, editor, article, labels):
    span = SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    url = reverse("admin:annotations_span_change", args=[span.pk])
    curator_client.post(url, {"label": labels["claim"].pk, "start": 16, "end": 34, "note": "not an org here"})
    update = SpanEvent.objects.get(pgh_obj_id=span.pk, pgh_label="update")
    assert (update.label_id, update.note) == (labels["claim"].pk, "not an org here")
    assert update.pgh_context.metadata == {"user": curator.pk, "url": url}

    response = curator_client.get(EVENTS, {"obj": f"annotations.Span:{span.pk}"})
    rows = [(e.pgh_label, e.actor, e.label_name, e.editor) for e in response.context["cl"].result_list]
    assert rows == [("update", "cur", "CLAIM", "ed"), ("insert", None, "ORG", "ed")]
    content = response.content.decode()
    assert '<td class="field-who">cur</td>' in content
    # The span's change page links to its history (pghistory's object tools).
    page = curator_client.get(url).content.decode()
    assert f"{EVENTS}?obj=annotations.Span:{span.pk}" in page


def test_article_history_shows_status_changes_by_whom(curator_client, curator, article):
    changelist = reverse("admin:articles_article_changelist")
    curator_client.post(changelist, {"action": "mark_reviewed", ACTION_CHECKBOX_NAME: [article.pk], "post": "yes"})
    events = ArticleEvent.objects.filter(pgh_obj_id=article.pk).order_by("pgh_id")
    assert [(e.pgh_label, e.status) for e in events] == [("insert", "new"), ("update", "reviewed")]
    assert events[1].pgh_context.metadata["user"] == curator.pk
    response = curator_client.get(
        reverse("admin:annotations_articleevent_changelist"), {"obj": f"articles.Article:{article.pk}"}
    )
    assert [(e.pgh_label, e.actor) for e in response.context["cl"].result_list] == [("update", "cur"), ("insert", None)]
    page = curator_client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert f"?obj=articles.Article:{article.pk}" in page


def test_restore_a_deleted_span_from_its_delete_event(curator_client, editor, article, labels):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_update(span=span, actor=editor, note="the CTO", attributes={"role": "cto"})
    pk = span.pk
    span_delete(span=span, actor=editor)
    delete = SpanEvent.objects.get(pgh_obj_id=pk, pgh_label="delete")

    listed = curator_client.get(EVENTS, {"label": "delete", "article": article.pk})
    assert [e.pgh_id for e in listed.context["cl"].result_list] == [delete.pgh_id]
    payload = {"action": "restore", ACTION_CHECKBOX_NAME: [delete.pgh_id]}
    page = curator_client.post(EVENTS, payload)
    assert "1 of the selected events are deletions" in page.content.decode()
    assert not Span.objects.exists()
    done = curator_client.post(EVENTS, payload | {"post": "yes"}, follow=True)
    assert "Restored 1 span(s)." in done.content.decode()
    restored = Span.objects.get()
    assert (restored.pk, restored.text, restored.annotator, restored.note, restored.attributes) == (
        pk, "Mara Okonkwo", editor, "the CTO", {"role": "cto"},
    )  # fmt: skip
    insert = SpanEvent.objects.filter(pgh_obj_id=pk, pgh_label="insert").latest("pgh_id")
    assert insert.pgh_context.metadata["restored_from_event"] == delete.pgh_id

    again = curator_client.post(EVENTS, payload | {"post": "yes"}, follow=True)
    assert "Not restored — span " + str(pk) + ": This span has been restored already." in again.content.decode()


def test_restore_is_refused_when_an_identical_span_exists(editor, curator, article, labels):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_delete(span=span, actor=editor)
    SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    delete = SpanEvent.objects.get(pgh_label="delete")
    with pytest.raises(ValidationError, match="ed has an identical PERSON span there now"):
        span_restore(event=delete, actor=curator)
    assert Span.objects.count() == 1


def test_restore_is_refused_when_the_text_changed(editor, curator, article, labels):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_delete(span=span, actor=editor)
    article_update(article=article, body="Dev Anand of Tallgrass Foundry disagreed.")
    with pytest.raises(ValidationError, match="does not match the article"):
        span_restore(event=SpanEvent.objects.get(pgh_label="delete"), actor=curator)
    assert not Span.objects.exists()


def test_restore_rules_for_editors(editor, other_editor, article, labels):
    span = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_delete(span=span, actor=editor)
    delete = SpanEvent.objects.get(pgh_label="delete")
    with pytest.raises(PermissionDenied):
        span_restore(event=delete, actor=other_editor)
    with pytest.raises(ValidationError, match="Only a deleted span can be restored"):
        span_restore(event=SpanEvent.objects.get(pgh_label="insert"), actor=editor)
    assert span_restore(event=delete, actor=editor).text == "Mara Okonkwo"


def test_restore_is_refused_without_add_span_permission(client, editor, article, labels):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    span = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    span_delete(span=span, actor=editor)
    viewer = UserFactory(username="historian", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_spanevent"))
    client.force_login(viewer)
    response = client.get(EVENTS)
    assert response.status_code == 200
    form = response.context["action_form"]
    assert form is None or "restore" not in [v for v, _ in form.fields["action"].choices]
    delete = SpanEvent.objects.get(pgh_label="delete")
    client.post(EVENTS, {"action": "restore", ACTION_CHECKBOX_NAME: [delete.pgh_id], "post": "yes"})
    assert not Span.objects.exists()


def test_history_is_append_only(editor, article, labels):
    from django.db import ProgrammingError, transaction

    SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        SpanEvent.objects.update(note="rewritten")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        SpanEvent.objects.all().delete()
    assert SpanEvent.objects.get().note == ""


def test_history_reads_as_words_not_field_names(curator_client, editor, article, labels):
    """Issue 14 point 9: no "SpanEvent object (28)", "PGH CREATED AT", "By label" meaning event kind, "1:0-10"."""
    import lxml.html

    from tests.html import select, text

    span = SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    span_delete(span=span, actor=editor)
    response = curator_client.get(EVENTS)
    headers = [text(th) for th in select(response.content, "#result_list thead th")]
    assert "When" in headers and "Event" in headers
    assert not [h for h in headers if "PGH" in h.upper()]
    filters = [text(h) for h in select(response.content, "#changelist-filter h3, #changelist-filter summary")]
    assert "By event kind" in filters and "By label" not in filters, filters
    kinds = {text(td) for td in select(response.content, "td.field-kind")}
    assert kinds == {"created", "deleted"}
    delete = SpanEvent.objects.get(pgh_obj_id=span.pk, pgh_label="delete")
    page = curator_client.get(reverse("admin:annotations_spanevent_change", args=[delete.pk]))
    title = " ".join(lxml.html.document_fromstring(page.content).findtext(".//title").split())
    assert "object (" not in title and f"Span {span.pk} deleted" in title, title
    assert str(span) == f"Span {span.pk}: characters 16–34 of article {article.pk}"
