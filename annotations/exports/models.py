"""Export jobs: an HTTP export runs in the worker and its finished file waits in PostgreSQL (README: Exports)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.background_jobs import STALLED_AFTER, BackgroundJob, JobChunk

__all__ = ["STALLED_AFTER", "ExportChunk", "ExportJob"]


class ExportJob(BackgroundJob):
    """One researcher's export, run by the task worker. The file lives in ``ExportChunk`` rows, so every web
    replica can serve it; ``bytes`` is the file's length and the download's Content-Length."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    WORKING_STATUSES = (Status.RUNNING,)
    PROGRESS_FIELD = "rows"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    format = models.CharField(max_length=32)
    # The export form's fields as a query string: the worker validates them again when the job runs.
    parameters = models.TextField(blank=True)
    filename = models.CharField(max_length=200)
    total = models.BigIntegerField(default=0, help_text="Rows (spans or articles) counted when the job started.")
    rows = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    class Meta(BackgroundJob.Meta):
        indexes = [models.Index(fields=["owner", "-created_at"], name="exportjob_owner_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "finished", "failed"]), name="exportjob_status_valid"
            ),
            models.CheckConstraint(condition=Q(rows__gte=0, bytes__gte=0, total__gte=0), name="exportjob_counts"),
            models.CheckConstraint(
                condition=~Q(status__in=["finished", "failed"]) | Q(finished_at__isnull=False),
                name="exportjob_done_has_time",
            ),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(error=""), name="exportjob_failure_says_why"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED)


class ExportChunk(JobChunk):
    """A piece (about 1 MiB) of an export's file, in order."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="chunks")
