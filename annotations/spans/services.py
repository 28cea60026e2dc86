"""Writes to spans: create, update (relabel, move, note, attributes), delete, and bring a deleted span back.

Views, commands, undo and the admin change spans only through these; each checks the label, the offsets
against the locked article body and who may touch the span.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict, Unpack

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, models, router, transaction
from django.db.models import Field
from django.db.models.deletion import get_candidate_relations_to_delete
from django.utils import timezone

from annotations.models import Label, Span
from annotations.permissions import Actor, require, require_owner
from annotations.progress import REVIEWED_REFUSAL, article_start_annotating
from annotations.spans.offsets import check_offsets
from annotations.spans.selectors import label_of_row
from annotations.workflow.selectors import takes_slots
from annotations.workflow.services import REVIEW, slot_start
from articles.models import Article
from newsnotes.compiled import compiled

NOT_YOURS = "This span belongs to another editor."
IDENTICAL = "This editor already has an identical span with that label."
CONFLICT = "conflict"  # a ValidationError code: the request fits the rules but not what is stored now (HTTP 409)
REVIEWED_SPANS = f"{REVIEWED_REFUSAL} Its spans can no longer be changed or deleted; a reviewer can reopen it."


def _check_not_reviewed(article_id: int, actor: Actor) -> None:
    """An editor's spans on a reviewed article are frozen (reviewers and curators may still change any span).

    The article row is locked (FOR NO KEY UPDATE, as a status change takes it) so a review racing this change
    either waits for it or is seen by it.
    """
    if actor.has_perm(REVIEW):
        return
    status = Article.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=article_id)
    if status == Article.Status.REVIEWED:
        raise PermissionDenied(REVIEWED_SPANS)


def _lock_article(article_id: int) -> Article:
    # FOR NO KEY UPDATE: holds off a concurrent body change while we validate offsets against the body.
    return Article.objects.select_for_update(no_key=True).only("id", "body").get(pk=article_id)


def check_label(label: Label) -> None:
    """Only active labels are applied; retired ones keep their spans."""
    if not label.active:
        raise ValidationError(f"The label {label.name} is inactive and cannot be applied.")


def _checked_placement(
    *,
    article_id: int,
    label: Label,
    start: Any,
    end: Any,
    text: str | None,
    article: Article | None = None,
    locked_body: str | None = None,
) -> tuple[int, int, str]:
    """Label active, article row locked, offsets valid against its body: ``(start, end, body[start:end])``.

    ``article``: the caller's instance, given the body just read under the lock if it was loaded without it.
    ``locked_body``: the body, when the caller has already locked the row and read it (FOR NO KEY UPDATE).
    """
    check_label(label)
    body = _lock_article(article_id).body if locked_body is None else locked_body
    if article is not None and "body" in article.get_deferred_fields():
        article.body = body
    return check_offsets(body=body, start=start, end=end, text=text)


def span_create(
    *,
    article: Article,
    label: Label,
    start: Any,
    end: Any,
    annotator: Actor,
    text: str | None = None,
    origin: str = Span.Origin.MANUAL,
    note: str = "",
    attributes: dict[str, Any] | None = None,
) -> Span:
    """Create a span after checking label and offsets; the same span sent twice returns the first one."""
    span, _created = span_create_or_find(
        article=article,
        label=label,
        start=start,
        end=end,
        annotator=annotator,
        text=text,
        origin=origin,
        note=note,
        attributes=attributes,
    )
    return span


# One statement whether or not the span exists: no savepoint to fall back to after a unique violation (each
# savepoint is two more round trips). ON CONFLICT waits for a racing insert of the same span and then does nothing,
# and a check constraint or trigger still raises. The row's history is written by its triggers, as for ``save()``.
# Built from the model, once per process: every concrete column but the id, conflict on the per-editor unique
# constraint's columns.
@functools.cache
def _insert_span_sql() -> tuple[str, tuple[Field, ...]]:
    fields = tuple(field for field in Span._meta.concrete_fields if not field.primary_key)
    (unique,) = (c for c in Span._meta.constraints if getattr(c, "name", "") == "span_unique_per_annotator")
    quote = connection.ops.quote_name
    columns = {field.name: str(field.column) for field in fields}
    target = ", ".join(quote(columns[name]) for name in unique.fields)  # type: ignore[attr-defined]
    names = ", ".join(quote(columns[field.name]) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    table = quote(Span._meta.db_table)
    # Names from the model, quoted; values are parameters.
    sql = f"INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT ({target}) DO NOTHING RETURNING id"  # noqa: S608
    return sql, fields


def _span_insert_or_find(
    *,
    article: Article,
    label: Label,
    start: Any,
    end: Any,
    annotator: Actor,
    text: str | None = None,
    origin: str = Span.Origin.MANUAL,
    note: str = "",
    attributes: dict[str, Any] | None = None,
    locked_body: str | None = None,
) -> tuple[Span, bool]:
    """``span_create_or_find`` inside the caller's transaction (which a refusal raised here rolls back)."""
    start, end, actual = _checked_placement(
        article_id=article.pk, label=label, start=start, end=end, text=text, article=article, locked_body=locked_body
    )
    if origin not in Span.Origin.values:
        raise ValidationError(f"Unknown origin {origin!r}.")
    now = timezone.now()
    span = Span(
        article_id=article.pk,
        label=label,
        start=start,
        end=end,
        text=actual,
        annotator=annotator,
        origin=origin,
        note=note or "",
        attributes=attributes or {},
        created_at=now,
        updated_at=now,
    )
    sql, fields = _insert_span_sql()
    database = router.db_for_write(Span)
    with connections[database].cursor() as cursor:
        cursor.execute(
            sql, [field.get_db_prep_save(getattr(span, field.attname), connections[database]) for field in fields]
        )
        inserted = cursor.fetchone()
    if inserted is None:
        existing = Span.objects.filter(
            article_id=article.pk, label=label, start=start, end=end, annotator=annotator
        ).first()
        if existing is None:  # the span that stood in the way was deleted meanwhile
            raise ValidationError(IDENTICAL, code=CONFLICT)
        return existing, False
    span.pk = inserted[0]
    span._state.adding, span._state.db = False, database
    return span, True


