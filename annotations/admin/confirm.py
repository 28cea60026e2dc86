"""Confirmation pages for admin actions: say what will happen, then do it on a second POST."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse


def confirmed(request: HttpRequest) -> bool:
    """True on the confirmation page's own POST (the first POST comes from the changelist's action bar)."""
    return request.POST.get("post") == "yes"


def confirmation_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    lines: Sequence[str],
    button: str,
    form: forms.Form | None = None,
    danger: bool = False,
) -> TemplateResponse:
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "lines": lines,
        "form": form,
        "button": button,
        "danger": danger,
        "action": action,
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "objects": queryset[:20],
        "count": queryset.count(),
        "media": modeladmin.media + (form.media if form else forms.Media()),
    }
    return TemplateResponse(request, "admin/annotations/confirm_action.html", context)
