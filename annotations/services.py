"""Writes to labels and spans. Views, commands and the admin change spans only through these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from annotations.models import Label, Span
from articles.importers import ArticleRecord, ImportFailure
from articles.models import Article
from articles.services import articles_import


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
    _check_label(label)
    locked = _lock_article(article)
    start, end, actual = check_offsets(body=locked.body, start=start, end=end, text=text)
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
        with transaction.atomic():
            imported = articles_import(records=records, progress=progress)
            result.created_count = imported.created_count
            result.duplicates = imported.duplicates
            result.span_count = _import_spans(imported.created, default_annotator=default_annotator)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


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
    Span.objects.bulk_create(spans, batch_size=1000)
    return len(spans)
