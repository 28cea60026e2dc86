"""Writes to labels and spans. Views, commands and the admin change spans only through these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pghistory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from annotations.models import Assignment, Label, Span, SpanEvent
from articles.importers import ArticleRecord, ImportFailure, SpanRecord
from articles.models import Article
from articles.services import article_set_status, articles_import


def body_lock_while_spanned(article: Article) -> str | None:
    """Body lock for ``articles.services``: spans store offsets into the body, so it must not change."""
    count = Span.objects.filter(article=article).count()
    if count:
        return (
            f"The text cannot change: {count} span{'s' if count != 1 else ''} point into it by character offset, "
            "and editing it would shift them. Delete the spans first or import the corrected text as a new article."
        )
    return None


def check_offsets(*, body: str, start: Any, end: Any, text: str | None = None) -> tuple[int, int, str]:
    """Validate code-point offsets against ``body``; returns ``(start, end, body[start:end])``."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise ValidationError("Start and end must be whole numbers (character offsets).") from None
    if start < 0 or end < 0:
        raise ValidationError(f"Offsets cannot be negative (got {start}–{end}).")
    if start >= end:
        raise ValidationError(f"A span must cover at least one character (start {start} is not before end {end}).")
    if end > len(body):
        raise ValidationError(f"The span {start}–{end} runs past the end of the text ({len(body)} characters).")
    actual = body[start:end]
    if text is not None and text != actual:
        raise ValidationError(
            f"The selected text does not match the article at {start}–{end}: "
            f"expected {actual[:60]!r}, got {text[:60]!r}. Reload the page and select again."
        )
    return start, end, actual


def _lock_article(article: Article) -> Article:
    # FOR NO KEY UPDATE: holds off a concurrent body change while we validate offsets against the body.
    return Article.objects.select_for_update(no_key=True).only("id", "body").get(pk=article.pk)


def _check_label(label: Label) -> None:
    if not label.active:
        raise ValidationError(f"The label {label.name} is inactive and cannot be applied.")


def _check_owner(span: Span, actor: AbstractBaseUser) -> None:
    if span.annotator_id != actor.pk and not actor.has_perm("annotations.review_span"):
        raise PermissionDenied("This span belongs to another editor.")


def _checked_placement(
    *, article: Article, label: Label, start: Any, end: Any, text: str | None
) -> tuple[int, int, str]:
    """Label active, article row locked, offsets valid against its body: ``(start, end, body[start:end])``."""
    _check_label(label)
    locked = _lock_article(article)
    return check_offsets(body=locked.body, start=start, end=end, text=text)


@transaction.atomic
def span_create(
    *,
    article: Article,
    label: Label,
    start: Any,
    end: Any,
    annotator: AbstractBaseUser,
    text: str | None = None,
    origin: str = Span.Origin.MANUAL,
    note: str = "",
    attributes: dict[str, Any] | None = None,
) -> Span:
    """Create a span after checking label and offsets; the same span sent twice returns the first one."""
    start, end, actual = _checked_placement(article=article, label=label, start=start, end=end, text=text)
    if origin not in Span.Origin.values:
        raise ValidationError(f"Unknown origin {origin!r}.")
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
    )
    try:
        with transaction.atomic():
            span.save()
    except IntegrityError:
        existing = Span.objects.filter(
            article_id=article.pk, label=label, start=start, end=end, annotator=annotator
        ).first()
        if existing is None:
            raise
        return existing
    return span


