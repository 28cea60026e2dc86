"""The admin's imports as background jobs: store the upload, preview it in the worker, import it when confirmed.

The upload is stored in PostgreSQL (``ImportChunk`` rows of about 1 MiB), not on a web process's disk: any web
replica takes the confirmation and any worker runs it. The preview job reads the stored file with every error
by file and line (``read_upload_report``) and plans it without writing (``articles_plan``); the import job
reads it again with the ordinary readers and hands it to ``corpus_import``, all or nothing, exactly as
``manage.py import_articles`` would. The import's own transaction holds the worker's connection, so its progress
(and the check for Cancel) goes through a second connection that commits at once, as export jobs do.
Once a job can no longer be confirmed its stored file is deleted; jobs are deleted after
NEWSNOTES_IMPORT_RETENTION_HOURS.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pghistory
import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from annotations.imports.models import ImportChunk, ImportJob
from annotations.imports.records import AnnotatedRecord
from annotations.imports.registry import ANNOTATED
from annotations.imports.services import CorpusImportResult, corpus_import
from annotations.imports.span_files import PlacedSpans
from articles.importers import ImportFailure
from articles.importers.preview import read_upload_report
from articles.services import articles_plan

FILE_CHUNK_BYTES = 1024 * 1024
# The page polls every second; the worker reports at most this often (and with every batch the import stores).
PROGRESS_SECONDS = 0.5
# While the import runs, the worker says it is alive this often, progress or not (see STALLED_AFTER).
HEARTBEAT_SECONDS = 30
NEW_SAMPLE = 50
DUPLICATE_SAMPLE = 200
Status = ImportJob.Status


class ImportCancelled(Exception):
    """The curator pressed Cancel while the import ran; raised inside its transaction, which rolls back."""


@transaction.atomic
def import_job_start(*, owner, upload: UploadedFile) -> ImportJob:
    """Store an upload (already checked by ``ImportUploadForm``) and queue its preview (both or neither)."""
    job = ImportJob.objects.create(owner=owner, name=upload.name or "upload", size=upload.size or 0)
    ImportChunk.objects.bulk_create(
        (ImportChunk(job=job, seq=seq, data=data) for seq, data in enumerate(_pieces(upload))), batch_size=8
    )
    run_import_preview.enqueue(str(job.pk))
    return job


def _pieces(upload: UploadedFile) -> Iterator[bytes]:
    """The upload in FILE_CHUNK_BYTES pieces (an in-memory upload gives its ``chunks()`` in one piece)."""
    buffer = bytearray()
    for data in upload.chunks(FILE_CHUNK_BYTES):
        buffer += data
        while len(buffer) >= FILE_CHUNK_BYTES:
            yield bytes(buffer[:FILE_CHUNK_BYTES])
            del buffer[:FILE_CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


@transaction.atomic
def import_job_confirm(*, job: ImportJob) -> bool:
    """Queue the import of a previewed job that has work to do (both or neither); False when it is no longer
    confirmable (confirmed already, cancelled, expired)."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.PREVIEWED, preview__confirmable=True).update(
        status=Status.CONFIRMED, confirmed_at=timezone.now(), processed=0
    )
    if claimed:
        run_import.enqueue(str(job.pk))
    return bool(claimed)


@transaction.atomic
def import_job_cancel(*, job: ImportJob) -> bool:
    """Cancel a job the worker has not finished: before the import it ends at once and its file is deleted;
    during the import the worker is asked to roll it back. False when there is nothing left to cancel."""
    now = timezone.now()
    waiting = [Status.QUEUED, Status.PREVIEWING, Status.PREVIEWED, Status.CONFIRMED]
    if ImportJob.objects.filter(pk=job.pk, status__in=waiting).update(status=Status.CANCELLED, finished_at=now):
        ImportChunk.objects.filter(job_id=job.pk).delete()
        return True
    return bool(
        ImportJob.objects.filter(pk=job.pk, status=Status.IMPORTING, cancel_requested=False).update(
            cancel_requested=True
        )
    )


