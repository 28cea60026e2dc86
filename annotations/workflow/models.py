"""The site-wide workflow settings curators change in the admin: one row, read by assignment, progress and review."""

from __future__ import annotations

from django.db import models


class MergeStrategy(models.TextChoices):
    UNANIMOUS = "unanimous", "Unanimous: a span every editor made the same way is accepted"
    MAJORITY = "majority", "Majority: a span at least the threshold of editors made the same way is accepted"


SETTINGS_PK = 1


class WorkflowSettings(models.Model):
    """How articles are shared out and reviewed. A singleton: the row with id 1 (a database check)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=SETTINGS_PK, editable=False)
    editors_per_article = models.PositiveSmallIntegerField(
        default=2, help_text="How many editors label each article (a source or an import may say otherwise)"
    )
    lease_minutes = models.PositiveIntegerField(
        default=30,
        help_text="An editor who opens an article holds its slot this long; without a span by then, the slot frees",
    )
    blind_labelling = models.BooleanField(
        default=True, help_text="Editors never see other editors' spans (gold only once an article is reviewed)"
    )
    anonymous_review = models.BooleanField(
        default=False, help_text="Reviewers see Editor A, B, C instead of names on the review page"
    )
    merge_strategy = models.CharField(max_length=16, choices=MergeStrategy.choices, default=MergeStrategy.UNANIMOUS)
    majority_threshold = models.PositiveSmallIntegerField(
        default=2, help_text="With the majority strategy: how many editors must agree"
    )

    class Meta:
        verbose_name = "workflow settings"
        verbose_name_plural = "workflow settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=SETTINGS_PK), name="workflowsettings_singleton"),
            models.CheckConstraint(
                condition=models.Q(editors_per_article__gte=1), name="workflowsettings_editors_per_article_positive"
            ),
            models.CheckConstraint(condition=models.Q(lease_minutes__gte=1), name="workflowsettings_lease_positive"),
            models.CheckConstraint(
                condition=models.Q(merge_strategy__in=MergeStrategy.values),
                name="workflowsettings_merge_strategy_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(majority_threshold__gte=2), name="workflowsettings_majority_threshold_min"
            ),
        ]

    def __str__(self) -> str:
        return "Workflow settings"