# Create a span after checking label and offsets: ``(span, True)``; ``(the one there, False)`` if it exists. In a
# transaction of its own, or a savepoint inside the caller's, so a caller may catch a refusal and go on (the
# workspace, whose own transaction a refusal rolls back anyway, calls ``_span_insert_or_find``: no savepoint).
span_create_or_find = transaction.atomic(_span_insert_or_find)


class SpanChanges(TypedDict, total=False):
    """What ``span_update`` changes (``span_change``'s keywords): a key left out, or None, stays as it is."""

    label: Label | None
    start: Any
    end: Any
    note: str | None
    attributes: dict[str, Any] | None


@transaction.atomic
def span_update(*, span: Span, actor: Actor, **changes: Unpack[SpanChanges]) -> Span:
    """Relabel, move, annotate or set attributes of a span; offsets are re-checked against the body."""
    return span_change(span_locked(span.pk), actor=actor, **changes)


def span_locked(pk: int) -> Span:
    """The span, its row locked until the caller's transaction ends, with its label."""
    return Span.objects.select_for_update(of=("self",)).select_related("label").get(pk=pk)


_SPAN_FIELDS = [field.attname for field in Span._meta.concrete_fields]


def _from_row(model: type[models.Model], values: tuple[Any, ...]) -> Any:
    """An instance of ``model`` from its concrete fields' columns as the cursor gave them, each through its field's
    ``from_db_value`` as the ORM's own reads convert them (a span's JSON attributes come as text)."""
    fields = model._meta.concrete_fields
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def _locked_with_label(spans: models.QuerySet) -> models.QuerySet:
    # The ORM's statement for span_locked's read: the span's columns, then its label's (each model's concrete
    # fields in order, as select_related reads them; ``_from_row``).
    return spans.select_related("label").select_for_update(of=("self",))


@compiled("article", "span")
def _span_of_article_locked(*, article: int, span: int) -> models.QuerySet:
    return _locked_with_label(Span.objects.filter(article_id=article, pk=span))


@compiled("article", "span", "annotator")
def _own_span_of_article_locked(*, article: int, span: int, annotator: int) -> models.QuerySet:
    return _locked_with_label(Span.objects.filter(article_id=article, pk=span, annotator_id=annotator))


def span_of_article_locked(*, article_id: int, span_id: int, annotator_id: int | None = None) -> Span | None:
    """``span_locked`` for a workspace write: the span ``span_id`` if it is the article's (and ``annotator_id``'s,
    when given), else None; its row locked until the caller's transaction ends (FOR UPDATE OF the span), with its
    label. By a statement compiled once per process (``newsnotes.compiled``): the ORM built this read on every
    relabel, note and delete."""
    if annotator_id is None:
        found = _span_of_article_locked().rows(article=article_id, span=span_id)
    else:
        found = _own_span_of_article_locked().rows(article=article_id, span=span_id, annotator=annotator_id)
    if not found:
        return None
    row = found[0]
    span = _from_row(Span, row[: len(_SPAN_FIELDS)])
    span._state.fields_cache["label"] = _from_row(Label, row[len(_SPAN_FIELDS) :])
    return span


