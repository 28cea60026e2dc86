"""Labels in the admin: colour picker, hotkey rules, ordering, protected deletion, merging."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from annotations.models import Label, Span, SpanEvent
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:annotations_label_changelist")
ADD = reverse("admin:annotations_label_add")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def label_data(**extra):
    return {
        "name": "PRODUCT", "slug": "product", "kind": "entity", "color": "#a0c4ff", "hotkey": "5",
        "description": "", "ordering": "5", "active": "on",
    } | extra  # fmt: skip


def test_colour_is_picked_with_a_colour_input(curator_client):
    content = curator_client.get(ADD).content.decode()
    assert 'type="color" name="color"' in content
    curator_client.post(ADD, label_data(color="#A0C4FF"))
    assert Label.objects.get(slug="product").color == "#a0c4ff"


@pytest.mark.parametrize(
    "hotkey,error",
    [
        ("1", "“1” is already the hotkey of PERSON."),
        ("d", "“d” is a command key of the workspace or the review page"),
        ("N", "“N” is a command key of the workspace or the review page"),
        ("w", "“w” is a command key of the workspace or the review page"),
        ("?", "“?” is a command key of the workspace or the review page"),
        ("j", "“j” is a command key of the workspace or the review page"),
        ("X", "“X” is a command key of the workspace or the review page"),
        ("a", "“a” is a command key of the workspace or the review page"),
        ("y", "“y” is a command key of the workspace or the review page"),
        ("\u200b", "A hotkey is one visible character"),
    ],
)
def test_hotkey_must_be_one_free_visible_key(curator_client, hotkey, error):
    response = curator_client.post(ADD, label_data(hotkey=hotkey))
    assert error in response.content.decode()
    assert not Label.objects.filter(slug="product").exists()


def test_hotkey_is_unique_ignoring_case(curator_client):
    Label.objects.filter(slug="person").update(hotkey="p")
    response = curator_client.post(ADD, label_data(hotkey="P"))
    assert "“P” is already the hotkey of PERSON." in response.content.decode()
    assert curator_client.post(ADD, label_data(hotkey="q")).status_code == 302


def test_ordering_and_active_are_edited_in_the_list(curator_client, labels):
    response = curator_client.get(CHANGELIST)
    assert 'name="form-0-ordering"' in response.content.decode()
    data = {"form-TOTAL_FORMS": "4", "form-INITIAL_FORMS": "4", "_save": "Save"}
    for i, label in enumerate(Label.objects.order_by("ordering", "name")):
        data |= {f"form-{i}-id": label.pk, f"form-{i}-ordering": 10 - i, f"form-{i}-active": "on"}
    assert curator_client.post(CHANGELIST, data).status_code == 302
    assert list(Label.objects.values_list("slug", flat=True)) == ["sponsored", "claim", "org", "person"]


def test_list_shows_swatch_and_span_counts(curator_client, editor, labels):
    SpanFactory(article=ArticleFactory(), label=labels["org"], start=16, end=26, annotator=editor)
    response = curator_client.get(CHANGELIST)
    counts = {label.slug: label.span_count for label in response.context["cl"].result_list}
    assert counts == {"person": 0, "org": 1, "claim": 0, "sponsored": 0}
    assert '<span class="swatch label-org"></span>#8ecae6' in response.content.decode()


def test_deleting_a_label_in_use_is_refused_and_offers_deactivation(curator_client, editor, labels):
    SpanFactory(article=ArticleFactory(), label=labels["org"], start=16, end=26, annotator=editor)
    url = reverse("admin:annotations_label_delete", args=[labels["org"].pk])
    page = curator_client.get(url)
    content = page.content.decode()
    assert "The label <strong>ORG</strong> cannot be deleted: 1 span uses it" in content
    assert "deactivate it: its spans stay" in content
    assert curator_client.post(url, {"post": "yes"}).status_code == 200
    assert Label.objects.filter(slug="org").exists()
    done = curator_client.post(reverse("admin:annotations_label_deactivate", args=[labels["org"].pk]), follow=True)
    assert "ORG is inactive: its spans stay" in done.content.decode()
    org = Label.objects.get(slug="org")
    assert not org.active and org.spans.count() == 1


def test_bulk_delete_refuses_labels_in_use_and_deletes_unused(curator_client, editor, labels):
    SpanFactory(article=ArticleFactory(), label=labels["org"], start=16, end=26, annotator=editor)
    payload = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [labels["org"].pk, labels["claim"].pk]}
    response = curator_client.post(CHANGELIST, payload | {"post": "yes"}, follow=True)
    assert "Nothing was deleted: ORG (1 spans) still label spans. Deactivate a label" in response.content.decode()
    assert Label.objects.filter(slug__in=["org", "claim"]).count() == 2
    payload[ACTION_CHECKBOX_NAME] = [labels["claim"].pk]
    assert curator_client.post(CHANGELIST, payload).status_code == 200  # Django's confirmation page
    curator_client.post(CHANGELIST, payload | {"post": "yes"})
    assert not Label.objects.filter(slug="claim").exists()


def test_merge_moves_every_span_and_deletes_the_merged_label(curator_client, editor, other_editor, labels):
    article = ArticleFactory()
    SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=0, end=4, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=0, end=4, annotator=other_editor)
    # ed already marked 0-4 as PERSON: merging ORG into PERSON must not double it.
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    payload = {"action": "merge", ACTION_CHECKBOX_NAME: [labels["org"].pk]}
    page = curator_client.post(CHANGELIST, payload)
    assert "The 3 span(s) of the selected labels get the label you choose below" in page.content.decode()
    done = curator_client.post(CHANGELIST, payload | {"post": "yes", "target": labels["person"].pk}, follow=True)
    assert "Merged into PERSON: 2 span(s) relabelled, 1 duplicate(s) dropped." in done.content.decode()
    assert not Label.objects.filter(slug="org").exists()
    assert sorted(Span.objects.values_list("label__slug", "start", "annotator__username")) == [
        ("person", 0, "ed"), ("person", 0, "ed2"), ("person", 16, "ed"),
    ]  # fmt: skip
    assert SpanEvent.objects.filter(pgh_label="update", label_id=labels["person"].pk).count() == 2


def test_merge_into_one_of_the_merged_labels_is_refused(curator_client, labels):
    payload = {"action": "merge", ACTION_CHECKBOX_NAME: [labels["org"].pk], "post": "yes"}
    response = curator_client.post(CHANGELIST, payload | {"target": labels["org"].pk})
    assert "Choose a label that is not one of those being merged." in response.content.decode()
    assert Label.objects.filter(slug="org").exists()


def test_label_changes_need_label_permissions(client, labels):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_label"))
    client.force_login(viewer)
    assert client.get(CHANGELIST).status_code == 200
    assert client.post(ADD, label_data()).status_code == 403
    assert client.post(reverse("admin:annotations_label_deactivate", args=[labels["org"].pk])).status_code == 403
    payload = {
        "action": "merge",
        ACTION_CHECKBOX_NAME: [labels["org"].pk],
        "post": "yes",
        "target": labels["person"].pk,
    }
    client.post(CHANGELIST, payload)
    assert Label.objects.filter(slug="org", active=True).exists()
