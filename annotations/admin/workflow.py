"""The workflow in the curators' console: the site-wide settings, editors' slots (state filter, release action),
and an overview of work awaiting review, editors' throughput, reviewers' progress and stalled articles."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from annotations.admin.confirm import confirmation_page, confirmed
from annotations.curation.services import assignment_create
from annotations.models import Assignment
from annotations.permissions import Actor
from annotations.workflow.models import SETTINGS_PK, WorkflowSettings
from annotations.workflow.selectors import (
    awaiting_review,
    editor_throughput,
    holding,
    reviewer_progress,
    stalled_slots,
    workflow_settings,
)
from annotations.workflow.services import RELEASE, slot_release


def _staff(request: HttpRequest) -> Actor:
    """The admin lets in only logged-in staff: never the anonymous user."""
    return cast(Actor, request.user)


@admin.register(WorkflowSettings)
class WorkflowSettingsAdmin(admin.ModelAdmin):
    """One row: the list goes straight to it; it can be changed, never added twice or deleted."""

    fieldsets = [
        ("Assignment", {"fields": ["editors_per_article", "lease_minutes"]}),
        ("Editors", {"fields": ["blind_labelling"]}),
        ("Review", {"fields": ["anonymous_review", "merge_strategy", "majority_threshold"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WorkflowSettings | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        workflow_settings()  # the row exists from the migration; recreated if someone removed it in SQL
        return HttpResponseRedirect(reverse("admin:annotations_workflowsettings_change", args=[SETTINGS_PK]))


class SlotStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("holding", "Holding a slot"),
            ("stalled", "Stalled (spans, not done, lease run out)"),
            ("done", "Done"),
            ("released", "Released"),
            ("lapsed", "Lapsed (lease run out, no span)"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "holding":
                return queryset.filter(holding(now=now), done_at__isnull=True)
            case "stalled":
                return queryset.filter(pk__in=stalled_slots(now=now).values("pk"))
            case "done":
                return queryset.filter(done_at__isnull=False)
            case "released":
                return queryset.filter(released_at__isnull=False)
            case "lapsed":
                return queryset.exclude(holding(now=now)).filter(released_at__isnull=True)
        return queryset


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["article", "user"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.is_active or not user.has_perm("annotations.add_span"):
            raise forms.ValidationError(f"{user.get_username()} cannot annotate (not an active editor or reviewer).")
        return user


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Editors' slots: curators' explicit assignments and the claims editors made by opening articles."""

    form = AssignmentForm
    list_display = ["article", "user", "state", "explicit", "leased_until", "started_at", "done_at", "released_by"]
    list_filter = [
        SlotStateFilter,
        "explicit",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("done_at", admin.DateFieldListFilter),
        ("assigned_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["user", "assigned_by", "article", "released_by"]
    search_fields = ["article__title", "user__username"]
    autocomplete_fields = ["article", "user"]
    actions = ["release"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return super().get_queryset(request).defer("article__body", "article__metadata")

    def get_urls(self):
        overview = path(
            "overview/", self.admin_site.admin_view(self.overview_view), name="annotations_assignment_overview"
        )
        return [overview, *super().get_urls()]

    def has_change_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        # An assignment is a fact (this article, this editor); to change it, delete it and assign again.
        return False

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RELEASE)

    def save_model(self, request: HttpRequest, obj: Assignment, form: AssignmentForm, change: bool) -> None:
        assignment_create(article=obj.article, user=obj.user, assigned_by=_staff(request))
        obj.pk = Assignment.objects.get(article=obj.article, user=obj.user).pk

    @admin.display(description="State")
    def state(self, slot: Assignment) -> str:
        if slot.released_at is not None:
            return "released"
        if slot.done_at is not None:
            return "done"
        now = timezone.now()
        if slot.started_at is not None:
            return "stalled" if slot.leased_until is not None and slot.leased_until < now else "in progress"
        if slot.explicit or (slot.leased_until is not None and slot.leased_until > now):
            return "holding"
        return "lapsed"

    @admin.action(description="Release the selected editors' slots…", permissions=["release"])
    def release(self, request: HttpRequest, queryset: QuerySet[Assignment]):
        open_slots = queryset.filter(done_at__isnull=True, released_at__isnull=True)
        if not confirmed(request):
            return confirmation_page(
                self,
                request,
                open_slots.select_related("article", "user"),
                action="release",
                title="Release editors' slots",
                lines=[
                    "Each selected editor's slot is freed for another editor. Their spans stay in the database, "
                    "marked unfinished: they are left out of agreement and review. Slots already done are not "
                    "released. The history records who released what.",
                ],
                button="Release",
                danger=True,
            )
        released, refused = 0, []
        for slot in open_slots:
            try:
                slot_release(slot=slot, actor=_staff(request))
                released += 1
            except ValidationError as error:
                refused.append(" ".join(error.messages))
        self.message_user(request, f"Released {released} slot(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
        return None

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        """Work awaiting review, editors' throughput, reviewers' progress, stalled slots: for reviewers and curators."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        stalled = stalled_slots(now=now)
        waiting = awaiting_review()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Workflow overview",
            "waiting": waiting[:50],
            "waiting_count": waiting.count(),
            "throughput": editor_throughput(now=now),
            "reviewers": reviewer_progress(),
            "stalled": stalled[:50],
            "stalled_count": stalled.count(),
            "can_release": self.has_release_permission(request),
            "settings": workflow_settings(),
            "open_count": Assignment.objects.filter(holding(now=now), done_at__isnull=True).count(),
        }
        return TemplateResponse(request, "admin/annotations/assignment/overview.html", context)
