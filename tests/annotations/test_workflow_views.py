"""Blind labelling where editors can reach spans, and the workflow's admin pages (settings, overview, release)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotations.models import Assignment, Span
from annotations.progress import Transition, article_mark_reviewed, article_status_change
from annotations.workflow.models import WorkflowSettings
from annotations.workflow.selectors import gold_visible, workflow_settings
from annotations.workflow.services import slot_claim
from articles.models import Article
from tests.factories import ArticleFactory, SpanFactory, make_editor
from tests.html import one, parse, select, text
from tests.workspace import HX, url

pytestmark = pytest.mark.django_db

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May."
OVERVIEW = "admin:annotations_assignment_overview"


def set_blind(on):
    settings = workflow_settings()
    settings.blind_labelling = on
    settings.save()


@pytest.fixture
def shared(editor, other_editor, labels):
    """One article both editors labelled: theirs is a distinctive ORG, mine a PERSON."""
    article = ArticleFactory(body=BODY)
    mine = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    theirs = SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=other_editor)
    return {"article": article, "mine": mine, "theirs": theirs}


# Blind labelling -------------------------------------------------------------------------------------------------


def test_the_workspace_shows_an_editor_only_their_own_spans(editor_client, shared):
    page = parse(editor_client.get(url("article-annotate", shared["article"])).content)
    assert select(page, f'[data-spans~="{shared["mine"].pk}"]')
    assert not select(page, f'[data-spans~="{shared["theirs"].pk}"]')
    assert "Larchfield Systems" not in text(one(page, "#ws-panel"))


def test_another_editors_span_is_gone_to_every_workspace_url(editor_client, shared, labels):
    article, theirs = shared["article"], shared["theirs"]
    detail = editor_client.get(reverse("annotations:span-detail", args=[article.pk, theirs.pk]), headers=HX)
    # A stale page is redrawn in place with the editor's own layer: the article's text, never their span.
    page = parse(detail.content.decode())
    assert detail.status_code == 404
    assert not [el for el in select(page, "[data-spans]") if str(theirs.pk) in el.get("data-spans").split()]
    assert not select(page, f'[data-span="{theirs.pk}"]')
    posts = [
        ("span-relabel", {"span": theirs.pk, "label": labels["claim"].pk}),
        ("span-details", {"span": theirs.pk, "note": "mine now"}),
        ("span-delete", {"span": theirs.pk}),
    ]
    for name, data in posts:
        response = editor_client.post(url(name, article), data, headers=HX)
        assert response.status_code == 404, name
        assert "no longer exists" in response.content.decode()
    theirs.refresh_from_db()
    assert (theirs.label, theirs.note) == (labels["org"], "")


def test_reviewers_take_no_slot_and_their_workspace_is_their_own_layer(client, reviewer, shared):
    client.force_login(reviewer)
    detail = client.get(reverse("annotations:span-detail", args=[shared["article"].pk, shared["theirs"].pk]))
    # The workspace is a person's own layer for reviewers too; the review page shows everyone's.
    assert detail.status_code == 404
    assert not Assignment.objects.filter(user=reviewer).exists()


@pytest.fixture
def staff_editor(shared, editor):
    """An editor a curator made staff: the admin lets them in, and must not show other editors' spans."""
    editor.is_staff = True
    editor.save()
    client = Client()
    client.force_login(editor)
    return client


def test_a_staff_editor_reaches_only_their_own_spans_in_the_admin(staff_editor, shared):
    changelist = staff_editor.get(reverse("admin:annotations_span_changelist"))
    assert changelist.status_code == 200
    rows = select(changelist.content, "#result_list tbody tr")
    assert len(rows) == 1 and "Mara Okonkwo" in text(rows[0])
    other = staff_editor.get(reverse("admin:annotations_span_change", args=[shared["theirs"].pk]))
    assert other.status_code == 302  # the admin's "does not exist" redirect, no text of the span
    article_page = staff_editor.get(reverse("admin:articles_article_change", args=[shared["article"].pk]))
    assert article_page.status_code == 200
    content = article_page.content.decode()
    assert "Text with every editor" not in content
    inline_texts = [text(cell) for cell in select(content, ".field-text")]
    assert inline_texts == ["Mara Okonkwo"]
    listing = staff_editor.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "column-editors" not in listing


def test_with_blind_labelling_off_a_staff_editor_sees_every_span(staff_editor, shared):
    set_blind(False)
    rows = select(staff_editor.get(reverse("admin:annotations_span_changelist")).content, "#result_list tbody tr")
    assert len(rows) == 2


def test_gold_is_visible_to_editors_only_once_the_article_is_reviewed(editor, reviewer, shared):
    article = shared["article"]
    assert not gold_visible(article=article, user=editor)
    assert gold_visible(article=article, user=reviewer)
    article_mark_reviewed(article=article, actor=reviewer)
    assert gold_visible(article=article, user=editor)


def test_editors_never_see_agreement_figures(editor_client):
    assert editor_client.get(reverse("annotations:agreement")).status_code == 403


