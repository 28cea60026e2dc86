"""Accounts as curators see them: they add, deactivate and reset the passwords of editors, reviewers and
researchers; superusers and other curators stay read-only to them (rules in annotations/curation/users.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import format_html

from annotations.curation.users import MANAGED_ROLES, user_create, user_is_manageable, user_update


class CuratorUserCreationForm(AdminUserCreationForm):
    usable_password = None  # type: ignore[assignment]  # a desk account always gets a password the curator hands over

    class Meta(AdminUserCreationForm.Meta):
        fields = ("username", "email")

    roles = forms.ModelMultipleChoiceField(
        queryset=Group.objects.filter(name__in=MANAGED_ROLES).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="Curators give the roles Editors, Reviewers and Researchers.",
    )


class CuratorUserChangeForm(forms.ModelForm):
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.filter(name__in=MANAGED_ROLES).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Roles",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "is_active", "groups"]


admin.site.unregister(User)


@admin.register(User)
class DeskUserAdmin(UserAdmin):
    list_display = ["username", "email", "roles", "is_active", "last_login"]
    list_filter = ["is_active", "groups", "is_superuser"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        names = [group.name for group in obj.groups.all()]
        if obj.is_superuser:
            names.insert(0, "Superuser")
        return ", ".join(names) or "—"

    @admin.display(description="Password")
    def password_reset(self, obj: User) -> str:
        """A link to set a new password, never the stored hash; only for accounts the curator manages."""
        if obj.pk is None:
            return "—"
        url = reverse("admin:auth_user_password_change", args=[obj.pk])
        return format_html('<a href="{}" class="nn-password-reset">Set a new password</a>', url)

    def _curating(self, request) -> bool:
        return not request.user.is_superuser

    def has_change_permission(self, request, obj: User | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or not self._curating(request):
            return True
        return user_is_manageable(actor=request.user, target=obj)

    def has_delete_permission(self, request, obj: User | None = None) -> bool:
        # Curators deactivate; deleting would take an editor's spans and history with it.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj: User | None = None) -> Any:
        if not self._curating(request):
            return super().get_fieldsets(request, obj)
        if obj is None:
            return [(None, {"fields": ["username", "email", "password1", "password2", "roles"]})]
        return [
            (None, {"fields": ["username", "password_reset"]}),
            ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
            ("Access", {"fields": ["is_active", "groups"]}),
            ("Dates", {"fields": ["last_login", "date_joined"]}),
        ]

    def get_readonly_fields(self, request, obj: User | None = None) -> Any:
        if not self._curating(request):
            return super().get_readonly_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return [
                "username",
                "password_reset",
                "first_name",
                "last_name",
                "email",
                "is_active",
                "groups",
                "last_login",
                "date_joined",
            ]
        return ["username", "password_reset", "last_login", "date_joined"] if obj is not None else []

    def get_form(self, request, obj: User | None = None, change: bool = False, **kwargs: Any) -> Any:
        if not self._curating(request):
            return super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            kwargs["form"] = CuratorUserCreationForm
        else:
            kwargs["form"] = CuratorUserChangeForm
        return admin.ModelAdmin.get_form(self, request, obj, change=change, **kwargs)

    def save_model(self, request, obj: User, form, change: bool) -> None:
        if not self._curating(request):
            super().save_model(request, obj, form, change)
            return
        # A refusal here is a PermissionDenied (403): has_change_permission already hides what the rule refuses.
        if change:
            user_update(actor=request.user, target=obj, roles=form.cleaned_data["groups"], is_active=obj.is_active)
            obj.save(update_fields=["first_name", "last_name", "email"])
            return
        created = user_create(
            actor=request.user,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data.get("email", ""),
            roles=form.cleaned_data["roles"],
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change: bool) -> None:
        if not self._curating(request):
            super().save_related(request, form, formsets, change)
