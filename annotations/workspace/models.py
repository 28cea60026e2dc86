"""The workspace's own records: each editor's undo history per article, and the answers given to idempotency keys.

Both live in PostgreSQL, written in the transaction of the change they describe, so any web process (gunicorn
worker, replica) sees the same history and recognises a retried request. Imported at the end of
``annotations/models.py`` so Django sees these models in the ``annotations`` app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from articles.models import Article


class UndoEntry(models.Model):
    """One change an editor may undo on an article; newest is the highest id. ``entry`` is ``undo.to_json``'s."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    entry = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "article", "id"], name="undoentry_user_article_id")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    entry__op__in=["create", "delete", "relabel", "suggestion-reject", "suggestion-accept"]
                ),
                name="undoentry_op_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry.get('op', '?')} by user {self.user_id} on article {self.article_id}"


class WriteOutcome(models.Model):
    """The answer given to one workspace write sent with an ``Idempotency-Key``: a retry gets it again.

    ``request`` fingerprints what was asked (path and form fields), so a key reused for another change is refused.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    message = models.TextField(blank=True)
    selected = models.BigIntegerField(null=True, blank=True)  # the span the page selected after the change
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="writeoutcome_user_key_unique")]
        indexes = [models.Index(fields=["user", "created_at"], name="writeoutcome_user_created")]

    def __str__(self) -> str:
        return f"{self.key} → {self.status}"


class WorkspaceDrawing(models.Model):
    """An editor's annotate page as last drawn: the body's markup, their list of spans and of suggestions, UTF-8.

    ``key`` is ``"<article's revision>.<the article's for this editor>.<labels' revision>"``
    (``annotations_drawingrevision``, migration 0032): statement-level triggers give these a new revision, in the
    transaction of the change, whenever a statement changes anything a drawing shows (spans, suggestions,
    decisions, the body or status, labels), by any path (the workspace, the admin, a review, an import, raw SQL).
    Revisions never recur, so a drawing is served only while nothing it shows has changed; nothing needs
    invalidating by hand. The key is also the drawing's version (the page's ``body_version``). One row per editor
    and article, replaced when the page is drawn anew; storing one drops other editors' drawings of the article
    that are older than its revision.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    body = models.BinaryField()
    spans = models.BinaryField()
    suggestions = models.BinaryField(default=b"")  # the suggestion panel, its CSRF token a marker (drawings.py)
    span_count = models.PositiveIntegerField(default=0)
    suggestion_count = models.PositiveIntegerField(default=0)
    drawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "editor"], name="workspacedrawing_article_editor_unique")
        ]

    def __str__(self) -> str:
        return f"article {self.article_id} for editor {self.editor_id}"
