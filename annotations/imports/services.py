"""``corpus_import``: articles from annotated (or plain) files, with their spans and statuses, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pghistory
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from annotations.imports.records import AnnotatedRecord, SpanRecord
from annotations.imports.span_files import PlacedSpans
from annotations.models import Label, Span
from annotations.permissions import Actor
from annotations.spans.offsets import check_offsets
from annotations.suggestions.imports import suggestions_after_import
from articles.importers import ArticleRecord, ImportFailure
from articles.models import Article, body_sha256
from articles.services import articles_import


@dataclass
class CorpusImportResult:
    created_count: int = 0
    duplicates: list[tuple[ArticleRecord, str]] = field(default_factory=list)
    span_count: int = 0
    layered_span_count: int = 0  # of span_count: spans added to articles already there (or earlier in the import)
    layered_article_count: int = 0
    present_span_count: int = 0  # spans the corpus already held (same article, label, offsets and annotator)
    created_users: list[str] = field(default_factory=list)

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)


class _DryRun(Exception):
    pass


def corpus_import(
    *,
    records: list[ArticleRecord],
    default_annotator: str | None = None,
    user_map: Mapping[str, str] | None = None,
    create_users: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CorpusImportResult:
    """Import articles and the spans they carry in one transaction; a dry run rolls everything back.

    A record whose text is already stored (or came earlier in the import) is not stored again, but its spans are
    added to that article under their annotators: another layer. Spans already present are counted, not added.
    Annotators are users by ``user_map`` (theirs to our username), username or email; unknown ones are refused
    all together, or created inactive without a password with ``create_users``.
    """
    result = CorpusImportResult()
    try:
        with transaction.atomic(), pghistory.context(action="corpus_import"):
            # pghistory.context groups the import's history events; pgtrigger.ignore is set on every connection
            # (newsnotes/database.py) so the history triggers trap no error per row.
            placed = [r for r in records if isinstance(r, PlacedSpans)]
            records = [r for r in records if not isinstance(r, PlacedSpans)]
            imported = articles_import(records=records, progress=progress)
            result.created_count = imported.created_count
            result.duplicates = imported.duplicates
            _import_statuses(imported.created)
            targets = [*imported.created, *_layered(imported.duplicates), *_placed(placed)]
            users = _Users(default_annotator=default_annotator, user_map=user_map or {}, create=create_users)
            _import_spans(targets, users=users, result=result, fresh={a.pk for _, a in imported.created})
            result.created_users = users.created
            # Boilerplate families and plug-ins check the new articles once this commits (never on a dry run).
            suggestions_after_import(article_ids=[article.pk for _, article in imported.created])
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


def _layered(duplicates: list[tuple[ArticleRecord, str]]) -> list[tuple[ArticleRecord, Article]]:
    """The stored article for each duplicate record that carries spans; refused where its text differs."""
    carrying = [r for r, _ in duplicates if isinstance(r, AnnotatedRecord) and r.spans]
    if not carrying:
        return []
    stored = {a.body_sha256: a for a in Article.objects.filter(body_sha256__in={body_sha256(r.body) for r in carrying})}
    out: list[tuple[ArticleRecord, Article]] = []
    for record in carrying:
        article = stored.get(body_sha256(record.body))
        if article is None:
            raise ImportFailure(
                record.location,
                None,
                f"url {record.url} is in the corpus with a different text, so the {len(record.spans)} span(s) "
                "given for this text have no article to go on; import its text under another url",
            )
        out.append((record, article))
    return out


def _placed(records: list[PlacedSpans]) -> list[tuple[ArticleRecord, Article]]:
    """The article each span file's group of spans belongs on: by id, then url, then the spans' text."""
    out: list[tuple[ArticleRecord, Article]] = []
    for record in records:
        article = _find_article(record)
        record.body = article.body
        out.append((record, article))
    return out


def _fits(article: Article, record: PlacedSpans) -> bool:
    return all(
        0 <= span.start < span.end <= len(article.body)
        and (span.text is None or article.body[span.start : span.end] == span.text)
        for span in record.spans
    )


def _find_article(record: PlacedSpans) -> Article:
    tried = []
    if record.article_id is not None:
        tried.append(f"id {record.article_id}")
        article = Article.objects.filter(pk=record.article_id).first()
        if article is not None and (not record.url or article.url in (None, record.url)) and _fits(article, record):
            return article
    if record.url:
        tried.append(f"url {record.url}")
        article = Article.objects.filter(url=record.url).first()
        if article is not None and _fits(article, record):
            return article
    if record.quotes:
        prefix, exact, suffix = max(record.quotes, key=lambda q: len("".join(q)))
        tried.append(f"the quote {exact[:40]!r} in context")
        found = list(Article.objects.filter(body__contains=prefix + exact + suffix)[:2])
    else:
        tried.append(f"the title {record.title[:60]!r}")
        found = list(Article.objects.filter(title=record.title)[:2]) if record.title else []
    if len(found) == 1 and _fits(found[0], record):
        return found[0]
    raise ImportFailure(
        record.location,
        None,
        f"no article in the corpus holds these {len(record.spans)} span(s) at their offsets (looked up by "
        f"{', then '.join(tried)}); span files carry no article text, so import the articles first",
    )


class _Users:
    """Annotator names in a file to users: ``--user-map`` first, then username, then email."""

    def __init__(self, *, default_annotator: str | None, user_map: Mapping[str, str], create: bool) -> None:
        self.default_annotator = default_annotator
        self.user_map = dict(user_map)
        self.create = create
        self.created: list[str] = []
        self.found: dict[tuple[str, bool], Actor] = {}

    def name_for(self, span: SpanRecord, where: str) -> tuple[str, bool]:
        if span.annotator:
            return span.annotator, span.annotator_is_id
        if self.default_annotator:
            return self.default_annotator, False
        if span.annotator_from_file:
            return span.annotator_from_file, False
        raise ImportFailure(where, None, "span has no annotator; pass --annotator USERNAME")

    def resolve(self, wanted: dict[tuple[str, bool], str]) -> None:
        """Find every user at once, so that one message lists every unknown annotator."""
        User = get_user_model()
        ids = {name for name, is_id in wanted if is_id and name not in self.user_map}
        if len(ids) == 1 and self.default_annotator:
            # One Label Studio user made every annotation: --annotator names them, nothing is merged. With two or
            # more, one name would merge their layers, so only --user-map will do.
            self.user_map[ids.pop()] = self.default_annotator
        unknown: list[tuple[str, bool, str]] = []
        for (name, is_id), where in wanted.items():
            ours = self.user_map.get(name)
            if ours is not None:
                user = User.objects.filter(**{User.USERNAME_FIELD: ours}).first()
                if user is None:
                    raise ImportFailure(where, None, f"--user-map maps {name!r} to {ours!r}, which is no user here")
            elif is_id:
                user = None
            else:
                user = (
                    User.objects.filter(**{User.USERNAME_FIELD: name}).first()
                    or User.objects.filter(email__iexact=name).order_by("pk").first()
                )
            if user is None:
                unknown.append((name, is_id, where))
            else:
                self.found[(name, is_id)] = user
        unknown_ids = [name for name, is_id, _ in unknown if is_id]
        if unknown_ids or (unknown and not self.create):
            described = ", ".join(
                f"{name!r} ({'a Label Studio user id' if is_id else 'first at ' + where})"
                for name, is_id, where in unknown
            )
            advice = (
                "map Label Studio's user ids to our usernames with --user-map FILE (CSV rows theirs,ours)"
                if unknown_ids
                else "create them, map them with --user-map FILE (CSV rows theirs,ours), pass --annotator, "
                "or pass --create-users"
            )
            raise ImportFailure(unknown[0][2], None, f"unknown annotator(s): {described}; {advice}")
        for name, _, _ in unknown:
            self.found[(name, False)] = self._create(name)

    def _create(self, name: str) -> Actor:
        User = get_user_model()
        local = name.split("@", 1)[0] if "@" in name else name
        username = local if not User.objects.filter(**{User.USERNAME_FIELD: local}).exists() else name
        user = User(**{User.USERNAME_FIELD: username}, email=name if "@" in name else "", is_active=False)
        user.set_unusable_password()
        user.save()
        self.created.append(username)
        return user


def _import_spans(
    targets: list[tuple[ArticleRecord, Article]], *, users: _Users, result: CorpusImportResult, fresh: set[int]
) -> None:
    annotated = [(record, article) for record, article in targets if isinstance(record, AnnotatedRecord)]
    if not any(record.spans for record, _ in annotated):
        return
    labels = {label.name.lower(): label for label in Label.objects.all()}
    labels.update({label.slug: label for label in labels.values()})
    wanted: dict[tuple[str, bool], str] = {}
    for record, _ in annotated:
        for span in record.spans:
            wanted.setdefault(users.name_for(span, record.location), record.location)
    users.resolve(wanted)
    layered = [article.pk for _, article in annotated if article.pk not in fresh]
    seen: set[tuple] = set(
        Span.objects.filter(article_id__in=layered).values_list(
            "article_id", "label_id", "start", "end", "annotator_id"
        )
    )
    spans: list[Span] = []
    sources: list[SpanRecord] = []
    grown: set[int] = set()
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
            annotator = users.found[users.name_for(span, record.location)]
            key = (article.pk, label.pk, start, end, annotator.pk)
            if key in seen:
                result.present_span_count += 1
                continue
            seen.add(key)
            if article.pk not in fresh:
                grown.add(article.pk)
                result.layered_span_count += 1
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
    result.span_count = len(spans)
    result.layered_article_count = len(grown)


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
