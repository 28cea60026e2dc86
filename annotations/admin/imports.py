"""The "Import articles" admin pages: upload, then a job page that shows the worker's preview, Confirm, progress
and the result. Mixed into the article admin; the work itself is ``annotations.imports.jobs``.

Every upload runs as a job, small or large: one path to test and to reason about, no web process holding a
file between requests, and no request that a slow import can time out. The page polls its status region with
htmx while the worker has the job.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from annotations.imports.jobs import import_job_cancel, import_job_confirm, import_job_start
from annotations.imports.models import ImportJob
from articles.forms import ImportUploadForm

RECENT_JOBS = 20


class ImportPageMixin:
    def get_urls(self):
        def view(method, route: str, name: str):
            return path(route, self.admin_site.admin_view(method), name=f"articles_article_{name}")

        return [
            view(self.import_view, "import/", "import"),
            view(self.import_job_view, "import/<uuid:job_id>/", "import_job"),
            view(self.import_job_confirm_view, "import/<uuid:job_id>/confirm/", "import_confirm"),
            view(self.import_job_cancel_view, "import/<uuid:job_id>/cancel/", "import_cancel"),
            *super().get_urls(),
        ]

    def _check_import_permission(self, request: HttpRequest) -> None:
        # Curators (and superusers) hold add_article; the admin site has already refused non-staff users.
        if not self.has_add_permission(request):
            raise PermissionDenied

    def _context(self, request: HttpRequest, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "retention_hours": settings.NEWSNOTES_IMPORT_RETENTION_HOURS,
            **context,
        }

    @method_decorator(require_http_methods(["GET", "POST"]))
    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file: it is stored and previewed by the worker; below, the recent imports of every curator."""
        self._check_import_permission(request)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = import_job_start(owner=request.user, upload=form.cleaned_data["upload"])
            return redirect("admin:articles_article_import_job", job_id=job.pk)
        jobs = ImportJob.objects.select_related("owner").defer("preview", "result")[:RECENT_JOBS]
        context = self._context(
            request, title="Import articles", form=form, jobs=jobs, max_bytes=settings.NEWSNOTES_MAX_IMPORT_BYTES
        )
        return TemplateResponse(request, "admin/articles/article/import.html", context)

    @method_decorator(require_GET)
    @method_decorator(vary_on_headers("HX-Request"))
    def import_job_view(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        """A job's state: waiting, the preview with Confirm, the import's progress, the result or the failure.
        Other curators see it read-only; with ``HX-Request`` only the status region (the page polls it)."""
        self._check_import_permission(request)
        job = get_object_or_404(ImportJob.objects.select_related("owner"), pk=job_id)
        template = "admin/articles/article/import_job.html"
        if getattr(request, "htmx", False):
            template += "#job-status"
        context = self._context(request, title=f"Import of {job.name}", job=job, mine=job.owner_id == request.user.pk)
        return TemplateResponse(request, template, context)

    def _own_job(self, request: HttpRequest, job_id: uuid.UUID) -> ImportJob:
        self._check_import_permission(request)
        job = get_object_or_404(ImportJob, pk=job_id)
        if job.owner_id != request.user.pk:
            raise PermissionDenied  # another curator's job: theirs to confirm or cancel
        return job

    @method_decorator(require_POST)
    def import_job_confirm_view(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        """Queue the previewed import (all or nothing, in the worker)."""
        job = self._own_job(request, job_id)
        if not import_job_confirm(job=job):
            self.message_user(request, "This import can no longer be confirmed.", messages.ERROR)
        return redirect("admin:articles_article_import_job", job_id=job.pk)

    @method_decorator(require_POST)
    def import_job_cancel_view(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        """Drop the upload before the import, or roll a running import back."""
        job = self._own_job(request, job_id)
        if not import_job_cancel(job=job):
            self.message_user(request, "This import has already ended; there is nothing to cancel.", messages.ERROR)
        return redirect("admin:articles_article_import_job", job_id=job.pk)
