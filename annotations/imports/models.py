"""Admin import jobs: the upload waits in PostgreSQL while the worker previews, then imports it (README)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.background_jobs import STALLED_AFTER, BackgroundJob, JobChunk

__all__ = ["STALLED_AFTER", "ImportChunk", "ImportJob"]


class ImportJob(BackgroundJob):
    """One curator's upload on its way in: previewed by the worker, confirmed by its owner, imported by the worker.

    The file lives in ``ImportChunk`` rows until the job can no longer be confirmed, so any web replica can take
    the confirmation and any worker can run it; ``preview`` and ``result`` hold what the pages show.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the preview"
        PREVIEWING = "previewing", "Previewing"
        PREVIEWED = "previewed", "Previewed"
        CONFIRMED = "confirmed", "Waiting for the import"
        IMPORTING = "importing", "Importing"
        FINISHED = "finished", "Imported"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    WORKING_STATUSES = (Status.PREVIEWING, Status.IMPORTING)
    PROGRESS_FIELD = "processed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    name = models.CharField(max_length=255, help_text="The uploaded file's name, as messages cite it (file:line).")
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Records to import (known from the preview) and records done so far: the import's progress bar.
    total = models.BigIntegerField(default=0)
    processed = models.BigIntegerField(default=0)
    # Counts, samples and every error by file and line (see jobs.preview_summary); null until previewed.
    preview = models.JSONField(null=True, blank=True)
    # What the import stored (see jobs.result_summary); null until finished.
    result = models.JSONField(null=True, blank=True)
    # Set by Cancel during the import: the worker checks it with each progress report and rolls everything back.
    cancel_requested = models.BooleanField(default=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta(BackgroundJob.Meta):
        indexes = [models.Index(fields=["-created_at"], name="importjob_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "queued",
                        "previewing",
                        "previewed",
                        "confirmed",
                        "importing",
                        "finished",
                        "failed",
                        "cancelled",
                    ]
                ),
                name="importjob_status_valid",
            ),
            models.CheckConstraint(condition=Q(size__gte=0, total__gte=0, processed__gte=0), name="importjob_counts"),
            models.CheckConstraint(
                condition=~Q(status__in=["finished", "failed", "cancelled"]) | Q(finished_at__isnull=False),
                name="importjob_done_has_time",
            ),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(error=""), name="importjob_failure_says_why"),
            models.CheckConstraint(
                condition=~Q(status__in=["previewed", "confirmed", "importing", "finished"]) | Q(preview__isnull=False),
                name="importjob_confirmed_was_previewed",
            ),
            models.CheckConstraint(
                condition=~Q(status="finished") | Q(result__isnull=False), name="importjob_finished_has_result"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def done(self) -> bool:
        """Nothing more will happen to this job."""
        return self.status in (self.Status.FINISHED, self.Status.FAILED, self.Status.CANCELLED)

    @property
    def working(self) -> bool:
        """The worker has this job, or will: the page polls."""
        return self.status in (self.Status.QUEUED, self.Status.PREVIEWING, self.Status.CONFIRMED, self.Status.IMPORTING)

    @property
    def confirmable(self) -> bool:
        return self.status == self.Status.PREVIEWED and bool(self.preview and self.preview.get("confirmable"))

    @property
    def cancellable(self) -> bool:
        return (self.status in (self.Status.QUEUED, self.Status.PREVIEWING, self.Status.CONFIRMED)) or (
            self.confirmable or (self.status == self.Status.IMPORTING and not self.cancel_requested)
        )


class ImportChunk(JobChunk):
    """A piece (about 1 MiB) of a job's uploaded file, in order."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
