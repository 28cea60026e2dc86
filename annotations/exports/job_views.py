"""The export page's Download as a background job: start it, watch its progress, fetch its file."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotations import exports
from annotations.exports.forms import ExportForm
from annotations.exports.jobs import export_job_chunks, export_job_start
from annotations.exports.models import ExportJob
from annotations.exports.views import EXPORT_PERMISSION, export_form_page
from annotations.http import HtmxHttpRequest


def _own_job(request: HtmxHttpRequest, job_id: uuid.UUID) -> ExportJob:
    # Another user's job is as absent as one that never existed.
    return get_object_or_404(ExportJob, pk=job_id, owner=request.user)


@require_POST
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_job_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if not form.is_valid():
        return export_form_page(request, form, status=400)
    job = export_job_start(owner=request.user, form=form)
    return redirect("annotations:export-job", job_id=job.pk)


@require_GET
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request")
def export_job_detail(request: HtmxHttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = _own_job(request, job_id)
    template = "annotations/exportjob_detail.html"
    if request.htmx:
        template += "#job-status"
    return render(request, template, {"job": job})


@require_GET
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_job_file(request: HtmxHttpRequest, job_id: uuid.UUID) -> HttpResponseBase:
    job = _own_job(request, job_id)
    if job.status != ExportJob.Status.FINISHED:
        return HttpResponse(
            f"This export has no file: it is {job.get_status_display().lower()}.",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(export_job_chunks(job=job), content_type=exports.FORMATS[job.format].content_type)
    response["Content-Length"] = str(job.bytes)
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
