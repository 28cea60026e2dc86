"""Exports as background jobs: start one, run it in the worker, stream its finished file (README: Exports).

The worker writes the file into PostgreSQL (``ExportChunk`` rows of about 1 MiB) rather than a shared directory:
the database is the one thing every web replica already shares, so no volume has to be mounted into each, and
a replica that never saw the job serves the file. Writes go through a second connection of the job's own,
because the export itself holds the worker's connection (a read-only snapshot, or a COPY in flight).
A job ends finished only when the stored bytes add up to what was written; otherwise it ends failed, says why,
and keeps no file.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.http import QueryDict
from django.tasks import task
from django.utils import timezone

from annotations import exports
from annotations.exports.models import ExportChunk, ExportJob
from newsnotes.routers import on_replica

FILE_CHUNK_BYTES = 1024 * 1024
# Progress is written with each stored chunk and at least this often (the page polls every second).
PROGRESS_SECONDS = 0.5
_STATUS_SQL = "UPDATE annotations_exportjob SET rows = %s, bytes = %s, progress_at = now() WHERE id = %s"


class ExportJobFailed(Exception):
    """The job cannot produce its file; the message is shown to the researcher."""


@transaction.atomic
def export_job_start(*, owner, form) -> ExportJob:
    """Record a queued job for a valid ``ExportForm`` and enqueue it for the worker (both or neither)."""
    fmt = exports.FORMATS[form.cleaned_data["format"]]
    filters = exports.resolve_layer(fmt.key, form.filters())
    data = form.data.copy()
    data.pop("csrfmiddlewaretoken", None)
    job = ExportJob.objects.create(
        owner=owner,
        format=fmt.key,
        parameters=data.urlencode(),
        filename=fmt.filename(timezone.now().date(), filters.layer),
        total=exports.count(fmt.key, filters),
    )
    run_export_job.enqueue(str(job.pk))
    return job


@transaction.atomic
def export_jobs_prune(*, now: dt.datetime | None = None) -> int:
    """Fail running jobs without progress for STALLED_AFTER (their worker died) and drop their chunks; delete
    finished and failed jobs (and their files) older than NEWSNOTES_EXPORT_RETENTION_HOURS. Returns rows deleted."""
    now = now or timezone.now()
    stalled = ExportJob.objects.stalled(now=now)
    ExportChunk.objects.filter(job__in=stalled).delete()
    stalled.update(
        status=ExportJob.Status.FAILED,
        finished_at=now,
        bytes=0,
        error="The worker stopped during the export (no progress for 10 minutes); start the export again.",
    )
    cutoff = now - dt.timedelta(hours=settings.NEWSNOTES_EXPORT_RETENTION_HOURS)
    deleted, _ = ExportJob.objects.filter(
        status__in=[ExportJob.Status.FINISHED, ExportJob.Status.FAILED], finished_at__lt=cutoff
    ).delete()
    return deleted


@task()
def run_export_job(job_id: str) -> None:
    """The worker's entry point (django.tasks): prune expired files, then run the job."""
    export_jobs_prune()
    export_job_run(job_id=uuid.UUID(job_id))


def _writer() -> psycopg.Connection:
    connection.ensure_connection()
    params = connection.get_connection_params()
    return psycopg.connect(**params, autocommit=True)


def _field_name(form, name: str) -> str:
    if name not in form.fields:
        return "Filters"
    return str(form.fields[name].label or name.replace("_", " ").capitalize())


def export_job_run(*, job_id: uuid.UUID) -> None:
    """Run a queued job: write its file chunk by chunk with progress, then mark it finished, or failed with the
    reason and no file. Re-raises the failure so the task's own result records it too."""
    from annotations.exports.forms import ExportForm  # the form imports this package's formats

    job = ExportJob.objects.get(pk=job_id)
    with _writer() as db:
        claimed = db.execute(
            "UPDATE annotations_exportjob SET status = 'running', started_at = now(), progress_at = now() "
            "WHERE id = %s AND status = 'queued'",
            [job.pk],
        ).rowcount
        if not claimed:
            return  # already run (a retried task): never write a second file
        try:
            form = ExportForm(QueryDict(job.parameters))
            if not form.is_valid():
                problems = "; ".join(
                    f"{_field_name(form, name)}: {' '.join(str(error) for error in errors)}"
                    for name, errors in form.errors.items()
                )
                raise ExportJobFailed(f"The export's filters are no longer valid ({problems}).")
            fmt = exports.FORMATS[form.cleaned_data["format"]]
            filters = exports.resolve_layer(fmt.key, form.filters())
            rows = written = seq = 0
            buffer = bytearray()

            def on_rows(n: int) -> None:
                nonlocal rows
                rows += n

            def store(data: bytes) -> None:
                nonlocal seq, written
                db.execute(
                    "INSERT INTO annotations_exportchunk (job_id, seq, data) VALUES (%s, %s, %s)", [job.pk, seq, data]
                )
                seq += 1
                written += len(data)
                db.execute(_STATUS_SQL, [rows, written, job.pk])

            reported = time.monotonic()
            # The export's reads go to the read replica when there is one; the file's chunks are written by `db`.
            for piece in on_replica(exports.export(fmt.key, filters, form.options(), on_rows=on_rows)):
                buffer += piece
                if time.monotonic() - reported >= PROGRESS_SECONDS:
                    db.execute(_STATUS_SQL, [rows, written + len(buffer), job.pk])
                    reported = time.monotonic()
                while len(buffer) >= FILE_CHUNK_BYTES:
                    store(bytes(buffer[:FILE_CHUNK_BYTES]))
                    del buffer[:FILE_CHUNK_BYTES]
            if buffer or seq == 0:
                store(bytes(buffer))
            with db.transaction():
                stored = db.execute(
                    "SELECT coalesce(sum(octet_length(data)), 0) FROM annotations_exportchunk WHERE job_id = %s",
                    [job.pk],
                ).fetchone()
                if stored is None or stored[0] != written:
                    raise ExportJobFailed(f"The stored file has {stored and stored[0]} bytes of {written} written.")
                db.execute(
                    "UPDATE annotations_exportjob SET status = 'finished', rows = %s, bytes = %s, finished_at = now() "
                    "WHERE id = %s",
                    [rows, written, job.pk],
                )
        except BaseException as failure:
            if isinstance(failure, ExportJobFailed):
                message = str(failure)
            elif isinstance(failure, SystemExit | KeyboardInterrupt):  # db_worker's second Ctrl-C or SIGTERM
                message = "The worker was stopped during the export; start the export again."
            else:
                message = f"The export failed: {failure!r}"
            with db.transaction():
                db.execute("DELETE FROM annotations_exportchunk WHERE job_id = %s", [job.pk])
                db.execute(
                    "UPDATE annotations_exportjob SET status = 'failed', error = %s, bytes = 0, finished_at = now() "
                    "WHERE id = %s",
                    [message[:2000], job.pk],
                )
            raise


def export_job_chunks(*, job: ExportJob) -> Iterator[bytes]:
    """The finished file's bytes in order, one stored chunk in memory at a time."""
    ids = list(ExportChunk.objects.filter(job=job).order_by("seq").values_list("pk", flat=True))
    for pk in ids:
        data = ExportChunk.objects.filter(pk=pk).values_list("data", flat=True).get()
        yield bytes(data)
