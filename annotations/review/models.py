"""The gold layer: what reviewers settled, kept apart from every editor's spans, with where each gold span came from.

``GoldSpan`` is its own table, so no query over ``Span`` (the workspace, agreement's editor layers, the editor
exports) can ever pick up a gold span, and no query over ``GoldSpan`` an editor's. ``GoldSource`` rows copy the
editor span a gold span came from (annotator, label, offsets, text) so provenance survives later edits or deletes of
that span. ``ReviewDecision`` records every decision (accept, adjust, add, reject, automatic merge) with the editor
spans it settled; an editor span is settled while a live (not undone) decision names it. pghistory keeps every
change of all three.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Length

from annotations import history
from articles.models import Article


class GoldDecision(models.TextChoices):
    ACCEPTED = "accepted", "Accepted an editor's version"
    ADJUSTED = "adjusted", "Adjusted boundaries"
    ADDED = "added", "Added by the reviewer"
    AUTO = "auto", "Merged automatically"


class ReviewAction(models.TextChoices):
    ACCEPT = "accept", "Accept a version"
    ACCEPT_AGREED = "accept_agreed", "Accept every agreed span"
    ADJUST = "adjust", "Adjust boundaries"
    ADD = "add", "Add a gold span"
    REJECT = "reject", "Reject"
    MERGE = "merge", "Merge by strategy"
    REVIEWED = "reviewed", "Mark reviewed"


def _text_trigger() -> pgtrigger.Trigger:
    """The same check as ``span_text_matches_body``: text is exactly body[start:end] in code points."""
    return pgtrigger.Trigger(
        name="goldspan_text_matches_body",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.UpdateOf("start", "end", "text", "article_id"),
        declare=[("actual", "text"), ("body_length", "integer")],
        func="""
        SELECT substr(a.body, NEW.start + 1, NEW."end" - NEW.start), char_length(a.body)
          INTO actual, body_length FROM articles_article a WHERE a.id = NEW.article_id;
        IF NEW."end" > body_length THEN
          RAISE EXCEPTION 'gold span %-% runs past the end of article % (% characters)',
            NEW.start, NEW."end", NEW.article_id, body_length
            USING ERRCODE = 'check_violation', CONSTRAINT = 'goldspan_text_matches_body';
        END IF;
        IF actual IS DISTINCT FROM NEW.text THEN
          RAISE EXCEPTION 'gold span text does not match body[%:%] of article %', NEW.start, NEW."end", NEW.article_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'goldspan_text_matches_body';
        END IF;
        RETURN NEW;
        """,
    )


@pghistory.track(history.InsertEvent(), history.UpdateEvent(), history.DeleteEvent(), model_name="ReviewDecisionEvent")
class ReviewDecision(models.Model):
    """One reviewer decision on an article; ``span_ids`` are the editor spans it settles (accepted or rejected)."""

    Action = ReviewAction

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=ReviewAction.choices)
    span_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=None)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["article_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=ReviewAction.values), name="reviewdecision_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(undone_at__isnull=True) | models.Q(undone_at__gte=models.F("created_at")),
                name="reviewdecision_undone_after_made",
            ),
        ]
        indexes = [models.Index(fields=["article", "undone_at"], name="reviewdecision_article_idx")]

    def __str__(self) -> str:
        return f"{self.action} on {self.article_id}"


@pghistory.track(history.InsertEvent(), history.UpdateEvent(), history.DeleteEvent(), model_name="GoldSpanEvent")
class GoldSpan(models.Model):
    """A span of the gold layer: code points ``[start, end)`` of ``article.body``, as a reviewer settled it."""

    Decision = GoldDecision

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="gold_spans")
    label = models.ForeignKey("annotations.Label", on_delete=models.PROTECT, related_name="gold_spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="A copy of body[start:end], checked on every write")
    note = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=16, choices=GoldDecision.choices)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    # The decision that created it: undoing that decision removes it.
    made_by = models.ForeignKey(ReviewDecision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["article_id", "start", "-end", "label_id"]
        permissions = [("review_gold", "Can settle editors' spans into the gold layer")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="goldspan_start_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")), name="goldspan_text_length_matches_offsets"
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=GoldDecision.values), name="goldspan_decision_valid"
            ),
            # Stacked identical spans of several editors are one gold span (inception#1893).
            models.UniqueConstraint(fields=["article", "label", "start", "end"], name="goldspan_unique"),
        ]
        triggers = [_text_trigger()]

    def __str__(self) -> str:
        return f"gold {self.label_id}:{self.start}-{self.end}"


@pghistory.track(history.InsertEvent(), history.DeleteEvent(), model_name="GoldSourceEvent")
class GoldSource(models.Model):
    """Provenance: one editor span a gold span came from, copied as it was when the reviewer took it."""

    gold = models.ForeignKey(GoldSpan, on_delete=models.CASCADE, related_name="sources")
    decision = models.ForeignKey(ReviewDecision, on_delete=models.CASCADE, related_name="sources")
    span = models.ForeignKey("annotations.Span", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    span_ref = models.BigIntegerField(help_text="The editor span's id, kept after it is deleted")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.ForeignKey("annotations.Label", on_delete=models.PROTECT, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gold", "span_ref"], name="goldsource_unique"),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")),
                name="goldsource_text_length_matches_offsets",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gold_id} ← span {self.span_ref}"
