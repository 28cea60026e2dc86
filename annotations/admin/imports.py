"""The "Import articles" admin page: upload, preview, confirm. Mixed into the article admin.

The preview reads the upload with ``articles.importers.preview`` and the annotated readers (every error, by
file and line) and plans it with ``articles_plan`` (new or duplicate, and why) without writing anything. Confirm
reads the stored upload again with the same readers and hands it to ``corpus_import``, all or nothing, exactly as
``manage.py import_articles`` would.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST

from annotations.imports.records import AnnotatedRecord
from annotations.imports.registry import ANNOTATED
from annotations.imports.services import corpus_import
from annotations.imports.span_files import PlacedSpans
from annotations.presentation import counted
from articles.forms import ImportConfirmForm, ImportUploadForm
from articles.importers import ImportFailure
from articles.importers.preview import read_upload_report
from articles.services import articles_plan, upload_discard, upload_load, upload_store

IMPORT_SESSION_KEY = "newsnotes_admin_import"


class ImportPageMixin:
    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="articles_article_import"),
            path(
                "import/confirm/",
                self.admin_site.admin_view(self.import_confirm_view),
                name="articles_article_import_confirm",
            ),
            *super().get_urls(),
        ]

    def _import_page(self, request: HttpRequest, **context) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import articles",
            "max_bytes": settings.NEWSNOTES_MAX_IMPORT_BYTES,
            **context,
        }
        return TemplateResponse(request, "admin/articles/article/import.html", context)

    @method_decorator(require_http_methods(["GET", "POST"]))
    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload, then a preview: how many articles are new, which are duplicates, every error by file and line."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method != "POST" or not form.is_valid():
            return self._import_page(request, form=form)
        upload = form.cleaned_data["upload"]
        data = upload.read()
        report = read_upload_report(upload.name, data, ANNOTATED)
        # Span files (span CSV, W3C) place spans on stored articles; duplicates that carry spans add them as
        # layers: both are work to confirm even when no article is new.
        placed = [r for r in report.records if isinstance(r, PlacedSpans)]
        try:
            fresh, duplicates = articles_plan([r for r in report.records if not isinstance(r, PlacedSpans)])
        except ImportFailure as failure:  # a text the database cannot index
            report.add_failure(failure)
            fresh, duplicates = [], []
        layer_spans = sum(len(r.spans) for r in placed) + sum(
            len(r.spans) for r, _ in duplicates if isinstance(r, AnnotatedRecord)
        )
        previous = request.session.pop(IMPORT_SESSION_KEY, None)
        if previous:
            upload_discard(token=previous["token"])
        confirm = None
        if (fresh or layer_spans) and not report.failures:
            token = upload_store(data=data)
            request.session[IMPORT_SESSION_KEY] = {"token": token, "name": upload.name}
            confirm = ImportConfirmForm(initial={"token": token})
        return self._import_page(
            request,
            form=ImportUploadForm(),
            name=upload.name,
            report=report,
            fresh=fresh,
            duplicates=duplicates,
            layer_spans=layer_spans,
            confirm=confirm,
        )

    @method_decorator(require_POST)
    def import_confirm_view(self, request: HttpRequest) -> HttpResponse:
        """Import the previewed upload, all or nothing, or drop it (``cancel``)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportConfirmForm(request.POST)
        pending = request.session.get(IMPORT_SESSION_KEY)
        here = reverse("admin:articles_article_import")
        if not form.is_valid() or not pending or pending["token"] != form.cleaned_data["token"]:
            self.message_user(request, "This import is unknown or has expired; upload the file again.", messages.ERROR)
            return redirect(here)
        del request.session[IMPORT_SESSION_KEY]
        token = pending["token"]
        try:
            if "cancel" in request.POST:
                self.message_user(request, "Import cancelled; nothing was stored.", messages.INFO)
                return redirect(here)
            # Read again with the ordinary readers: the import is exactly what import_articles would do.
            records = list(ANNOTATED.read_upload(pending["name"], upload_load(token=token)))
            result = corpus_import(records=records, default_annotator=request.user.get_username())
        except (ImportFailure, ValidationError) as err:
            text = "; ".join(err.messages) if isinstance(err, ValidationError) else str(err)
            self.message_user(request, f"Nothing was imported: {text}", messages.ERROR)
            return redirect(here)
        finally:
            upload_discard(token=token)
        spans = f" with {result.span_count} span(s)" if result.span_count else ""
        layers = (
            f" {result.layered_span_count} span(s) went onto {counted(result.layered_article_count, 'article')}"
            " already in the corpus."
            if result.layered_span_count
            else ""
        )
        present = f" {result.present_span_count} span(s) were already present." if result.present_span_count else ""
        self.message_user(
            request,
            f"Imported {counted(result.created_count, 'article')}{spans} from {pending['name']}; "
            f"skipped {result.duplicate_count} duplicate(s).{layers}{present}",
            messages.SUCCESS,
        )
        return redirect("admin:articles_article_changelist")