@transaction.atomic
def import_jobs_prune(*, now: dt.datetime | None = None) -> int:
    """Fail jobs the worker stopped showing progress on (it died), expire previews nobody confirmed within
    NEWSNOTES_IMPORT_RETENTION_HOURS, delete their stored files, and delete finished jobs older than that.
    Returns the number of rows deleted."""
    now = now or timezone.now()
    deleted = 0
    stalled = ImportJob.objects.stalled(now=now)
    deleted += ImportChunk.objects.filter(job__in=stalled).delete()[0]
    stalled.update(
        status=Status.FAILED,
        finished_at=now,
        error="The worker stopped during the job (no progress for 10 minutes). Nothing was stored; upload the "
        "file again.",
    )
    cutoff = now - dt.timedelta(hours=settings.NEWSNOTES_IMPORT_RETENTION_HOURS)
    expired = ImportJob.objects.filter(status=Status.PREVIEWED, created_at__lt=cutoff)
    deleted += ImportChunk.objects.filter(job__in=expired).delete()[0]
    expired.update(status=Status.CANCELLED, finished_at=now, error="Not confirmed in time; the upload was deleted.")
    # Whatever else still holds a file has ended (a failure the worker could not record, say): drop the file.
    deleted += ImportChunk.objects.filter(job__status__in=[Status.FINISHED, Status.FAILED, Status.CANCELLED]).delete()[
        0
    ]
    deleted += ImportJob.objects.filter(
        status__in=[Status.FINISHED, Status.FAILED, Status.CANCELLED], finished_at__lt=cutoff
    ).delete()[0]
    return deleted


@task()
def run_import_preview(job_id: str) -> None:
    """The worker's entry point for a preview: prune old jobs, then preview this one."""
    import_jobs_prune()
    import_job_preview(job_id=uuid.UUID(job_id))


@task()
def run_import(job_id: str) -> None:
    """The worker's entry point for a confirmed import."""
    import_jobs_prune()
    import_job_import(job_id=uuid.UUID(job_id))


def _upload(job: ImportJob) -> bytes:
    return b"".join(bytes(data) for data in job.chunks.order_by("seq").values_list("data", flat=True))


def _fail(job_id: uuid.UUID, message: str, *, statuses: list[str]) -> None:
    with transaction.atomic():
        ImportJob.objects.filter(pk=job_id, status__in=statuses).update(
            status=Status.FAILED, error=message[:4000], finished_at=timezone.now()
        )
        ImportChunk.objects.filter(job_id=job_id).delete()


def _stopped(failure: BaseException, doing: str) -> str:
    if isinstance(failure, SystemExit | KeyboardInterrupt):  # db_worker's second Ctrl-C, or SIGTERM
        return f"The worker was stopped during the {doing}; nothing was stored. Upload the file again."
    return f"The {doing} failed unexpectedly ({failure!r}); nothing was stored."


def import_job_preview(*, job_id: uuid.UUID) -> None:
    """Preview a queued job: counts, samples and every error by file and line, stored on the job. Writes no
    article. A preview with nothing to confirm (errors, or nothing new) deletes the stored file at once."""
    claimed = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.PREVIEWING, started_at=timezone.now(), progress_at=timezone.now()
    )
    if not claimed:
        return  # already run (a retried task) or cancelled
    job = ImportJob.objects.get(pk=job_id)
    try:
        report = read_upload_report(job.name, _upload(job), ANNOTATED, progress=_Reporter(job_id).records_read)
        summary = preview_summary(report)
        with transaction.atomic():
            updated = ImportJob.objects.filter(pk=job_id, status=Status.PREVIEWING).update(
                status=Status.PREVIEWED,
                preview=summary,
                total=summary["records"],
                processed=summary["records"],
                progress_at=timezone.now(),
            )
            if not updated or not summary["confirmable"]:
                ImportChunk.objects.filter(job_id=job_id).delete()
    except BaseException as failure:
        _fail(job_id, _stopped(failure, "preview"), statuses=[Status.PREVIEWING])
        raise


def preview_summary(report) -> dict:
    """What the preview page shows, as JSON: counts, the first new articles, duplicates and why, every error."""
    placed = [r for r in report.records if isinstance(r, PlacedSpans)]
    try:
        fresh, duplicates = articles_plan([r for r in report.records if not isinstance(r, PlacedSpans)])
    except ImportFailure as failure:  # a text the database cannot index
        report.add_failure(failure)
        fresh, duplicates = [], []
    layer_spans = sum(len(r.spans) for r in placed) + sum(
        len(r.spans) for r, _ in duplicates if isinstance(r, AnnotatedRecord)
    )
    return {
        "records": len(report.records),
        "new": len(fresh),
        "duplicates": len(duplicates),
        "layer_spans": layer_spans,
        "errors": [str(failure) for failure in report.failures],
        "more_errors": report.more_failures,
        "skipped": list(report.skipped),
        "new_sample": [{"title": r.title, "source": r.source or ""} for r, _ in fresh[:NEW_SAMPLE]],
        "duplicate_sample": [
            {"location": r.location, "title": r.title, "reason": reason} for r, reason in duplicates[:DUPLICATE_SAMPLE]
        ],
        # Span files and duplicates that carry spans add layers: work to confirm even when no article is new.
        "confirmable": bool((fresh or layer_spans) and not report.failures),
    }


