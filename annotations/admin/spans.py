"""Spans across the corpus (filters, text search, bulk relabel); assignments are in ``workflow.py``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from annotations.admin.confirm import confirmation_page, confirmed
from annotations.curation.services import spans_relabel
from annotations.models import Label, Span
from annotations.spans.offsets import check_offsets
from annotations.spans.services import span_create, span_delete, span_update
from annotations.workflow.selectors import sees_every_editor


class SpanAdminForm(forms.ModelForm):
    """Offsets are checked against the article's text here, so a mistake is a form error, not a failed save."""

    class Meta:
        model = Span
        fields = ["article", "label", "start", "end", "annotator", "origin", "note"]

    def clean(self):
        cleaned = super().clean()
        article = cleaned.get("article") or (self.instance.article if self.instance.pk else None)
        label = cleaned.get("label")
        if label is not None and not label.active and "label" in self.changed_data:
            self.add_error("label", f"{label.name} is inactive and cannot be applied.")
        if article is None or "start" not in cleaned or "end" not in cleaned:
            return cleaned
        try:
            _, _, text = check_offsets(body=article.body, start=cleaned["start"], end=cleaned["end"])
        except ValidationError as err:
            raise forms.ValidationError(err.messages) from None
        annotator = cleaned.get("annotator") or (self.instance.annotator if self.instance.pk else None)
        if label is not None and annotator is not None:
            twin = Span.objects.filter(
                article=article, label=label, start=cleaned["start"], end=cleaned["end"], annotator=annotator
            ).exclude(pk=self.instance.pk)
            if twin.exists():
                raise forms.ValidationError(f"{annotator.get_username()} already has this {label.name} span.")
        self.text = text
        return cleaned


class RelabelForm(forms.Form):
    label = forms.ModelChoiceField(queryset=Label.objects.filter(active=True), label="New label")


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    form = SpanAdminForm
    list_display = ["excerpt", "label", "article_title", "annotator", "origin", "created_at"]
    list_filter = [
        "label",
        ("annotator", admin.RelatedOnlyFieldListFilter),
        "origin",
        ("article__source", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["text", "note"]
    search_help_text = "Words in the span's text or note."
    autocomplete_fields = ["article", "annotator"]
    list_per_page = 100
    actions = ["relabel"]
    readonly_fields = ["text", "created_at", "updated_at", "attributes"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Span]:
        spans = (
            super()
            .get_queryset(request)
            .select_related("label", "annotator", "article")
            .defer("article__body", "article__metadata")
        )
        # Blind labelling: a staff editor's list, change pages and links reach only their own spans.
        return spans if sees_every_editor(request.user) else spans.filter(annotator=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Span | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # A span stays on its article and with its editor; label, offsets and note may change.
            fields += ["article", "annotator", "origin"]
        return fields

    @admin.display(description="Text", ordering="text")
    def excerpt(self, span: Span) -> str:
        return span.text if len(span.text) <= 80 else span.text[:79] + "…"

    @admin.display(description="Article", ordering="article__title")
    def article_title(self, span: Span) -> str:
        return span.article.title

    def save_model(self, request: HttpRequest, obj: Span, form: SpanAdminForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            span_update(
                span=obj,
                actor=request.user,
                label=data["label"],
                start=data["start"],
                end=data["end"],
                note=data["note"],
            )
        else:
            created = span_create(
                article=data["article"],
                label=data["label"],
                start=data["start"],
                end=data["end"],
                annotator=data["annotator"],
                origin=data["origin"],
                note=data["note"],
            )
            obj.pk, obj.text = created.pk, created.text

    def delete_model(self, request: HttpRequest, obj: Span) -> None:
        span_delete(span=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Span]) -> None:
        for span in queryset:
            span_delete(span=span, actor=request.user)

    def has_relabel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["annotations.change_span", "annotations.review_span"])

    @admin.action(description="Relabel selected spans…", permissions=["relabel"])
    def relabel(self, request: HttpRequest, queryset: QuerySet[Span]):
        form = RelabelForm(request.POST if confirmed(request) else None)
        if not confirmed(request) or not form.is_valid():
            return confirmation_page(
                self, request, queryset, action="relabel", title="Relabel spans",
                lines=[
                    "The selected spans get the label you choose. Text and offsets stay; a span whose editor "
                    "already marked the same text with that label is left as it is. The history keeps the old label."
                ],
                button="Relabel", form=form,
            )  # fmt: skip
        result = spans_relabel(spans=queryset, label=form.cleaned_data["label"], actor=request.user)
        skipped = f"; {result.skipped} left alone (would duplicate a span)" if result.skipped else ""
        self.message_user(
            request,
            f"Relabelled {result.relabelled} span(s) as {form.cleaned_data['label'].name}{skipped}.",
            messages.SUCCESS,
        )
        return None