def span_change(
    span: Span,
    *,
    actor: Actor,
    label: Label | None = None,
    start: Any = None,
    end: Any = None,
    note: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> Span:
    """``span_update`` of a span the caller has read with ``span_locked``, in the caller's transaction.

    No savepoint of its own: a refusal (a ValidationError, a PermissionDenied) leaves the caller's atomic block,
    which rolls back. An identical span (same article, label, offsets and editor) is found by the database's
    unique constraint, which also sees spans not committed yet, not by a read beforehand.
    """
    require_owner(span.annotator_id, actor, reason=NOT_YOURS)
    _check_not_reviewed(span.article_id, actor)
    changed: list[str] = []
    if label is not None and label.pk != span.label_id:
        check_label(label)
        span.label = label
        changed.append("label")
    if start is not None or end is not None:
        locked = _lock_article(span.article_id)
        new_start, new_end, actual = check_offsets(
            body=locked.body,
            start=span.start if start is None else start,
            end=span.end if end is None else end,
        )
        if (new_start, new_end) != (span.start, span.end):
            span.start, span.end, span.text = new_start, new_end, actual
            changed += ["start", "end", "text"]
    if note is not None and note != span.note:
        span.note = note
        changed.append("note")
    if attributes is not None and attributes != span.attributes:
        span.attributes = attributes
        changed.append("attributes")
    if changed:
        try:
            span.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as error:
            if "span_unique_per_annotator" not in str(error):
                raise
            raise ValidationError(IDENTICAL, code=CONFLICT) from None
    return span


@transaction.atomic
def span_delete(*, span: Span, actor: Actor) -> None:
    """Delete a span owned by ``actor`` (reviewers may delete anyone's); an editor's own not once reviewed."""
    span_remove(span, actor=actor)


def span_remove(span: Span, *, actor: Actor) -> None:
    """``span_delete`` in the caller's transaction (no savepoint: a refusal leaves the caller's atomic block,
    which rolls back), in one statement (``_DELETE``)."""
    require_owner(span.annotator_id, actor, reason=NOT_YOURS)
    _check_not_reviewed(span.article_id, actor)
    with connection.cursor() as cursor:
        cursor.execute(_delete_statement(), {"span": span.pk})


@functools.cache
def _delete_statement() -> str:
    """Delete one span and, in the same statement, set every reference to it to NULL, as each referencing
    field's ``on_delete=SET_NULL`` asks. Django's ``QuerySet.delete()`` does the same in five round trips: it
    reads the span, then updates each of the three referencing tables, then deletes. Built from the models, so a
    reference added later is cleared too, and one that asks for anything else than SET_NULL (or DO_NOTHING, as
    the history events do) stops this with an error rather than being skipped. The foreign keys are checked at
    commit (Django makes them DEFERRABLE INITIALLY DEFERRED), the span's triggers (history, revisions) fire as
    for any DELETE."""
    quote = connection.ops.quote_name
    meta: Any = Span._meta
    clears: list[str] = []
    # The relations Django's own delete collects, hidden ones (related_name="+") included.
    relations: list[Any] = list(get_candidate_relations_to_delete(meta))
    for relation in relations:
        if relation.on_delete is models.DO_NOTHING:
            continue
        if relation.on_delete is not models.SET_NULL or relation.many_to_many:
            raise ImproperlyConfigured(f"{relation.field}: a span's delete only sets references to NULL")
        # Names from the models, quoted; the span's id is a parameter.
        table, column = quote(relation.related_model._meta.db_table), quote(relation.field.column)
        clear = f"UPDATE {table} SET {column} = NULL WHERE {column} = %(span)s"  # noqa: S608
        clears.append(f"clear_{len(clears)} AS ({clear})")
    deleting = f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %(span)s"  # noqa: S608
    return f"WITH {', '.join(clears)} {deleting}" if clears else deleting


@dataclass(frozen=True)
class SpanSnapshot:
    """A span as it was when deleted: enough to bring it back under its own id (undo, the admin's restore)."""

    id: int
    article_id: int
    label_id: int
    start: int
    end: int
    text: str
    annotator_id: int
    origin: str = Span.Origin.MANUAL
    note: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, span: Span) -> SpanSnapshot:
        return cls(
            id=span.pk,
            article_id=span.article_id,
            label_id=span.label_id,
            start=span.start,
            end=span.end,
            text=span.text,
            annotator_id=span.annotator_id,
            origin=span.origin,
            note=span.note,
            attributes=dict(span.attributes),
        )