def result_summary(result: CorpusImportResult) -> dict:
    return {
        "created": result.created_count,
        "duplicates": result.duplicate_count,
        "spans": result.span_count,
        "layered_spans": result.layered_span_count,
        "layered_articles": result.layered_article_count,
        "present_spans": result.present_span_count,
        "created_users": list(result.created_users),
    }


def import_job_import(*, job_id: uuid.UUID) -> None:
    """Import a confirmed job, all or nothing, under its owner's name; finished with what was stored, or failed
    with the reason (file:line for a problem in the file) and nothing stored, or cancelled and rolled back."""
    claimed = ImportJob.objects.filter(pk=job_id, status=Status.CONFIRMED).update(
        status=Status.IMPORTING, progress_at=timezone.now()
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    reporter = _Reporter(job_id)
    try:
        # Read again with the ordinary readers: the import is exactly what import_articles would do.
        records = list(ANNOTATED.read_upload(job.name, _upload(job)))
        # The worker has no request: the history names the curator who confirmed, as the page's middleware would.
        with reporter.side_connection(), pghistory.context(user=job.owner_id, import_job=str(job.pk)):
            reporter.check_cancel()
            result = corpus_import(
                records=records, default_annotator=job.owner.get_username(), progress=reporter.records_done
            )
    except ImportCancelled:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job_id).update(status=Status.CANCELLED, finished_at=timezone.now())
            ImportChunk.objects.filter(job_id=job_id).delete()
        return
    except (ImportFailure, ValidationError) as failure:
        text = "; ".join(failure.messages) if isinstance(failure, ValidationError) else str(failure)
        _fail(job_id, text, statuses=[Status.IMPORTING])
        raise
    except BaseException as failure:
        _fail(job_id, _stopped(failure, "import"), statuses=[Status.IMPORTING])
        raise
    with transaction.atomic():
        ImportJob.objects.filter(pk=job_id).update(
            status=Status.FINISHED,
            result=result_summary(result),
            processed=job.total,
            finished_at=timezone.now(),
            progress_at=timezone.now(),
        )
        ImportChunk.objects.filter(job_id=job_id).delete()


class _Reporter:
    """Progress from inside the worker: plain updates for the preview (no transaction is open), a second
    connection during the import, whose transaction would hide them until it commits."""

    def __init__(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self.done = 0
        self.reported = time.monotonic()
        self.db: psycopg.Connection | None = None

    def records_read(self, count: int) -> None:
        if time.monotonic() - self.reported >= PROGRESS_SECONDS:
            ImportJob.objects.filter(pk=self.job_id).update(processed=count, progress_at=timezone.now())
            self.reported = time.monotonic()

    @contextmanager
    def side_connection(self) -> Iterator[None]:
        """A second connection for progress, and a heartbeat on it: parts of ``corpus_import`` report no progress
        (spans, history), and a job that shows none for STALLED_AFTER is taken for one whose worker died."""
        connection.ensure_connection()
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as db:
            self.db = db
            stop = threading.Event()

            def beat() -> None:
                while not stop.wait(HEARTBEAT_SECONDS):
                    try:  # psycopg connections are thread-safe: one statement at a time
                        db.execute(
                            "UPDATE annotations_importjob SET progress_at = now() WHERE id = %s AND status = %s",
                            [self.job_id, Status.IMPORTING.value],
                        )
                    except psycopg.Error:
                        return  # the database went away; the import itself fails and says so

            heart = threading.Thread(target=beat, name=f"import-job-{self.job_id}", daemon=True)
            heart.start()
            try:
                yield
            finally:
                stop.set()
                heart.join()
                self.db = None

    def records_done(self, count: int) -> None:
        """``corpus_import``'s progress callback: once per stored batch."""
        self.done += count
        self.check_cancel()

    def check_cancel(self) -> None:
        assert self.db is not None
        row = self.db.execute(
            "UPDATE annotations_importjob SET processed = least(%s, total), progress_at = now() WHERE id = %s "
            "RETURNING cancel_requested",
            [self.done, self.job_id],
        ).fetchone()
        self.reported = time.monotonic()
        if row and row[0]:
            raise ImportCancelled
