"""Spans and assignments in the admin: filters, text search, autocomplete, adding by offsets, bulk relabel."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from annotations.models import Assignment, Span
from tests.factories import ArticleFactory, SourceFactory, SpanFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:annotations_span_changelist")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def spans(editor, other_editor, labels):
    wire = SourceFactory(domain="wire.example", name="Wire")
    a = ArticleFactory(title="Wire story", source=wire, body="Mara Okonkwo of Larchfield Systems said so.")
    b = ArticleFactory(title="Other story", body="Dev Anand of Tallgrass Foundry disagreed.")
    return {
        "mara": SpanFactory(article=a, label=labels["person"], start=0, end=12, annotator=editor),
        "larchfield": SpanFactory(article=a, label=labels["org"], start=16, end=34, annotator=other_editor),
        "tallgrass": SpanFactory(
            article=b, label=labels["org"], start=13, end=30, annotator=editor, origin=Span.Origin.SUGGESTION
        ),
    }


def texts(response) -> set[str]:
    return {span.text for span in response.context["cl"].result_list}


def test_span_filters_and_text_search(curator_client, spans, editor, labels):
    assert texts(curator_client.get(CHANGELIST)) == {"Mara Okonkwo", "Larchfield Systems", "Tallgrass Foundry"}
    assert texts(curator_client.get(CHANGELIST, {"label__id__exact": labels["org"].pk})) == {
        "Larchfield Systems",
        "Tallgrass Foundry",
    }
    assert texts(curator_client.get(CHANGELIST, {"annotator__id__exact": editor.pk})) == {
        "Mara Okonkwo",
        "Tallgrass Foundry",
    }
    assert texts(curator_client.get(CHANGELIST, {"origin__exact": "suggestion"})) == {"Tallgrass Foundry"}
    source = spans["mara"].article.source_id
    assert texts(curator_client.get(CHANGELIST, {"article__source__id__exact": source})) == {
        "Mara Okonkwo",
        "Larchfield Systems",
    }
    assert texts(curator_client.get(CHANGELIST, {"q": "foundry"})) == {"Tallgrass Foundry"}


def test_span_list_query_count_does_not_grow(curator_client, editor, labels):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            curator_client.get(CHANGELIST)
        return len(ctx.captured_queries)

    for _ in range(5):
        SpanFactory(article=ArticleFactory(), label=labels["person"], start=0, end=4, annotator=editor)
    five = queries()
    for _ in range(45):
        SpanFactory(article=ArticleFactory(), label=labels["org"], start=16, end=26, annotator=editor)
    assert queries() == five


def test_autocomplete_finds_articles_and_users(curator_client, spans):
    url = reverse("admin:autocomplete")
    params = {"app_label": "annotations", "model_name": "span"}
    found = curator_client.get(url, params | {"field_name": "article", "term": "Wire"}).json()
    assert [r["text"] for r in found["results"]] == ["Wire story"]
    found = curator_client.get(url, params | {"field_name": "annotator", "term": "ed2"}).json()
    assert [r["text"] for r in found["results"]] == ["ed2"]
    page = curator_client.get(reverse("admin:annotations_span_add")).content.decode()
    assert 'class="admin-autocomplete"' in page and 'data-field-name="article"' in page


def test_add_span_by_offsets_checks_the_text(curator_client, editor, labels):
    article = ArticleFactory(body="Mara Okonkwo of Larchfield Systems said so.")
    add = reverse("admin:annotations_span_add")
    data = {"article": article.pk, "label": labels["org"].pk, "start": 16, "end": 99, "annotator": editor.pk,
            "origin": "manual", "note": ""}  # fmt: skip
    response = curator_client.post(add, data)
    assert "runs past the end of the text" in response.content.decode()
    assert curator_client.post(add, data | {"end": 34}).status_code == 302
    assert Span.objects.get().text == "Larchfield Systems"
    again = curator_client.post(add, data | {"end": 34})
    assert "ed already has this ORG span." in again.content.decode()


def test_change_span_moves_offsets_through_the_service(curator_client, spans):
    span = spans["larchfield"]
    url = reverse("admin:annotations_span_change", args=[span.pk])
    page = curator_client.get(url)
    assert {"article", "annotator", "origin", "text"} <= set(page.context["adminform"].readonly_fields)
    curator_client.post(url, {"label": span.label_id, "start": 16, "end": 26, "note": "short name"})
    span.refresh_from_db()
    assert (span.text, span.note) == ("Larchfield", "short name")


def test_bulk_relabel(curator_client, spans, labels):
    selected = [spans["larchfield"].pk, spans["tallgrass"].pk]
    payload = {"action": "relabel", ACTION_CHECKBOX_NAME: selected}
    page = curator_client.post(CHANGELIST, payload)
    assert "The selected spans get the label you choose." in page.content.decode()
    assert Span.objects.filter(label=labels["org"]).count() == 2
    done = curator_client.post(CHANGELIST, payload | {"post": "yes", "label": labels["claim"].pk}, follow=True)
    assert "Relabelled 2 span(s) as CLAIM." in done.content.decode()
    assert set(Span.objects.filter(label=labels["claim"]).values_list("text", flat=True)) == {
        "Larchfield Systems",
        "Tallgrass Foundry",
    }


def test_bulk_relabel_leaves_spans_that_would_duplicate(curator_client, editor, labels):
    article = ArticleFactory(body="Mara Okonkwo of Larchfield Systems said so.")
    person = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    org = SpanFactory(article=article, label=labels["org"], start=0, end=12, annotator=editor)
    claim = SpanFactory(article=article, label=labels["claim"], start=0, end=12, annotator=editor)
    payload = {
        "action": "relabel",
        ACTION_CHECKBOX_NAME: [org.pk, claim.pk],
        "post": "yes",
        "label": labels["person"].pk,
    }
    done = curator_client.post(CHANGELIST, payload, follow=True)
    assert "Relabelled 0 span(s) as PERSON; 2 left alone (would duplicate a span)." in done.content.decode()
    assert set(Span.objects.values_list("pk", "label__slug")) == {
        (person.pk, "person"), (org.pk, "org"), (claim.pk, "claim"),
    }  # fmt: skip


def test_relabel_needs_review_permission(client, spans, labels):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    # Staff with an editor's permissions only: may see spans, may not relabel everyone's.
    staff_editor = UserFactory(username="staffed", is_staff=True)
    staff_editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(staff_editor)
    choices = [v for v, _ in client.get(CHANGELIST).context["action_form"].fields["action"].choices]
    assert "relabel" not in choices
    payload = {"action": "relabel", ACTION_CHECKBOX_NAME: [spans["larchfield"].pk], "post": "yes",
               "label": labels["claim"].pk}  # fmt: skip
    client.post(CHANGELIST, payload)
    assert not Span.objects.filter(label=labels["claim"]).exists()


def test_assignment_admin_adds_through_the_service(curator_client, curator, editor, researcher):
    article = ArticleFactory()
    add = reverse("admin:annotations_assignment_add")
    refused = curator_client.post(add, {"article": article.pk, "user": researcher.pk})
    assert "res cannot annotate" in refused.content.decode()
    assert curator_client.post(add, {"article": article.pk, "user": editor.pk}).status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.user, assignment.assigned_by) == (editor, curator)
