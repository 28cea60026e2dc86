"""Boilerplate families and suggestions: what the machine proposes, kept apart from what editors label.

Imported at the end of ``annotations/models.py`` so Django sees these models in the ``annotations`` app.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Length

from annotations.models import Label, Span
from articles.models import Article, Source


class FamilyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISMISSED = "dismissed", "Dismissed"


class PrecisionHint(models.TextChoices):
    HIGH = "high", "High: many outlets, always at the end"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low: few articles or outlets; check before suggesting"


class BoilerplateFamily(models.Model):
    """A passage repeated at the end of many articles (a vendor blurb, a call to action), with its variants.

    ``keys`` holds the exact and band keys of every variant seen: new copies are matched against them, and a
    whole-corpus rebuild finds the same family again through them (same id, same status: a dismissed family
    stays dismissed).
    """

    Status = FamilyStatus
    Precision = PrecisionHint

    text = models.TextField(help_text="The representative text: the most common variant")
    status = models.CharField(max_length=16, choices=FamilyStatus.choices, default=FamilyStatus.ACTIVE)
    precision_hint = models.CharField(max_length=8, choices=PrecisionHint.choices, default=PrecisionHint.MEDIUM)
    article_count = models.PositiveIntegerField(default=0)
    source_count = models.PositiveIntegerField(default=0)
    copy_count = models.PositiveIntegerField(default=0)
    variant_count = models.PositiveIntegerField(default=0, help_text="Distinct texts after normalisation")
    end_share = models.FloatField(
        default=0.0, help_text="Share of copies with nothing after them but other boilerplate (position at the end)"
    )
    first_seen = models.DateTimeField(null=True, blank=True, help_text="Earliest article (published or imported)")
    last_seen = models.DateTimeField(null=True, blank=True)
    cluster = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    keys = ArrayField(models.BigIntegerField(), default=list, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "boilerplate family"
        verbose_name_plural = "boilerplate families"
        ordering = ["-article_count", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=FamilyStatus.values), name="boilerplatefamily_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(precision_hint__in=PrecisionHint.values), name="boilerplatefamily_precision_valid"
            ),
            models.CheckConstraint(condition=models.Q(text__regex=r"\S"), name="boilerplatefamily_text_not_blank"),
            models.CheckConstraint(
                condition=models.Q(status=FamilyStatus.ACTIVE) | models.Q(dismissed_at__isnull=False),
                name="boilerplatefamily_dismissed_dated",
            ),
        ]
        indexes = [
            GinIndex(fields=["keys"], name="boilerplatefamily_keys_gin", fastupdate=False),
            models.Index(fields=["status", "-article_count"], name="boilerplatefamily_size_idx"),
        ]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 60 else self.text[:59] + "…"


class BoilerplateCopy(models.Model):
    """One occurrence of a family: code points ``[start, end)`` of ``article.body``, ``text`` a copy of them."""

    family = models.ForeignKey(BoilerplateFamily, on_delete=models.CASCADE, related_name="copies")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="boilerplate_copies")
    # The article's source and date, copied here so a family's numbers are counted from this table alone
    # (the per-article check refreshes them in a millisecond, not a join over thousands of articles).
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    seen = models.DateTimeField(null=True, blank=True, help_text="The article's publication (or import) time")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    exact_key = models.BigIntegerField(help_text="Which variant (hash of the normalised words)")
    paragraph = models.PositiveSmallIntegerField(help_text="0 = the article's last paragraph")
    at_end = models.BooleanField(default=False, help_text="Nothing follows it but other boilerplate")

    class Meta:
        verbose_name_plural = "boilerplate copies"
        ordering = ["family_id", "article_id", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="boilerplatecopy_start_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")),
                name="boilerplatecopy_text_length_matches_offsets",
            ),
            models.UniqueConstraint(fields=["article", "start", "end"], name="boilerplatecopy_unique_place"),
        ]
        indexes = [models.Index(fields=["family", "article"], name="boilerplatecopy_family_idx")]

    def __str__(self) -> str:
        return f"family {self.family_id}: article {self.article_id} {self.start}-{self.end}"


class BoilerplatePassage(models.Model):
    """The engine's memory: every candidate passage at the end of every article, with its keys.

    Not shown to anyone. A new article's passages are looked up here by key (indexes, no corpus scan), so a
    passage seen once before becomes a family when enough copies arrive. ``cluster`` is the id of the first
    passage of its group of near-duplicates (NULL while it has none).
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    paragraph = models.PositiveSmallIntegerField(help_text="0 = the article's last paragraph")
    exact_key = models.BigIntegerField()
    # Band keys are grouped by the whole-corpus rebuild (in SQL) and indexed only for the first passage of each
    # cluster (``cluster = id``, a few per thousand): a new article's near-duplicates are matched against
    # families and those first passages; building a GIN index over every passage doubled the rebuild time.
    keys = ArrayField(models.BigIntegerField(), help_text="Band keys (MinHash, banded)")
    cluster = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="boilerplatepassage_start_before_end"
            ),
        ]
        indexes = [
            models.Index(fields=["exact_key"], name="boilerplatepassage_exact_idx"),
            models.Index(fields=["article"], name="boilerplatepassage_article_idx"),
            models.Index(fields=["cluster"], name="boilerplatepassage_cluster_idx"),
            GinIndex(
                fields=["keys"],
                name="boilerplatepassage_root_keys",
                condition=models.Q(cluster=models.F("id")),
                fastupdate=False,
            ),
        ]

    def __str__(self) -> str:
        return f"article {self.article_id} {self.start}-{self.end}"