# Admin: settings, overview, release ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("editor", 302), ("reviewer", 302), ("researcher", 302), ("curator", 200), (None, 302)]
)
def test_new_admin_pages_permission_matrix(client, request, role, status):
    pages = [reverse(OVERVIEW), reverse("admin:annotations_workflowsettings_change", args=[1])]
    if role:
        client.force_login(request.getfixturevalue(role))
    for page in pages:
        response = client.get(page)
        assert response.status_code == status, page
        if status == 302:
            assert response["Location"].startswith(reverse("admin:login"))


def test_a_staff_reviewer_sees_the_overview_and_settings_but_changes_nothing(client, reviewer):
    reviewer.is_staff = True
    reviewer.save()
    client.force_login(reviewer)
    assert client.get(reverse(OVERVIEW)).status_code == 200
    change = reverse("admin:annotations_workflowsettings_change", args=[1])
    assert client.get(change).status_code == 200
    assert client.post(change, {"editors_per_article": 5}).status_code == 403
    assert WorkflowSettings.objects.get().editors_per_article == 2


def test_curator_changes_the_settings_in_the_admin(client, curator):
    client.force_login(curator)
    listing = client.get(reverse("admin:annotations_workflowsettings_changelist"))
    assert listing["Location"] == reverse("admin:annotations_workflowsettings_change", args=[1])
    data = {
        "editors_per_article": 3,
        "lease_minutes": 10,
        "blind_labelling": "on",
        "merge_strategy": "majority",
        "majority_threshold": 2,
    }
    response = client.post(reverse("admin:annotations_workflowsettings_change", args=[1]), data)
    assert response.status_code == 302
    settings = WorkflowSettings.objects.get()
    assert (settings.editors_per_article, settings.lease_minutes, settings.merge_strategy) == (3, 10, "majority")
    assert settings.blind_labelling and not settings.anonymous_review
    assert client.get(reverse("admin:annotations_workflowsettings_add")).status_code == 403
    refused = client.post(reverse("admin:annotations_workflowsettings_change", args=[1]), {**data, "lease_minutes": 0})
    assert refused.status_code == 200 and WorkflowSettings.objects.get().lease_minutes == 10


def test_overview_lists_awaiting_throughput_reviewers_and_stalled(client, curator, reviewer, labels):
    ana, bo = make_editor("ana"), make_editor("bo")
    waiting = ArticleFactory(title="Waiting one", body=BODY)
    stalled = ArticleFactory(title="Stalled one", body=BODY + " (2)")
    for who in (ana, bo):
        slot_claim(article=waiting, editor=who)
        article_status_change(article=waiting, actor=who, transition=Transition.DONE)
    slot = slot_claim(article=stalled, editor=bo)
    SpanFactory(article=stalled, label=labels["person"], start=0, end=4, annotator=bo)
    Assignment.objects.filter(pk=slot.pk).update(
        started_at=timezone.now() - dt.timedelta(hours=2), leased_until=timezone.now() - dt.timedelta(hours=1)
    )
    reviewed = ArticleFactory(title="Reviewed one", body=BODY + " (3)")
    article_mark_reviewed(article=reviewed, actor=reviewer)
    client.force_login(curator)
    page = parse(client.get(reverse(OVERVIEW)).content)
    assert [text(a) for a in select(page, "#awaiting-review tbody td:first-child a")] == ["Waiting one"]
    throughput = {
        text(row.xpath("th")[0]): [text(td) for td in row.xpath("td")[:5]]
        for row in select(page, "#throughput tbody tr")
    }
    assert throughput == {"ana": ["1", "1", "1", "1", "0"], "bo": ["1", "1", "1", "1", "1"]}
    assert [text(td) for td in select(page, "#stalled tbody td")][:2] == ["Stalled one", "bo"]
    assert select(page, '#stalled a[href$="?state=stalled"]')
    assert Article.objects.get(pk=waiting.pk).status == Article.Status.READY_FOR_REVIEW


def test_curator_releases_a_stalled_slot_from_the_admin_and_the_history_keeps_it(client, curator, labels):
    from annotations.models import AssignmentEvent

    bo = make_editor("bo")
    article = ArticleFactory(body=BODY)
    slot = slot_claim(article=article, editor=bo)
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=bo)
    Assignment.objects.filter(pk=slot.pk).update(started_at=timezone.now(), leased_until=timezone.now())
    client.force_login(curator)
    changelist = reverse("admin:annotations_assignment_changelist")
    confirm = client.post(changelist, {"action": "release", "_selected_action": [slot.pk]})
    assert confirm.status_code == 200 and "Release editors" in confirm.content.decode()
    client.post(changelist, {"action": "release", "_selected_action": [slot.pk], "post": "yes"})
    slot.refresh_from_db()
    assert slot.released_by == curator
    assert Span.objects.filter(annotator=bo).count() == 1
    events = AssignmentEvent.objects.filter(pgh_obj_id=slot.pk).order_by("pgh_id")
    assert events.last().released_by_id == curator.pk
    assert events.count() >= 3  # claimed, started, released
