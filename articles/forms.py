"""Forms of the corpus admin: the article form and the upload of the "Import articles" page."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from articles.importers import normalise_newlines
from articles.importers.registry import READERS
from articles.models import Article
from articles.services import article_duplicate_reason


class ArticleAdminForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "source", "url", "byline", "published_at", "language", "status", "body", "metadata"]

    def clean_body(self) -> str:
        return normalise_newlines(self.cleaned_data["body"])

    def clean(self):
        cleaned = super().clean()
        # A body field is absent from the form when it is read-only (spans point into it).
        body = cleaned.get("body", self.instance.body if self.instance.pk else None)
        if body is not None and ("body" in self.changed_data or "url" in self.changed_data or not self.instance.pk):
            reason = article_duplicate_reason(body=body, url=cleaned.get("url"), exclude_pk=self.instance.pk)
            if reason:
                raise forms.ValidationError(reason)
        return cleaned


IMPORT_SUFFIXES = sorted(s for s in READERS if s != ".ndjson")


class ImportUploadForm(forms.Form):
    upload = forms.FileField(
        label="File",
        help_text=(
            f"{', '.join(IMPORT_SUFFIXES)} — or a .zip of such files. JSONL and CSV carry title, body, url, source, "
            "byline, published_at, language and metadata; a .txt file is the title line and then the body; "
            "an .html page is reduced to its article text."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_SUFFIXES)}),
    )

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        limit = settings.NEWSNOTES_MAX_IMPORT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; uploads are limited to {filesizeformat(limit)}. "
                "Split it into smaller files, or import it on the server with manage.py import_articles."
            )
        suffix = Path(upload.name).suffix.lower()
        if suffix not in READERS:
            raise forms.ValidationError(
                f"{upload.name} is not a file type the import reads; use one of {', '.join(IMPORT_SUFFIXES)}."
            )
        return upload


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
