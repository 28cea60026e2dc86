"""Export jobs: an HTTP export runs in the worker and its finished file waits in PostgreSQL (README: Exports)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# A running job whose worker has shown no progress for this long is taken for dead (page note, then failed).
STALLED_AFTER = dt.timedelta(minutes=10)


class ExportJob(models.Model):
    """One researcher's export, run by the task worker. The file lives in ``ExportChunk`` rows, so every web
    replica can serve it; ``bytes`` is the file's length and the download's Content-Length."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    # Not guessable, although every view also checks the owner.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    format = models.CharField(max_length=32)
    # The export form's fields as a query string: the worker validates them again when the job runs.
    parameters = models.TextField(blank=True)
    filename = models.CharField(max_length=200)
    total = models.BigIntegerField(default=0, help_text="Rows (spans or articles) counted when the job started.")
    rows = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker's last sign of life on this job: a job left running by a killed worker shows up as stalled.
    progress_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
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

    @property
    def stalled(self) -> bool:
        """Running, but no progress for STALLED_AFTER: the worker may have been killed."""
        return (
            self.status == self.Status.RUNNING
            and self.progress_at is not None
            and timezone.now() - self.progress_at > STALLED_AFTER
        )

    @property
    def percent(self) -> int:
        if self.status == self.Status.FINISHED:
            return 100
        return min(99, self.rows * 100 // self.total) if self.total else 0


class ExportChunk(models.Model):
    """A piece (about 1 MiB) of a job's file, in order."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.IntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="exportchunk_one_per_place"),
            models.CheckConstraint(condition=Q(seq__gte=0), name="exportchunk_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq}"
