"""Forms of the corpus admin: the article form and the upload of the "Import articles" page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.forms.fields import InvalidJSONInput
from django.template.defaultfilters import filesizeformat

from articles.importers import JSONRefused, normalise_newlines, parse_json
from articles.importers.registry import READERS
from articles.models import Article
from articles.services import article_duplicate_reason, article_text_problem
from articles.validation import json_value_problem, language_tag


class MetadataField(forms.JSONField):
    """A JSON object, refused exactly as the importers refuse it: no NaN, no NUL, no deep nesting, no list."""

    def to_python(self, value):
        if self.disabled or value in self.empty_values:
            return super().to_python(value)
        try:
            converted = parse_json(value)
        except json.JSONDecodeError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None
        except JSONRefused as err:
            raise forms.ValidationError(f"The metadata {err}.", code="invalid") from None
        if not isinstance(converted, dict):
            raise forms.ValidationError("The metadata must be a JSON object ({...}), as in an import.", code="invalid")
        problem = json_value_problem(converted)
        if problem:
            raise forms.ValidationError(f"The metadata {problem}.", code="invalid")
        return converted

    def bound_data(self, data, initial):
        # Django re-reads the submitted text to show it again; text that failed must come back as typed.
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return parse_json(data)
        except (json.JSONDecodeError, JSONRefused):
            return InvalidJSONInput(data)


class ArticleAdminForm(forms.ModelForm):
    metadata = MetadataField(required=False, initial=dict, help_text="A JSON object.")

    class Meta:
        model = Article
        fields = ["title", "source", "url", "byline", "published_at", "language", "status", "body", "metadata"]

    def clean_body(self) -> str:
        body = normalise_newlines(self.cleaned_data["body"])
        limit = settings.NEWSNOTES_MAX_ARTICLE_CHARS
        if len(body) > limit:
            raise forms.ValidationError(f"The text is {len(body):,} characters; at most {limit:,} are allowed.")
        return body

    def clean_language(self) -> str:
        value = self.cleaned_data["language"].strip()
        # en_US and EN-us are common spellings of a valid tag: store the canonical one.
        return (language_tag(value) or value) if value else ""

    def clean_metadata(self) -> dict:
        return self.cleaned_data["metadata"] or {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # A body field is absent from the form when it is read-only (spans point into it).
        body = cleaned.get("body", self.instance.body if self.instance.pk else None)
        if body is not None and ("body" in self.changed_data or "url" in self.changed_data or not self.instance.pk):
            reason = article_duplicate_reason(body=body, url=cleaned.get("url"), exclude_pk=self.instance.pk)
            if reason:
                raise forms.ValidationError(reason)
        if body is not None and ("body" in self.changed_data or "title" in self.changed_data):
            problem = article_text_problem(title=cleaned.get("title") or "", body=body)
            if problem:
                self.add_error("body", f"The {problem.removeprefix('the ')}.")
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
