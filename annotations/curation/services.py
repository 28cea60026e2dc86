"""The curators' console writes: assignments, deleting articles, merging, retiring and bulk-changing labels,
restoring deleted spans. Each checks the actor's permissions itself (the admin's checks are a second line).

Review status (mark reviewed, send back) is ``annotations.progress.article_status_change``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from annotations.models import Assignment, Label, Span, SpanEvent  # type: ignore[attr-defined]  # pghistory makes it
from annotations.permissions import Actor, require
from annotations.spans.services import SpanSnapshot, check_label, span_bring_back
from articles.models import Article


@transaction.atomic
def assignment_create(*, article: Article, user: Actor, assigned_by: Actor) -> bool:
    """Put ``article`` in ``user``'s queue; True if new. The assignee must be able to annotate."""
    require(assigned_by, "annotations.add_assignment")
    if not user.is_active or not user.has_perm("annotations.add_span"):
        raise ValidationError(f"{user.get_username()} cannot annotate (not an active editor or reviewer).")
    slot, created = Assignment.objects.get_or_create(article=article, user=user, defaults={"assigned_by": assigned_by})
    if not created and (not slot.explicit or slot.released_at is not None):
        # A claim (or a released slot) becomes the curator's assignment: it holds without a lease from now on.
        slot.explicit, slot.assigned_by, slot.released_at, slot.released_by = True, assigned_by, None, None
        slot.save(update_fields=["explicit", "assigned_by", "released_at", "released_by"])
    return created


@dataclass
class ArticlesDeleted:
    articles: int
    spans: int
    assignments: int


@transaction.atomic
def articles_delete(*, articles: QuerySet[Article], actor: Actor) -> ArticlesDeleted:
    """Delete articles with their spans and assignments; the span history keeps every deleted span."""
    require(actor, "articles.delete_article")
    ids = list(articles.values_list("pk", flat=True))
    with pghistory.context(action="articles_delete"):
        _, counts = Article.objects.filter(pk__in=ids).delete()
    return ArticlesDeleted(
        articles=counts.get(Article._meta.label, 0),
        spans=counts.get(Span._meta.label, 0),
        assignments=counts.get(Assignment._meta.label, 0),
    )


def _twins(label: Label):
    """Spans of ``label`` at the same place by the same editor as the outer span."""
    return Span.objects.filter(
        label=label,
        article=OuterRef("article"),
        start=OuterRef("start"),
        end=OuterRef("end"),
        annotator=OuterRef("annotator"),
    )


@dataclass
class LabelMerged:
    moved: int
    dropped: int  # spans that already existed under the target label


@transaction.atomic
def label_merge(*, source: Label, target: Label, actor: Actor) -> LabelMerged:
    """Give every span of ``source`` the label ``target``, then delete ``source``.

    A span whose editor already marked the same range with ``target`` is dropped rather than duplicated.
    """
    require(actor, "annotations.change_label", "annotations.delete_label", "annotations.change_span")
    if source.pk == target.pk:
        raise ValidationError("A label cannot be merged into itself.")
    # Locking the source row holds off new spans with it (their foreign key check waits) until we are done.
    source = Label.objects.select_for_update().get(pk=source.pk)
    target = Label.objects.get(pk=target.pk)
    check_label(target)
    with pghistory.context(action="label_merge", label_from=source.name, label_to=target.name):
        dropped, _ = Span.objects.filter(label=source).filter(Exists(_twins(target))).delete()
        moved = Span.objects.filter(label=source).update(label=target, updated_at=timezone.now())
        source.delete()
    return LabelMerged(moved=moved, dropped=dropped)


@transaction.atomic
def label_deactivate(*, label: Label, actor: Actor) -> Label:
    """Retire a label: its spans stay, editors can no longer apply it."""
    require(actor, "annotations.change_label")
    if label.active:
        label.active = False
        label.save(update_fields=["active"])
    return label


@dataclass
class SpansRelabelled:
    relabelled: int
    skipped: int  # the editor already has that range with the new label


@transaction.atomic
def spans_relabel(*, spans: QuerySet[Span], label: Label, actor: Actor) -> SpansRelabelled:
    """Give ``spans`` the (active) ``label``; spans that would duplicate one their editor has are left alone."""
    require(actor, "annotations.change_span")
    check_label(label)
    spans = spans.exclude(label=label).select_for_update()
    if not actor.has_perm("annotations.review_span") and spans.exclude(annotator=actor).exists():
        raise PermissionDenied("Some of these spans belong to another editor.")
    rows = list(spans.order_by("pk").values_list("pk", "article_id", "start", "end", "annotator_id"))
    taken = set(
        Span.objects.filter(label=label, article_id__in={row[1] for row in rows}).values_list(
            "article_id", "start", "end", "annotator_id"
        )
    )
    chosen = []
    for pk, article_id, start, end, annotator_id in rows:
        key = (article_id, start, end, annotator_id)
        if key not in taken:
            taken.add(key)
            chosen.append(pk)
    with pghistory.context(action="spans_relabel", label_to=label.name):
        relabelled = Span.objects.filter(pk__in=chosen).update(label=label, updated_at=timezone.now())
    return SpansRelabelled(relabelled=relabelled, skipped=len(rows) - len(chosen))


@transaction.atomic
def span_restore(*, event: SpanEvent, actor: Actor) -> Span:
    """Bring back the span a delete event recorded, under its old id, after the checks a new span passes."""
    if event.pgh_label != "delete":
        raise ValidationError("Only a deleted span can be restored; pick a “delete” event.")
    snapshot = SpanSnapshot(
        id=event.pgh_obj_id,
        article_id=event.article_id,
        label_id=event.label_id,
        start=event.start,
        end=event.end,
        text=event.text,
        annotator_id=event.annotator_id,
        origin=event.origin,
        note=event.note,
        attributes=event.attributes,
    )
    with pghistory.context(action="span_restore", restored_from_event=event.pgh_id):
        return span_bring_back(snapshot=snapshot, actor=actor)
