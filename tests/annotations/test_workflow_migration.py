"""The migration to per-editor progress, run forward over rows stored before it: statuses renamed, slots made."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("articles", "0004_article_search_document"),
    ("annotations", "0013_workspace_undo_history_and_write_outcomes"),
]
AFTER = [
    ("articles", "0005_article_status_per_editor_progress"),
    ("annotations", "0014_assignment_slots_and_workflow_settings"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_old_statuses_are_renamed_and_spanned_editors_get_slots():
    old = _migrate(BEFORE)
    User, Group = old.get_model("auth", "User"), old.get_model("auth", "Group")
    Article, Span = old.get_model("articles", "Article"), old.get_model("annotations", "Span")
    Label, Assignment = old.get_model("annotations", "Label"), old.get_model("annotations", "Assignment")
    editors = Group.objects.get(name="Editors")
    ana, bo, rev = (User.objects.create(username=name) for name in ("mig-ana", "mig-bo", "mig-rev"))
    ana.groups.add(editors)
    bo.groups.add(editors)
    label = Label.objects.get(slug="person")
    rows = {}
    for status in ("new", "in_progress", "done", "reviewed"):
        body = f"Mara spoke ({status})."
        rows[status] = Article.objects.create(
            title=status, body=body, body_sha256=__import__("hashlib").sha256(body.encode()).hexdigest(), status=status
        )
    for status in ("in_progress", "done", "reviewed"):
        Span.objects.create(article=rows[status], label=label, start=0, end=4, text="Mara", annotator=ana)
    Span.objects.create(article=rows["done"], label=label, start=0, end=4, text="Mara", annotator=rev)  # no editor
    Assignment.objects.create(article=rows["new"], user=bo)  # a curator's assignment from before

    new = _migrate(AFTER)
    Article, Assignment = new.get_model("articles", "Article"), new.get_model("annotations", "Assignment")
    statuses = {a.title: a.status for a in Article.objects.filter(pk__in=[a.pk for a in rows.values()])}
    assert statuses == {
        "new": "new",
        "in_progress": "in_annotation",
        "done": "ready_for_review",
        "reviewed": "reviewed",
    }
    slots = {
        (s.article.title, s.user.username): (s.explicit, s.started_at is not None, s.done_at is not None)
        for s in Assignment.objects.select_related("article", "user").filter(user__username__startswith="mig-")
    }
    assert slots == {
        ("new", "mig-bo"): (True, False, False),
        ("in_progress", "mig-ana"): (False, True, False),
        ("done", "mig-ana"): (False, True, True),
        ("reviewed", "mig-ana"): (False, True, True),
    }
    assert new.get_model("annotations", "WorkflowSettings").objects.get().editors_per_article == 2
    _migrate(executor_leaf())


def executor_leaf():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
