"""The label vocabulary: colour picker, checked hotkeys, ordering, merging, and no deleting a label in use."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from annotations.admin.confirm import confirmation_page, confirmed
from annotations.curation.services import label_deactivate, label_merge
from annotations.models import RESERVED_COMMAND_KEYS, Label

# Keys the workspace and the review page use for commands.
WORKSPACE_KEYS = RESERVED_COMMAND_KEYS


class LabelAdminForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["name", "slug", "kind", "color", "hotkey", "description", "ordering", "active"]
        widgets = {"color": forms.ColorInput}

    def clean_hotkey(self) -> str:
        key = self.cleaned_data.get("hotkey", "")
        if not key:
            return key
        if len(key) != 1 or not key.isprintable() or key.isspace():
            raise ValidationError("A hotkey is one visible character, such as 1 or p.")
        if key.lower() in WORKSPACE_KEYS:
            reserved = ", ".join(sorted(WORKSPACE_KEYS))
            raise ValidationError(
                f"“{key}” is a command key of the workspace or the review page ({reserved}); choose another."
            )
        # Case is ignored: with Shift or Caps Lock, editors press “P” meaning “p”.
        taken = Label.objects.filter(hotkey__iexact=key).exclude(pk=self.instance.pk).first()
        if taken:
            raise ValidationError(f"“{key}” is already the hotkey of {taken.name}.")
        return key

    def clean_color(self) -> str:
        return self.cleaned_data["color"].lower()


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Label.objects.filter(active=True),
        label="Merge into",
        help_text="Every span of the selected labels gets this label; the selected labels are then deleted.",
    )


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    form = LabelAdminForm
    list_display = ["name", "swatch", "slug", "kind", "hotkey", "ordering", "active", "span_count"]
    list_display_links = ["name"]
    list_editable = ["ordering", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["merge", "delete_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Label]:
        return super().get_queryset(request).annotate(span_count=Count("spans"))

    @admin.display(description="Colour")
    def swatch(self, label: Label) -> str:
        return format_html('<span class="swatch label-{}"></span>{}', label.slug, label.color)

    @admin.display(description="Spans", ordering="span_count")
    def span_count(self, label: Label) -> int:
        return label.span_count

    @property
    def media(self):
        return super().media + forms.Media(css={"all": [reverse("annotations:labels-css"), "css/admin_curation.css"]})

    # --- deleting: only unused labels; used ones are deactivated instead (Span.label is PROTECT) -----------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/deactivate/",
                self.admin_site.admin_view(self.deactivate_view),
                name="annotations_label_deactivate",
            ),
            *super().get_urls(),
        ]

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        label = self.get_object(request, object_id)
        if label is not None and label.span_count:
            if not self.has_delete_permission(request, label):
                raise PermissionDenied
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"{label.name} is in use",
                "label": label,
                "can_deactivate": self.has_change_permission(request, label),
            }
            return TemplateResponse(request, "admin/annotations/label/delete_refused.html", context)
        return super().delete_view(request, object_id, extra_context)

    @method_decorator(require_POST)
    def deactivate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        label = get_object_or_404(Label, pk=object_id)
        if not self.has_change_permission(request, label):
            raise PermissionDenied
        label_deactivate(label=label, actor=request.user)
        self.message_user(
            request, f"{label.name} is inactive: its spans stay, and editors can no longer apply it.", messages.SUCCESS
        )
        return redirect("admin:annotations_label_changelist")

    @admin.action(description="Delete selected labels (unused ones only)", permissions=["delete"])
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[Label]):
        used = [label for label in queryset if label.span_count]
        if used:
            names = ", ".join(f"{label.name} ({label.span_count} spans)" for label in used)
            self.message_user(
                request,
                f"Nothing was deleted: {names} still label spans. Deactivate a label to retire it "
                "(its spans stay), or merge it into another label.",
                messages.ERROR,
            )
            return None
        return admin_actions.delete_selected(self, request, queryset)

    # --- merging ----------------------------------------------------------------------------------------

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(
            ["annotations.change_label", "annotations.delete_label", "annotations.change_span"]
        )

    @admin.action(description="Merge selected labels into…", permissions=["merge"])
    def merge(self, request: HttpRequest, queryset: QuerySet[Label]):
        form = MergeForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid() and form.cleaned_data["target"] in queryset:
            form.add_error("target", "Choose a label that is not one of those being merged.")
        if not confirmed(request) or not form.is_valid():
            total = sum(label.span_count for label in queryset)
            return confirmation_page(
                self, request, queryset, action="merge", title="Merge labels",
                lines=[
                    f"The {total} span(s) of the selected labels get the label you choose below, and the selected "
                    "labels are deleted. A span whose editor already marked the same text with that label is "
                    "dropped instead of doubled. Every change is kept in the span history."
                ],
                button="Merge", form=form,
            )  # fmt: skip
        target = form.cleaned_data["target"]
        moved = dropped = 0
        for label in queryset:
            result = label_merge(source=label, target=target, actor=request.user)
            moved, dropped = moved + result.moved, dropped + result.dropped
        self.message_user(
            request,
            f"Merged into {target.name}: {moved} span(s) relabelled, {dropped} duplicate(s) dropped.",
            messages.SUCCESS,
        )
        return None
