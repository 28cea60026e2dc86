"""What export and import jobs share: a job the worker runs with progress a page polls, and its file in PostgreSQL.

``BackgroundJob`` is the abstract job: when it counts as stalled (its worker killed), its progress in percent, and
the query that finds the stalled ones for pruning; each job names the statuses in which its worker reports
progress and the field that counts what is done. ``JobChunk`` is the abstract piece of a job's file; each chunk
model adds its ``job`` foreign key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, ClassVar, Self

from django.db import models
from django.db.models import Q
from django.utils import timezone

# A job its worker holds but has shown no progress on for this long is taken for dead (page note, then failed).
STALLED_AFTER = dt.timedelta(minutes=10)


class BackgroundJobQuerySet[J: "BackgroundJob"](models.QuerySet[J]):
    def stalled(self, *, now: dt.datetime | None = None) -> Self:
        """Jobs in a working status without progress for STALLED_AFTER (``BackgroundJob.stalled``)."""
        now = now or timezone.now()
        return self.filter(status__in=self.model.WORKING_STATUSES, progress_at__lt=now - STALLED_AFTER)


class BackgroundJob(models.Model):
    """A job run by the task worker. Concrete jobs add ``status`` (with their ``Status`` choices), ``owner``,
    ``total`` and the count named by ``PROGRESS_FIELD``."""

    # Statuses in which the worker holds the job and writes ``progress_at`` as it goes.
    WORKING_STATUSES: ClassVar[tuple[str, ...]]
    # The field counting what is done so far, of ``total``.
    PROGRESS_FIELD: ClassVar[str]

    if TYPE_CHECKING:
        status: str
        total: int

    # Not guessable, although every view also checks the owner.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker's last sign of life on this job: a job left working by a killed worker shows up as stalled.
    progress_at = models.DateTimeField(null=True, blank=True)

    objects = BackgroundJobQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def stalled(self) -> bool:
        """Working, but no progress for STALLED_AFTER: the worker may have been killed."""
        return (
            self.status in self.WORKING_STATUSES
            and self.progress_at is not None
            and timezone.now() - self.progress_at > STALLED_AFTER
        )

    @property
    def percent(self) -> int:
        """Done so far of ``total``, 100 only once finished (the last rows are not the end of the job)."""
        if self.status == "finished":
            return 100
        done: int = getattr(self, self.PROGRESS_FIELD)
        return min(99, done * 100 // self.total) if self.total else 0


class JobChunk(models.Model):
    """A piece (about 1 MiB) of a job's file, in order."""

    if TYPE_CHECKING:
        job_id: uuid.UUID

    seq = models.IntegerField()
    data = models.BinaryField()

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="%(class)s_one_per_place"),
            models.CheckConstraint(condition=Q(seq__gte=0), name="%(class)s_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq}"