@transaction.atomic
def span_update(
    *,
    span: Span,
    actor: AbstractBaseUser,
    label: Label | None = None,
    start: Any = None,
    end: Any = None,
    note: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> Span:
    """Relabel, move, annotate or set attributes of a span; offsets are re-checked against the body."""
    span = Span.objects.select_for_update().select_related("label").get(pk=span.pk)
    _check_owner(span, actor)
    changed: list[str] = []
    if label is not None and label.pk != span.label_id:
        _check_label(label)
        span.label = label
        changed.append("label")
    if start is not None or end is not None:
        locked = _lock_article(span.article)
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
        duplicate = (
            Span.objects.filter(
                article_id=span.article_id,
                label_id=span.label_id,
                start=span.start,
                end=span.end,
                annotator_id=span.annotator_id,
            )
            .exclude(pk=span.pk)
            .exists()
        )
        if duplicate:
            raise ValidationError("This editor already has an identical span with that label.")
        span.save(update_fields=[*changed, "updated_at"])
    return span


@transaction.atomic
def span_delete(*, span: Span, actor: AbstractBaseUser) -> None:
    """Delete a span owned by ``actor`` (reviewers may delete anyone's)."""
    _check_owner(span, actor)
    Span.objects.filter(pk=span.pk).delete()


# The editor workspace: article status flow, claim details and undo.

CLAIM_VERDICTS = ("unverified", "supported", "disputed", "false")
# A claim's speaker is someone the editor marked in the same article: a person or an organisation.
SPEAKER_LABEL_SLUGS = ("person", "org")
SPEAKER_MAX_LENGTH = 200
UNDO_DEPTH = 50


@transaction.atomic
def span_create_in_workspace(
    *, article: Article, label: Label, start: Any, end: Any, text: str | None, annotator
) -> Span:
    """An editor labels text: the span is created and a ``new`` article moves to ``in_progress``, together."""
    span = span_create(article=article, label=label, start=start, end=end, text=text, annotator=annotator)
    article_start_annotating(article=article)
    return span


def article_start_annotating(*, article: Article) -> bool:
    """Move a ``new`` article to ``in_progress`` (call after its first span); other statuses are left alone."""
    if article.status != Article.Status.NEW:
        return False
    changed = Article.objects.filter(pk=article.pk, status=Article.Status.NEW).update(status=Article.Status.IN_PROGRESS)
    if changed:
        article.status = Article.Status.IN_PROGRESS
    return bool(changed)


@transaction.atomic
def span_set_details(
    *,
    span: Span,
    actor: AbstractBaseUser,
    note: str,
    speaker: str = "",
    speaker_span: Any = None,
    verdict: str | None = None,
) -> Span:
    """Set a span's note and, for claims, a speaker (the editor's PERSON/ORG span or free text) and verdict."""
    span = Span.objects.select_related("label").get(pk=span.pk)
    _check_owner(span, actor)
    speaker = (speaker or "").strip()
    if span.label.kind != Label.Kind.CLAIM:
        if speaker or speaker_span not in (None, "") or verdict:
            raise ValidationError(f"Only claims have a speaker and a verdict; this span is {span.label.name}.")
        return span_update(span=span, actor=actor, note=note)
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
                label__slug__in=SPEAKER_LABEL_SLUGS,
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
    return span_update(span=span, actor=actor, note=note, attributes=attributes)


def span_snapshot(span: Span) -> dict[str, Any]:
    """Everything ``span_undo`` needs to bring a deleted span back, as JSON (the history lives in the session)."""
    return {
        "id": span.pk,
        "label": span.label_id,
        "start": span.start,
        "end": span.end,
        "text": span.text,
        "annotator": span.annotator_id,
        "origin": span.origin,
        "note": span.note,
        "attributes": span.attributes,
    }


def undo_record(history: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """Append to an undo history, keeping the newest ``UNDO_DEPTH``; a create sent twice is recorded once."""
    if entry["op"] == "create" and any(e["op"] == "create" and e["span"] == entry["span"] for e in history):
        return
    history.append(entry)
    del history[:-UNDO_DEPTH]


@transaction.atomic
def span_undo(*, article: Article, actor: AbstractBaseUser, history: list[dict[str, Any]]) -> str | None:
    """Reverse and pop (in place) the newest entry of ``history`` that still applies; None when nothing is left.

    Entries are ``{"op": "create", "span": id}``, ``{"op": "delete", "span": span_snapshot(...)}`` and
    ``{"op": "relabel", "span": id, "from": label_id}``. An entry whose span has gone meanwhile (another tab,
    a reviewer) is dropped and the one before it is tried.
    """
    labels = {label.pk: label for label in Label.objects.all()}
    while history:
        entry = history.pop()
        if entry["op"] == "delete":
            data = entry["span"]
            User = get_user_model()
            annotator = actor if data["annotator"] == actor.pk else User.objects.get(pk=data["annotator"])
            restored = span_create(
                article=article,
                label=labels[data["label"]],
                start=data["start"],
                end=data["end"],
                text=data["text"],
                annotator=annotator,
                origin=data["origin"],
                note=data["note"],
                attributes=data["attributes"],
            )
            # Older entries name the span by its old id; the restored row has a new one.
            for older in history:
                if older["op"] != "delete" and older["span"] == data["id"]:
                    older["span"] = restored.pk
            return f"Restored {restored.label.name} “{excerpt(restored.text)}”."
        span = Span.objects.filter(pk=entry["span"], article=article).select_related("label").first()
        if span is None:
            continue
        if entry["op"] == "create":
            span_delete(span=span, actor=actor)
            return f"Removed {span.label.name} “{excerpt(span.text)}”."
        if entry["op"] == "relabel":
            previous = span.label.name
            span_update(span=span, actor=actor, label=labels[entry["from"]])
            return f"Relabelled “{excerpt(span.text)}” back from {previous} to {labels[entry['from']].name}."
    return None


def excerpt(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ImportAborted(Exception):
    """Raised to roll back a dry run or a failed import; the message says why."""


@dataclass
class CorpusImportResult:
    created_count: int = 0
    duplicates: list[tuple[ArticleRecord, str]] = field(default_factory=list)
    span_count: int = 0

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)


class _DryRun(Exception):
    pass


def corpus_import(
    *,
    records: list[ArticleRecord],
    default_annotator: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CorpusImportResult:
    """Import articles and the spans they carry in one transaction; a dry run rolls everything back."""
    result = CorpusImportResult()
    try:
        with transaction.atomic(), pghistory.context(action="corpus_import"):
            # pghistory.context groups the import's history events; pgtrigger.ignore is set on every connection
            # (newsnotes/database.py) so the history triggers trap no error per row.
            imported = articles_import(records=records, progress=progress)
            result.created_count = imported.created_count
            result.duplicates = imported.duplicates
            _import_statuses(imported.created)
            result.span_count = _import_spans(imported.created, default_annotator=default_annotator)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _import_statuses(created: list[tuple[ArticleRecord, Article]]) -> None:
    """Annotated exports say how far each article got (done, reviewed...); keep that."""
    by_status: dict[str, list[int]] = {}
    for record, article in created:
        if record.status and record.status != article.status:
            by_status.setdefault(record.status, []).append(article.pk)
    for status, pks in by_status.items():
        Article.objects.filter(pk__in=pks).update(status=status)


def _import_spans(created: list[tuple[ArticleRecord, Article]], *, default_annotator: str | None) -> int:
    if not any(record.spans for record, _ in created):
        return 0
    User = get_user_model()
    labels = {label.name.lower(): label for label in Label.objects.all()}
    labels.update({label.slug: label for label in labels.values()})
    users: dict[str, AbstractBaseUser] = {}

    def user_named(name: str | None, where: str) -> AbstractBaseUser:
        name = name or default_annotator
        if not name:
            raise ImportFailure(where, None, "span has no annotator; pass --annotator USERNAME")
        if name not in users:
            try:
                users[name] = User.objects.get(**{User.USERNAME_FIELD: name})
            except User.DoesNotExist:
                raise ImportFailure(
                    where, None, f"unknown annotator {name!r}; create the user first or pass --annotator"
                ) from None
        return users[name]

    spans: list[Span] = []
    sources: list[SpanRecord] = []
    seen: set[tuple] = set()
    for record, article in created:
        for span in record.spans:
            label = labels.get(span.label.lower())
            if label is None:
                raise ImportFailure(
                    record.location,
                    None,
                    f"unknown label {span.label!r}; known: {', '.join(sorted({lb.name for lb in labels.values()}))}",
                )
            try:
                start, end, text = check_offsets(body=article.body, start=span.start, end=span.end, text=span.text)
            except ValidationError as err:
                raise ImportFailure(
                    record.location, None, f"span {span.label} {span.start}-{span.end}: {err.messages[0]}"
                ) from None
            annotator = user_named(span.annotator, record.location)
            key = (article.pk, label.pk, start, end, annotator.pk)
            if key in seen:
                continue
            seen.add(key)
            spans.append(
                Span(
                    article=article,
                    label=label,
                    start=start,
                    end=end,
                    text=text,
                    annotator=annotator,
                    origin=span.origin if span.origin in Span.Origin.values else Span.Origin.IMPORT,
                    note=span.note,
                    attributes=span.attributes,
                )
            )
            sources.append(span)
    pairs = list(zip(spans, sources, strict=True))
    if pairs and all(source.exported_id is not None for _, source in pairs):
        # Recreate spans in their exported id order: imported into an emptied database (sequences restarted),
        # they get their old ids back and a re-export is byte-identical (README: Exports, round trips).
        pairs.sort(key=lambda pair: pair[1].exported_id)
    Span.objects.bulk_create([span for span, _ in pairs], batch_size=1000)
    _import_span_details(pairs)
    return len(spans)


def _import_span_details(pairs: list[tuple[Span, SpanRecord]]) -> None:
    """Keep exported creation/update times, and point ``*_span`` attributes (a claim's speaker) at new ids."""
    renumbered = {source.exported_id: span.pk for span, source in pairs if source.exported_id not in (None, span.pk)}
    moved = []
    for span, _ in pairs:
        changed = {
            key: renumbered[value]
            for key, value in span.attributes.items()
            if key.endswith("_span") and isinstance(value, int) and value in renumbered
        }
        if changed:
            span.attributes = {**span.attributes, **changed}
            moved.append(span)
    Span.objects.bulk_update(moved, ["attributes"], batch_size=1000)
    timed = [(span.pk, source) for span, source in pairs if source.created_at or source.updated_at]
    if timed:
        # auto_now_add/auto_now overwrite these on insert, so they are set afterwards, in one statement (the
        # history shows it as an update within the same import).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Span._meta.db_table} AS s SET created_at = coalesce(t.created_at, s.created_at), "  # noqa: S608
                "updated_at = coalesce(t.updated_at, s.updated_at) "
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS t(id, created_at, updated_at) "
                "WHERE s.id = t.id",
                [[pk for pk, _ in timed], [s.created_at for _, s in timed], [s.updated_at for _, s in timed]],
            )


# Curation (the admin console): review status, assignments, bulk label changes, deletion and restoring.


def _require(actor: AbstractBaseUser, *perms: str) -> None:
    if not actor.has_perms(perms):
        raise PermissionDenied("You do not have permission to do this.")


@transaction.atomic
def article_mark_reviewed(*, article: Article, actor: AbstractBaseUser) -> Article:
    """Mark an article reviewed (needs ``articles.review_article``)."""
    _require(actor, "articles.review_article")
    return article_set_status(article=article, status=Article.Status.REVIEWED)


@transaction.atomic
def article_reopen(*, article: Article, actor: AbstractBaseUser) -> Article:
    """Send an article back to work: in progress if it has spans, new otherwise (needs ``review_article``)."""
    _require(actor, "articles.review_article")
    spanned = Span.objects.filter(article=article).exists()
    return article_set_status(article=article, status=Article.Status.IN_PROGRESS if spanned else Article.Status.NEW)


@transaction.atomic
def assignment_create(*, article: Article, user: AbstractBaseUser, assigned_by: AbstractBaseUser) -> bool:
    """Put ``article`` in ``user``'s queue; True if new. The assignee must be able to annotate."""
    _require(assigned_by, "annotations.add_assignment")
    if not user.is_active or not user.has_perm("annotations.add_span"):
        raise ValidationError(f"{user.get_username()} cannot annotate (not an active editor or reviewer).")
    _, created = Assignment.objects.get_or_create(article=article, user=user, defaults={"assigned_by": assigned_by})
    return created


@dataclass
class ArticlesDeleted:
    articles: int
    spans: int
    assignments: int


@transaction.atomic
def articles_delete(*, articles: QuerySet[Article], actor: AbstractBaseUser) -> ArticlesDeleted:
    """Delete articles with their spans and assignments; the span history keeps every deleted span."""
    _require(actor, "articles.delete_article")
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
def label_merge(*, source: Label, target: Label, actor: AbstractBaseUser) -> LabelMerged:
    """Give every span of ``source`` the label ``target``, then delete ``source``.

    A span whose editor already marked the same range with ``target`` is dropped rather than duplicated.
    """
    _require(actor, "annotations.change_label", "annotations.delete_label", "annotations.change_span")
    if source.pk == target.pk:
        raise ValidationError("A label cannot be merged into itself.")
    # Locking the source row holds off new spans with it (their foreign key check waits) until we are done.
    source = Label.objects.select_for_update().get(pk=source.pk)
    target = Label.objects.get(pk=target.pk)
    _check_label(target)
    with pghistory.context(action="label_merge", label_from=source.name, label_to=target.name):
        dropped, _ = Span.objects.filter(label=source).filter(Exists(_twins(target))).delete()
        moved = Span.objects.filter(label=source).update(label=target, updated_at=timezone.now())
        source.delete()
    return LabelMerged(moved=moved, dropped=dropped)


@transaction.atomic
def label_deactivate(*, label: Label, actor: AbstractBaseUser) -> Label:
    """Retire a label: its spans stay, editors can no longer apply it."""
    _require(actor, "annotations.change_label")
    if label.active:
        label.active = False
        label.save(update_fields=["active"])
    return label


@dataclass
class SpansRelabelled:
    relabelled: int
    skipped: int  # the editor already has that range with the new label


@transaction.atomic
def spans_relabel(*, spans: QuerySet[Span], label: Label, actor: AbstractBaseUser) -> SpansRelabelled:
    """Give ``spans`` the (active) ``label``; spans that would duplicate one their editor has are left alone."""
    _check_label(label)
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
    for pk, *key in rows:
        if tuple(key) not in taken:
            taken.add(tuple(key))
            chosen.append(pk)
    with pghistory.context(action="spans_relabel", label_to=label.name):
        relabelled = Span.objects.filter(pk__in=chosen).update(label=label, updated_at=timezone.now())
    return SpansRelabelled(relabelled=relabelled, skipped=len(rows) - len(chosen))


@transaction.atomic
def span_restore(*, event: SpanEvent, actor: AbstractBaseUser) -> Span:
    """Bring back the span a delete event recorded, under its old id, after the checks a new span passes."""
    if event.pgh_label != "delete":
        raise ValidationError("Only a deleted span can be restored; pick a “delete” event.")
    if event.annotator_id != actor.pk and not actor.has_perm("annotations.review_span"):
        raise PermissionDenied("This span belonged to another editor.")
    _require(actor, "annotations.add_span")
    if Span.objects.filter(pk=event.pgh_obj_id).exists():
        raise ValidationError("This span has been restored already.")
    article = Article.objects.filter(pk=event.article_id).first()
    label = Label.objects.filter(pk=event.label_id).first()
    annotator = get_user_model().objects.filter(pk=event.annotator_id).first()
    if article is None:
        raise ValidationError("The article this span belonged to has been deleted.")
    if label is None:
        raise ValidationError("The span's label has been deleted (merged into another?); it cannot come back.")
    if annotator is None:
        raise ValidationError("The editor who made this span no longer exists.")
    start, end, text = _checked_placement(
        article=article, label=label, start=event.start, end=event.end, text=event.text
    )
    if Span.objects.filter(article=article, label=label, start=start, end=end, annotator=annotator).exists():
        raise ValidationError(f"{annotator.get_username()} has an identical {label.name} span there now.")
    span = Span(
        pk=event.pgh_obj_id,
        article=article,
        label=label,
        start=start,
        end=end,
        text=text,
        annotator=annotator,
        origin=event.origin,
        note=event.note,
        attributes=event.attributes,
    )
    with pghistory.context(action="span_restore", restored_from_event=event.pgh_id):
        span.save(force_insert=True)
    return span
