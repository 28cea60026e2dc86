"""The export page: filters, a live count of what will be exported, and a streamed download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from annotations import exports
from annotations.exports.forms import ExportForm
from annotations.http import HtmxHttpRequest
from newsnotes.routers import on_replica

EXPORT_PERMISSION = "annotations.export_spans"


def export_form_page(request: HtmxHttpRequest, form: ExportForm, *, status: int = 200) -> HttpResponse:
    """The export page for ``form``: what the export holds when the form is valid, its errors when not; for htmx,
    only that count region. Every export view answers an invalid form with it (400 where the form was to run)."""
    preview = None
    if form.is_bound and form.is_valid():
        fmt = exports.FORMATS[form.cleaned_data["format"]]
        filters = exports.resolve_layer(fmt.key, form.filters())
        spans = exports.spans_for_export(filters)
        preview = {
            "format": fmt,
            "layer": filters.layer,
            "spans": exports.count("csv", filters),
            # Span formats hold the articles their spans point into; article formats hold every matching article.
            "articles": spans.values("article").distinct().count()
            if fmt.unit == "span"
            else exports.articles_for_export(filters).count(),
            "filename": fmt.filename(timezone.now().date(), filters.layer),
        }
    template = "annotations/export.html"
    if request.htmx:
        template += "#export-preview"
    response = render(request, template, {"form": form, "preview": preview}, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request")
def export_page(request: HtmxHttpRequest) -> HttpResponse:
    return export_form_page(request, ExportForm(request.GET or None))


@require_GET
@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_download(request: HtmxHttpRequest) -> HttpResponse:
    form = ExportForm(request.GET)
    if not form.is_valid():
        return export_form_page(request, form, status=400)
    fmt = exports.FORMATS[form.cleaned_data["format"]]
    filters = exports.resolve_layer(fmt.key, form.filters())
    chunks = on_replica(exports.export(fmt.key, filters, form.options()))  # read replica, when there is one
    response = StreamingHttpResponse(chunks, content_type=fmt.content_type)
    response["Content-Disposition"] = f'attachment; filename="{fmt.filename(timezone.now().date(), filters.layer)}"'
    response["Cache-Control"] = "private, no-store"
    # A proxy that buffers (nginx by default) would hold the whole file before sending a byte.
    response["X-Accel-Buffering"] = "no"
    return response
