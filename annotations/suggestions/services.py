"""Writes for boilerplate families and suggestions: dismiss a family, turn a family into suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotations.models import Label, LabelKind
from annotations.permissions import Actor
from annotations.suggestions.models import BoilerplateFamily, FamilyStatus, Suggestion, SuggestionOrigin
from annotations.suggestions.selectors import boilerplate_spans_over_copy

CURATOR_PERMISSION = "annotations.change_boilerplatefamily"


def _require_curator(actor: Actor) -> None:
    if not actor.has_perm(CURATOR_PERMISSION):
        raise PermissionDenied("Only curators manage boilerplate families.")


def default_boilerplate_label() -> Label | None:
    """The label suggestions get unless the curator picks another: the first active boilerplate-kind label."""
    return Label.objects.filter(kind=LabelKind.BOILERPLATE, active=True).order_by("ordering", "name").first()


@transaction.atomic
def family_dismiss(*, family: BoilerplateFamily, actor: Actor) -> BoilerplateFamily:
    """Mark a family as not boilerplate, for good: rebuilds find it again and keep it dismissed."""
    _require_curator(actor)
    family = BoilerplateFamily.objects.select_for_update().get(pk=family.pk)
    if family.status != FamilyStatus.DISMISSED:
        family.status = FamilyStatus.DISMISSED
        family.dismissed_at = timezone.now()
        family.dismissed_by = actor
        family.save(update_fields=["status", "dismissed_at", "dismissed_by", "updated_at"])
    return family


@dataclass(frozen=True)
class FamilySuggested:
    created: int  # new pending suggestions
    labelled: int  # copies skipped: a boilerplate-kind span already covers them
    existing: int  # copies skipped: already suggested with this label (pending, accepted or rejected)


@transaction.atomic
def family_suggest(*, family: BoilerplateFamily, actor: Actor, label: Label | None = None) -> FamilySuggested:
    """Create a pending suggestion of ``label`` (a boilerplate-kind label, SPONSORED by default) on every copy.

    Idempotent: a copy already covered by a boilerplate-kind span, or already suggested with this label in any
    status (a rejected suggestion is not proposed again), is skipped. Dismissed families cannot be suggested.
    """
    _require_curator(actor)
    if not actor.has_perm("annotations.add_suggestion"):
        raise PermissionDenied("You may not create suggestions.")
    label = label or default_boilerplate_label()
    if label is None:
        raise ValidationError("There is no active boilerplate label (such as SPONSORED) to suggest.")
    if label.kind != LabelKind.BOILERPLATE:
        raise ValidationError(f"{label.name} is not a boilerplate label; choose one such as SPONSORED.")
    if not label.active:
        raise ValidationError(f"The label {label.name} is inactive and cannot be suggested.")
    family = BoilerplateFamily.objects.select_for_update().get(pk=family.pk)
    if family.status == FamilyStatus.DISMISSED:
        raise ValidationError("This family was dismissed as not boilerplate; it makes no suggestions.")
    copies = family.copies.annotate(
        labelled=Exists(boilerplate_spans_over_copy()),
        suggested=Exists(
            Suggestion.objects.filter(
                article_id=OuterRef("article_id"), label=label, start=OuterRef("start"), end=OuterRef("end")
            )
        ),
    ).order_by("article_id", "start")
    labelled = existing = 0
    new = []
    for copy in copies:
        if copy.labelled:
            labelled += 1
        elif copy.suggested:
            existing += 1
        else:
            new.append(
                Suggestion(
                    article_id=copy.article_id,
                    label=label,
                    start=copy.start,
                    end=copy.end,
                    text=copy.text,
                    origin=SuggestionOrigin.BOILERPLATE,
                    family=family,
                    created_by=actor,
                )
            )
    # The unique constraint (article, label, place) settles a race with another curator doing the same.
    created = Suggestion.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return FamilySuggested(created=len(created), labelled=labelled, existing=existing)
