"""Each role against the admin: who gets in, what renders, what each group may do (and nothing more)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from annotations.models import ArticleEvent, Label, SpanEvent
from annotations.spans.services import span_delete
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(editor, labels):
    article = ArticleFactory(title="Tern chip ships in May")
    span = SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=editor)
    doomed = SpanFactory(article=article, label=labels["claim"], start=27, end=62, annotator=editor)
    span_delete(span=doomed, actor=editor)
    return {"article": article, "span": span}


def admin_pages(corpus, labels):
    article, span = corpus["article"], corpus["span"]
    return [
        reverse("admin:index"),
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_change", args=[article.pk]),
        reverse("admin:articles_article_import"),
        reverse("admin:articles_source_changelist"),
        reverse("admin:articles_source_change", args=[article.source_id]),
        reverse("admin:annotations_label_changelist"),
        reverse("admin:annotations_label_change", args=[labels["person"].pk]),
        reverse("admin:annotations_label_add"),
        reverse("admin:annotations_span_changelist"),
        reverse("admin:annotations_span_change", args=[span.pk]),
        reverse("admin:annotations_span_add"),
        reverse("admin:annotations_assignment_changelist"),
        reverse("admin:annotations_assignment_add"),
        reverse("admin:annotations_assignment_changelist") + "?state=stalled",
        reverse("admin:annotations_assignment_overview"),
        reverse("admin:annotations_workflowsettings_change", args=[1]),
        reverse("admin:annotations_spanevent_changelist"),
        reverse("admin:annotations_articleevent_changelist"),
        reverse("admin:pghistory_middlewareevents_changelist"),
    ]


def test_curator_sees_every_admin_page(client, curator, corpus, labels):
    client.force_login(curator)
    for url in admin_pages(corpus, labels):
        response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("role", ["editor", "reviewer", "researcher"])
def test_other_roles_are_not_let_into_the_admin(client, role, corpus, labels, request):
    client.force_login(request.getfixturevalue(role))
    for url in admin_pages(corpus, labels):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_curator_admin_pages_are_csp_clean(client, curator, corpus, labels):
    client.force_login(curator)
    for url in admin_pages(corpus, labels):
        content = client.get(url).content.decode()
        assert " style=" not in content, url
        assert "<script>" not in content and '<script type="text/javascript">' not in content, url
        assert " onclick=" not in content and " onchange=" not in content, url


def perms(group: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


VIEW_CORPUS = {"articles.view_article", "articles.view_source", "annotations.view_label", "annotations.view_span"}
SPAN_WRITE = {"annotations.add_span", "annotations.change_span", "annotations.delete_span"}


def test_groups_hold_exactly_their_permissions():
    assert perms("Editors") == VIEW_CORPUS | SPAN_WRITE
    assert perms("Reviewers") == VIEW_CORPUS | SPAN_WRITE | {
        "annotations.review_span",
        "articles.review_article",
        "annotations.view_assignment",
        "annotations.view_agreement",
        "annotations.review_gold",
        "annotations.view_workflowsettings",
    }
    assert perms("Researchers") == VIEW_CORPUS | {"annotations.export_spans", "annotations.view_agreement"}
    assert perms("Curators") == VIEW_CORPUS | SPAN_WRITE | {
        "articles.add_article",
        "articles.change_article",
        "articles.delete_article",
        "articles.review_article",
        "articles.add_source",
        "articles.change_source",
        "articles.delete_source",
        "annotations.add_label",
        "annotations.change_label",
        "annotations.delete_label",
        "annotations.review_span",
        "annotations.export_spans",
        "annotations.add_assignment",
        "annotations.change_assignment",
        "annotations.delete_assignment",
        "annotations.view_assignment",
        "annotations.view_spanevent",
        "annotations.view_articleevent",
        "pghistory.view_events",
        "pghistory.view_middlewareevents",
        "auth.view_user",
        # Managing editors, reviewers and researchers (annotations/curation/users.py).
        "auth.add_user",
        "auth.change_user",
        # Unlocking logins that django-axes locked (annotations/migrations/0009_curators_unlock_logins.py).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
        "annotations.view_agreement",
        "annotations.view_boilerplatefamily",
        "annotations.change_boilerplatefamily",
        "annotations.view_boilerplatecopy",
        "annotations.view_suggestion",
        "annotations.review_gold",
        "annotations.add_suggestion",
        "annotations.release_assignment",
        "annotations.view_workflowsettings",
        "annotations.change_workflowsettings",
        "annotations.view_assignmentevent",
    }


def test_load_demo_puts_users_in_their_groups():
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    from django.contrib.auth import get_user_model

    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["editor", "reviewer", "researcher", "curator"])
    }
    assert [g.name for g in users["curator"].groups.all()] == ["Curators"] and users["curator"].is_staff
    assert not users["researcher"].is_staff and [g.name for g in users["researcher"].groups.all()] == ["Researchers"]
    assert not users["editor"].is_staff and not users["reviewer"].is_staff


def test_history_models_are_tracked(corpus):
    assert SpanEvent.objects.filter(pgh_label="delete").count() == 1
    assert ArticleEvent.objects.filter(pgh_obj_id=corpus["article"].pk, pgh_label="insert").exists()
    assert Label.objects.count() == 4