class SuggestionOrigin(models.TextChoices):
    BOILERPLATE = "boilerplate", "Boilerplate family"
    PROPAGATION = "propagation", "Propagated label"
    PLUGIN = "plugin", "Pre-annotation plug-in"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class Suggestion(models.Model):
    """A span the machine proposes: code points ``[start, end)`` of ``article.body`` with a label.

    Never anyone's label: it counts in no layer, agreement or review. Accepting one creates the editor's own
    ``Span`` (origin ``suggestion``, linked here as ``span``). One suggestion per article, label and place,
    whatever its status, so a rejected suggestion is not proposed again by the same source.
    """

    Origin = SuggestionOrigin
    Status = SuggestionStatus

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="suggestions")
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="suggestions")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="A copy of body[start:end], checked on every write")
    origin = models.CharField(max_length=16, choices=SuggestionOrigin.choices)
    family = models.ForeignKey(
        BoilerplateFamily, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestions"
    )
    status = models.CharField(max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for it (a curator turning a family into suggestions)",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    span = models.ForeignKey(
        Span, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="The span it became"
    )
    # Blind labelling: a suggestion propagated from one editor's span shows only that editor (and everyone once
    # the article is reviewed); NULL for what no editor's labels gave away (families, plug-ins, the gazetteer).
    derived_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The editor whose span this was propagated from, in the same article",
    )

    class Meta:
        ordering = ["article_id", "start", "-end", "label_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="suggestion_start_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")),
                name="suggestion_text_length_matches_offsets",
            ),
            models.CheckConstraint(
                condition=models.Q(origin__in=SuggestionOrigin.values), name="suggestion_origin_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SuggestionStatus.values), name="suggestion_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=SuggestionStatus.PENDING) | models.Q(decided_at__isnull=False),
                name="suggestion_decision_dated",
            ),
            # One per place and label for each editor's propagation, and one for everything else (NULLs equal).
            models.UniqueConstraint(
                fields=["article", "label", "start", "end", "derived_from"],
                name="suggestion_unique_place",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            models.Index(fields=["article", "status"], name="suggestion_article_status_idx"),
            models.Index(fields=["family"], name="suggestion_family_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} {self.label_id}:{self.start}-{self.end} ({self.status})"


class DecisionKind(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class SuggestionDecision(models.Model):
    """One editor's answer to a suggestion on one article, keyed on the place and label, not the suggestion row.

    A rebuild, a new propagation or another plug-in run that proposes the same label at the same place finds
    this row and stays hidden from this editor: a rejected suggestion never comes back. Undoing the rejection
    deletes the row, and the suggestion shows again.
    """

    Kind = DecisionKind

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16, choices=DecisionKind.choices)
    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    span = models.ForeignKey(
        Span, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="The span accepting made"
    )
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "label", "start", "end", "editor"], name="suggestiondecision_unique_per_editor"
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=DecisionKind.values), name="suggestiondecision_decision_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="suggestiondecision_start_before_end"
            ),
        ]
        indexes = [models.Index(fields=["editor", "article"], name="suggestiondecision_editor_idx")]

    def __str__(self) -> str:
        return f"{self.editor_id} {self.decision} {self.label_id}:{self.start}-{self.end}"
