"""Run background jobs in a test with the real worker (django-tasks-db's ``Worker``, as ``db_worker --batch``).

Tests that use it are transactional (``django_db(transaction=True, serialized_rollback=True)``): the worker
checks its connection between tasks (``close_old_connections``), which a test wrapped in one transaction cannot
survive, and jobs write their progress over a second connection, as in production.
"""

import contextlib

from newsnotes.management.commands.db_worker import Worker


def worker(*, interval: float = 0, batch: bool = True, worker_id: str = "tests") -> Worker:
    """The worker `manage.py db_worker` runs (ours: django-tasks-db's with a SIGTERM fix), on the default queue."""
    return Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def run_worker() -> None:
    """What `manage.py db_worker --batch` does: run every queued task, then return."""
    worker().run()


def admin_preview(client, name: str, data: bytes):
    """Upload on the admin's import page and preview it in this process: the function the worker's task calls,
    on the test's own connection, so tests that are not transactional can use it."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from annotations.imports.jobs import import_job_preview
    from annotations.imports.models import ImportJob

    response = client.post(reverse("admin:articles_article_import"), {"upload": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:500]
    job = ImportJob.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    import_job_preview(job_id=job.pk)
    job.refresh_from_db()
    return job


def admin_confirm(client, job):
    """Confirm on the job page and run the import in this process (see ``admin_preview``); the job afterwards."""
    from django.core.exceptions import ValidationError
    from django.urls import reverse

    from annotations.imports.jobs import import_job_import
    from articles.importers import ImportFailure

    response = client.post(reverse("admin:articles_article_import_confirm", args=[job.pk]))
    assert response.status_code == 302
    # A failed import re-raises (the task's result records it too); the job says why.
    with contextlib.suppress(ImportFailure, ValidationError):
        import_job_import(job_id=job.pk)
    job.refresh_from_db()
    return job


def run_queued(task) -> int:
    """Run ``task``'s queued jobs in this process, on the test's own connection (tests that are not
    transactional), oldest first, as the worker would; how many ran."""
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.ready().filter(task_path=task.module_path).order_by("enqueued_at")
    ran = 0
    for job in queued:
        task.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
        job.delete()
        ran += 1
    return ran
