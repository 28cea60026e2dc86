"""``corpus_import``: articles from annotated (or plain) files, with their spans and statuses, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pghistory
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from annotations.imports.records import AnnotatedRecord, SpanRecord
from annotations.models import Label, Span
from annotations.permissions import Actor
from annotations.spans.offsets import check_offsets
from annotations.workflow.services import slots_for_imported
from articles.importers import ArticleRecord, ImportFailure
from articles.models import Article
from articles.services import articles_import


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
    editors_per_article: int | None = None,
) -> CorpusImportResult:
    """Import articles and the spans they carry in one transaction; a dry run rolls everything back.
    ``editors_per_article`` stores k on every article created (else its source's or the site's applies); the
    editors of imported spans get their slots (``slots_for_imported``)."""
    if editors_per_article is not None and editors_per_article < 1:
        raise ValidationError("--editors-per-article must be at least 1.")
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
            created_ids = [article.pk for _, article in imported.created]
            if editors_per_article is not None:
                Article.objects.filter(pk__in=created_ids).update(editors_per_article=editors_per_article)
            slots_for_imported(article_ids=created_ids)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _import_statuses(created: list[tuple[ArticleRecord, Article]]) -> None:
    """Annotated exports say how far each article got (done, reviewed...); keep that."""
    by_status: dict[str, list[int]] = {}
    for record, article in created:
        status = getattr(record, "status", "")
        if status and status != article.status:
            by_status.setdefault(status, []).append(article.pk)
    for status, pks in by_status.items():
        Article.objects.filter(pk__in=pks).update(status=status)


def _import_spans(created: list[tuple[ArticleRecord, Article]], *, default_annotator: str | None) -> int:
    annotated = [(record, article) for record, article in created if isinstance(record, AnnotatedRecord)]
    if not any(record.spans for record, _ in annotated):
        return 0
    User = get_user_model()
    labels = {label.name.lower(): label for label in Label.objects.all()}
    labels.update({label.slug: label for label in labels.values()})
    users: dict[str, Actor] = {}

    def user_named(name: str | None, where: str) -> Actor:
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
    for record, article in annotated:
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
            origin = span.origin if span.origin in Span.Origin.values else Span.Origin.IMPORT
            placed = {"start": start, "end": end, "text": text, "note": span.note, "attributes": span.attributes}
            spans.append(Span(article=article, label=label, annotator=annotator, origin=origin, **placed))
            sources.append(span)
    pairs = list(zip(spans, sources, strict=True))
    if pairs and all(source.exported_id is not None for _, source in pairs):
        # Recreate spans in their exported id order: imported into an emptied database (sequences restarted),
        # they get their old ids back and a re-export is byte-identical (README: Exports, round trips).
        pairs.sort(key=lambda pair: pair[1].exported_id or 0)
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
