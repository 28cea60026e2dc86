import pghistory
from django.conf import settings
from django.db import models
from django.db.models.functions import Length

from articles.models import Article


class LabelKind(models.TextChoices):
    ENTITY = "entity", "Entity"
    CLAIM = "claim", "Claim"
    BOILERPLATE = "boilerplate", "Boilerplate"


class SpanOrigin(models.TextChoices):
    MANUAL = "manual", "Manual"
    SUGGESTION = "suggestion", "Suggestion"
    IMPORT = "import", "Import"


# The workspace's own single-key commands (done, next, edit note, snap to words, help). A label hotkey on one of
# them would never fire, so the admin refuses it; views and admin share this one list.
WORKSPACE_COMMAND_KEYS = frozenset("dnew?")


class Label(models.Model):
    """A tag in the annotation vocabulary, with the guideline editors see."""

    Kind = LabelKind

    name = models.CharField(max_length=64, unique=True, help_text="Shown in exports, e.g. PERSON")
    slug = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=LabelKind.choices, default=LabelKind.ENTITY)
    color = models.CharField(max_length=7, default="#ffd166", help_text="Highlight colour, #rrggbb")
    hotkey = models.CharField(max_length=1, blank=True, help_text="One key that applies the label in the workspace")
    description = models.TextField(blank=True, help_text="Annotation guideline shown to editors")
    ordering = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Inactive labels keep their spans but cannot be applied")

    class Meta:
        ordering = ["ordering", "name"]
        constraints = [
            models.UniqueConstraint(fields=["hotkey"], condition=~models.Q(hotkey=""), name="label_hotkey_unique"),
            models.CheckConstraint(condition=models.Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="label_color_hex"),
            models.CheckConstraint(condition=models.Q(kind__in=LabelKind.values), name="label_kind_valid"),
            models.CheckConstraint(condition=~models.Q(hotkey=" "), name="label_hotkey_not_space"),
        ]

    def __str__(self) -> str:
        return self.name


# Every write to a span lands in SpanEvent through database triggers, with the request's user and url as
# context (pghistory middleware): bulk updates and raw SQL are recorded too. A delete event keeps the whole
# row, so a deleted span can be restored (services.span_restore).
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), model_name="SpanEvent")
class Span(models.Model):
    """A labelled range of an article's body: code points ``[start, end)`` of ``article.body``."""

    Origin = SpanOrigin

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="spans")
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="A copy of body[start:end], checked on every write")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="spans")
    origin = models.CharField(max_length=16, choices=SpanOrigin.choices, default=SpanOrigin.MANUAL)
    note = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article_id", "start", "-end", "label_id"]
        permissions = [
            ("review_span", "Can see and change every editor's spans"),
            ("export_spans", "Can export spans and articles"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="span_start_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")), name="span_text_length_matches_offsets"
            ),
            models.CheckConstraint(condition=models.Q(origin__in=SpanOrigin.values), name="span_origin_valid"),
            models.UniqueConstraint(
                fields=["article", "label", "start", "end", "annotator"], name="span_unique_per_annotator"
            ),
        ]
        indexes = [
            models.Index(fields=["article", "annotator"], name="span_article_annotator_idx"),
            models.Index(fields=["label"], name="span_label_idx"),
            models.Index(fields=["annotator"], name="span_annotator_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}:{self.start}-{self.end}"


class Assignment(models.Model):
    """An article handed to an editor; their queue shows it first."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="assignment_unique")]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.user_id}"


# Article history lives here because a proxy keeps the triggers and the event table in this app's migrations:
# the corpus app knows nothing of history, as it knows nothing of labels. The body is left out of the
# snapshots: it may only change while no span points into it, so its hash marks when it changed, and copying
# every text into the history would double the corpus at each import.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["body"],
    model_name="ArticleEvent",
)
class TrackedArticle(Article):
    class Meta:
        proxy = True
        verbose_name = "article (history)"


# Boilerplate families and suggestions live in their own module; importing them here registers them in this app.
from annotations.suggestions.models import (  # noqa: E402, F401
    BoilerplateCopy,
    BoilerplateFamily,
    BoilerplatePassage,
    Suggestion,
)
