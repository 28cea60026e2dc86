"""Claims: a claim span's speaker (one of the editor's entity spans, or typed) and verdict."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.models import Label, Span
from annotations.permissions import Actor, require_owner
from annotations.spans.services import NOT_YOURS, span_change, span_locked

CLAIM_VERDICTS = ("unverified", "supported", "disputed", "false")
# A claim's speaker is someone the editor marked in the same article: an entity (a person, an organisation).
SPEAKER_KINDS = (Label.Kind.ENTITY,)
SPEAKER_MAX_LENGTH = 200


class ClaimDetails(TypedDict, total=False):
    """A claim's details beside the note (``span_details_change``'s keywords)."""

    speaker: str
    speaker_span: Any
    verdict: str | None


@transaction.atomic
def span_set_details(*, span: Span, actor: Actor, note: str, **details: Unpack[ClaimDetails]) -> Span:
    """Set a span's note and, for claims, a speaker (the editor's PERSON/ORG span or free text) and verdict."""
    return span_details_change(span_locked(span.pk), actor=actor, note=note, **details)


def span_details_change(
    span: Span,
    *,
    actor: Actor,
    note: str,
    speaker: str = "",
    speaker_span: Any = None,
    verdict: str | None = None,
) -> Span:
    """``span_set_details`` of a span the caller has read with ``span_locked``, in the caller's transaction (no
    savepoint: a refusal leaves the caller's atomic block, which rolls back)."""
    require_owner(span.annotator_id, actor, reason=NOT_YOURS)
    speaker = (speaker or "").strip()
    if span.label.kind != Label.Kind.CLAIM:
        if speaker or speaker_span not in (None, "") or verdict:
            raise ValidationError(f"Only claims have a speaker and a verdict; this span is {span.label.name}.")
        return span_change(span, actor=actor, note=note)
    verdict = verdict or CLAIM_VERDICTS[0]
    if verdict not in CLAIM_VERDICTS:
        raise ValidationError(f"Unknown verdict {verdict!r}; choose one of {', '.join(CLAIM_VERDICTS)}.")
    attributes = {k: v for k, v in span.attributes.items() if k not in ("speaker", "speaker_span")}
    if speaker_span not in (None, ""):
        try:
            speaker_pk = int(speaker_span)
        except (TypeError, ValueError):
            raise ValidationError("The speaker must be chosen from the list or typed as text.") from None
        source = (
            Span.objects.filter(
                pk=speaker_pk,
                article_id=span.article_id,
                annotator_id=span.annotator_id,
                label__kind__in=SPEAKER_KINDS,
            )
            .only("pk", "text")
            .first()
        )
        if source is None:
            raise ValidationError("The speaker must be one of the PERSON or ORG spans marked in this article.")
        attributes.update(speaker=source.text, speaker_span=source.pk)
    elif speaker:
        if len(speaker) > SPEAKER_MAX_LENGTH:
            raise ValidationError(f"A speaker is at most {SPEAKER_MAX_LENGTH} characters.")
        attributes["speaker"] = speaker
    attributes["verdict"] = verdict
    return span_change(span, actor=actor, note=note, attributes=attributes)