@transaction.atomic
def span_bring_back(*, snapshot: SpanSnapshot, actor: Actor) -> Span:
    """Re-create a deleted span under its old id, after the checks a new span passes; says why it cannot."""
    require_owner(snapshot.annotator_id, actor, reason="This span belonged to another editor.")
    require(actor, "annotations.add_span")
    if Span.objects.filter(pk=snapshot.id).exists():
        raise ValidationError("This span has been restored already.")
    article = Article.objects.filter(pk=snapshot.article_id).only("id").first()
    label = Label.objects.filter(pk=snapshot.label_id).first()
    annotator = get_user_model().objects.filter(pk=snapshot.annotator_id).first()
    if article is None:
        raise ValidationError("The article this span belonged to has been deleted.")
    if label is None:
        raise ValidationError("The span's label has been deleted (merged into another?); it cannot come back.")
    if annotator is None:
        raise ValidationError("The editor who made this span no longer exists.")
    start, end, text = _checked_placement(
        article_id=article.pk, label=label, start=snapshot.start, end=snapshot.end, text=snapshot.text
    )
    if Span.objects.filter(article=article, label=label, start=start, end=end, annotator=annotator).exists():
        raise ValidationError(f"{annotator.get_username()} has an identical {label.name} span there now.")
    # The snapshot's fields are the row's columns; the offsets are the ones just checked.
    span = Span(**{**asdict(snapshot), "start": start, "end": end, "text": text})
    span.save(force_insert=True)
    return span


_LOCKED_WITH_SLOT_SQL = """
SELECT article.body, EXISTS (
    SELECT 1 FROM annotations_assignment slot
    WHERE slot.article_id = article.id AND slot.user_id = %(editor)s
      AND slot.started_at IS NOT NULL AND slot.released_at IS NULL),
    (SELECT row_to_json(label) FROM annotations_label label WHERE label.id = %(label)s)
FROM articles_article article
WHERE article.id = %(article)s
FOR NO KEY UPDATE OF article
"""
UNKNOWN_LABEL = "Unknown label."


def _article_locked_with_started_slot(
    *, article_id: int, editor_id: int, label_id: int | None = None
) -> tuple[str, bool, Label | None]:
    """Lock the article's row (FOR NO KEY UPDATE, as ``_lock_article``) and read its body, whether the editor
    holds a started slot on it (``workflow.services.slot_start``'s usual case) and the label ``label_id`` (None
    if there is none, or none asked for), in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCKED_WITH_SLOT_SQL, {"article": article_id, "editor": editor_id, "label": label_id})
        row = cursor.fetchone()
    if row is None:
        raise Article.DoesNotExist("The article was deleted.")
    return row[0], row[1], None if row[2] is None else label_of_row(row[2])


def span_create_in_workspace(
    *, article: Article, label: Label, start: Any, end: Any, text: str | None, annotator: Actor
) -> Span:
    """An editor labels text: their slot is started (taken first if they hold none and one is free; refused on a
    reviewed article), the span is created and a ``new`` article moves to ``in_annotation``, together."""
    return span_label_in_workspace(article=article, label=label, start=start, end=end, text=text, annotator=annotator)[
        0
    ]


@transaction.atomic(savepoint=False)  # nested in the workspace's own transaction, which a refusal rolls back
def span_label_in_workspace(
    *, article: Article, label: Label | int, start: Any, end: Any, text: str | None, annotator: Actor
) -> tuple[Span, bool]:
    """``span_create_in_workspace`` that also says whether the span is new (False: it was there already).

    The article's row is locked and its body read in the statement that finds the editor's started slot (and,
    given ``label`` as an id, reads that label, refused as unknown if there is none): the usual create (every span
    after an editor's first on the article) then checks its label, slot and offsets with one round trip before
    the insert. Otherwise ``slot_start`` starts (or takes) the slot, under the lock.
    """
    if isinstance(label, int):
        body, started, found = _article_locked_with_started_slot(
            article_id=article.pk, editor_id=annotator.pk, label_id=label
        )
        if found is None:
            raise ValidationError(UNKNOWN_LABEL)
        label = found
    else:
        body, started, _ = _article_locked_with_started_slot(article_id=article.pk, editor_id=annotator.pk)
    if not (started and article.status != Article.Status.REVIEWED and takes_slots(annotator)):
        slot_start(article=article, editor=annotator)
    span, created = _span_insert_or_find(
        article=article, label=label, start=start, end=end, text=text, annotator=annotator, locked_body=body
    )
    article_start_annotating(article=article)
    return span, created
