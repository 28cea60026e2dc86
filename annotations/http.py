"""What every view of this app shares: the request type htmx decorates, and a service's refusal as a status and
a sentence (403 when it is not the user's to do, 409 when it clashes with what is stored now, 422 when the input
breaks a rule)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    # Every view of this app is behind login_required: the user is never anonymous there.
    user: User


Refusal = ValidationError | PermissionDenied | ObjectDoesNotExist


def refusal_reason(error: Refusal) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not change this span."


def refusal_status(error: Refusal) -> int:
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, ObjectDoesNotExist):
        return 404
    if isinstance(error, ValidationError) and getattr(error, "code", None) == "conflict":
        return 409
    return 422


def form_error_message(form: forms.Form) -> str:
    """One sentence per problem, naming the field, for the workspace's error region."""
    messages = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        prefix = f"{label or name.replace('_', ' ').capitalize()}: " if name != "__all__" else ""
        messages += [f"{prefix}{error}" for error in errors]
    return " ".join(messages)
