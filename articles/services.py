"""Writes to the corpus. Every function here is the one way its change is made."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.copy import Copy, FileWriter

from articles.importers import ArticleRecord, ImportFailure, normalise_newlines
from articles.models import SEARCH_DOCUMENT_SQL, Article, Source, body_sha256

# Other apps may forbid changing an article's body (annotations: once spans point into it) with a database
# trigger that raises a check violation naming a constraint that starts with this prefix; its message says why.
# The corpus itself knows nothing of what locks it.
BODY_LOCK_PREFIX = "article_body_locked"


@transaction.atomic
def article_update(*, article: Article, **fields) -> Article:
    """Change an article's fields; a new body is refused while a body lock (e.g. existing spans) holds."""
    if "body" in fields:
        body = normalise_newlines(fields["body"])
        if body != article.body:
            if not body.strip():
                raise ValidationError({"body": "The body cannot be empty."})
            fields["body"] = body
            fields["body_sha256"] = body_sha256(body)
        else:
            del fields["body"]
    for name, value in fields.items():
        setattr(article, name, value)
    if fields:
        article.full_clean(exclude=["source"])
        try:
            with transaction.atomic():
                article.save(update_fields=list(fields))
        except IntegrityError as error:
            diag = getattr(error.__cause__, "diag", None)
            if diag is not None and (diag.constraint_name or "").startswith(BODY_LOCK_PREFIX):
                raise ValidationError({"body": diag.message_primary}) from None
            raise
    return article


# PostgreSQL's full-text vector holds at most 1 MB. It takes at most about 4 bytes per byte of text (short
# distinct words), so shorter texts cannot reach it and only longer ones are tried in the database.
TSVECTOR_LIMIT_BYTES = 1_048_575
TSVECTOR_SAFE_TEXT_BYTES = TSVECTOR_LIMIT_BYTES // 5


def article_text_problem(*, title: str, body: str) -> str | None:
    """Why PostgreSQL could not index this title and body for full-text search, or None. Writes nothing."""
    if len(title.encode()) + len(body.encode()) < TSVECTOR_SAFE_TEXT_BYTES:
        return None
    try:
        # The stored vector's own expression (articles.models.SEARCH_DOCUMENT_SQL) on these values; a
        # savepoint keeps the caller's transaction usable when it fails.
        with transaction.atomic(), connection.cursor() as cursor:
            expression = SEARCH_DOCUMENT_SQL.format(title="%(title)s::text", body="%(body)s::text")
            cursor.execute(f"SELECT length({expression})", {"title": title, "body": body})
    except DatabaseError as err:
        if getattr(err.__cause__, "sqlstate", None) != "54000":  # program_limit_exceeded
            raise
        return (
            "the text has too many distinct words for PostgreSQL's full-text index (its limit is 1 MB); "
            "split the article"
        )
    return None


def article_duplicate_reason(*, body: str, url: str | None, exclude_pk: int | None = None) -> str | None:
    """Why an article with this text or url would duplicate one in the corpus, or None."""
    others = Article.objects.exclude(pk=exclude_pk) if exclude_pk else Article.objects.all()
    same_text = others.filter(body_sha256=body_sha256(normalise_newlines(body))).only("id", "title").first()
    if same_text:
        return f"The same text is already in the corpus: “{same_text.title}” (#{same_text.pk})."
    same_url = others.filter(url=url).only("id", "title").first() if url else None
    if same_url:
        return f"This url is already in the corpus: “{same_url.title}” (#{same_url.pk})."
    return None


@transaction.atomic
def article_create(*, title: str, body: str, **fields) -> Article:
    """Add one article (the admin's add form); text or url already in the corpus is refused."""
    body = normalise_newlines(body)
    if not body.strip():
        raise ValidationError({"body": "The body cannot be empty."})
    reason = article_duplicate_reason(body=body, url=fields.get("url"))
    if reason:
        raise ValidationError(reason)
    article = Article(title=title.strip(), body=body, body_sha256=body_sha256(body), **fields)
    article.full_clean()
    article.save()
    return article


@transaction.atomic
def article_set_status(*, article: Article, status: str) -> Article:
    if status not in Article.Status.values:
        raise ValidationError(f"Unknown status {status!r}.")
    if article.status != status:
        article.status = status
        article.save(update_fields=["status"])
    return article


def source_for(name: str) -> Source:
    domain = name.strip().lower()
    source, _ = Source.objects.get_or_create(domain=domain, defaults={"name": name.strip()})
    return source


@dataclass
class ImportResult:
    created: list[tuple[ArticleRecord, Article]] = field(default_factory=list)
    duplicates: list[tuple[ArticleRecord, str]] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return len(self.created)

    @property
    def duplicate_count(self) -> int:
        return len(self.duplicates)


def articles_plan(
    records: Iterable[ArticleRecord],
) -> tuple[list[tuple[ArticleRecord, str]], list[tuple[ArticleRecord, str]]]:
    """Split records into (new, duplicate) without writing; each comes with its body hash or the reason."""
    records = list(records)
    hashes = {body_sha256(r.body): r for r in records}
    urls = {r.url for r in records if r.url}
    known_hashes = set(Article.objects.filter(body_sha256__in=list(hashes)).values_list("body_sha256", flat=True))
    known_urls = set(Article.objects.filter(url__in=list(urls)).values_list("url", flat=True))
    fresh: list[tuple[ArticleRecord, str]] = []
    duplicates: list[tuple[ArticleRecord, str]] = []
    seen_hashes: dict[str, str] = {}
    seen_urls: dict[str, str] = {}
    for record in records:
        digest = body_sha256(record.body)
        if digest in known_hashes:
            duplicates.append((record, "same text as an article already in the corpus"))
        elif record.url and record.url in known_urls:
            duplicates.append((record, f"url {record.url} is already in the corpus"))
        elif digest in seen_hashes:
            duplicates.append((record, f"same text as {seen_hashes[digest]}"))
        elif record.url and record.url in seen_urls:
            duplicates.append((record, f"same url as {seen_urls[record.url]}"))
        else:
            problem = article_text_problem(title=record.title, body=record.body)
            if problem:
                raise ImportFailure(record.location, None, problem)
            seen_hashes[digest] = record.location
            if record.url:
                seen_urls[record.url] = record.location
            fresh.append((record, digest))
    return fresh, duplicates


def _stored(column: str, values: list[str]) -> set[str]:
    """Which of ``values`` the corpus holds in ``column`` (a unique column: body_sha256 or url).

    One array parameter: ``__in`` with a batch of 1,000 values built and bound 1,000 placeholders (a twentieth
    of an import's Python)."""
    if not values:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {Article._meta.db_table} WHERE {column} = ANY(%s)",  # noqa: S608 (our two names)
            [values],
        )
        return {value for (value,) in cursor.fetchall()}


def sequence_ids(cursor: Any, table: str, count: int) -> list[int]:
    """``count`` new ids from ``table``'s id sequence, ascending, in one statement: rows written with ``COPY`` get
    their ids first, so whatever points at them (a claim's speaker, an import's layers) is set before writing.

    The statement starts with WITH, not SELECT: Django's cursor wrappers (pghistory's context, which names the
    import in every history row) prepend their session variables to it, and a ``COPY`` that follows on the raw
    cursor runs past them.
    """
    cursor.execute(
        # The sequence's name looked up once (a scalar subquery), not per id: 20,000 ids took 45 ms, now 7 ms.
        "WITH ids AS (SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id'))::regclass) AS id "
        "FROM generate_series(1, %s)) "
        "SELECT id FROM ids ORDER BY id",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def column_types(table: str, columns: Sequence[str]) -> list[int]:
    """The type oids of ``table``'s ``columns`` (as a ``COPY`` names them, ``"end"`` quoted), for ``copy_data``:
    read from the catalog, so a migration that widens a column changes what is sent with it."""
    names = [column.strip('"') for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.atttypid FROM unnest(%s::text[]) WITH ORDINALITY AS c(name, n) "
            "JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.name AND NOT a.attisdropped "
            "ORDER BY c.n",
            [names, table],
        )
        types = [oid for (oid,) in cursor.fetchall()]
    if len(types) != len(names):
        raise LookupError(f"{table} lacks some of the columns {', '.join(names)}")
    return types


def copy_data(cursor: Any, rows: Iterable[Sequence[Any]], types: Sequence[int]) -> bytes:
    """``rows`` as the data of a binary ``COPY … FROM STDIN`` (``copy_in``), formatted by psycopg for the column
    ``types`` (``column_types``; a JSON column takes the Python value), into memory: nothing is sent.

    Binary, because neither side then writes or parses text: 200,000 span rows took psycopg 0.50 s to format as
    text and 0.15 s in binary, and PostgreSQL 0.21 s and 0.12 s to read. Into memory, because the corpus import
    formats a batch in its main thread while its writer thread streams the batch before: formatted in the writer,
    ~1 s of an import's 6 s of writing held Python's interpreter lock, which the other threads waited for.
    ``cursor``: a psycopg cursor of the connection that will copy the data (only its adapters are used, so it may
    sit idle in this thread while that connection works in another). The caller's integers must fit their columns:
    a binary smallint or integer is written modulo its size, not refused (``--editors-per-article`` is checked for
    this; ids, offsets within a bounded body and foreign keys fit by construction)."""
    buffer = io.BytesIO()
    with Copy(cursor, binary=True, writer=FileWriter(buffer)) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


def copy_in(cursor: Any, table: str, columns: Sequence[str], data: bytes) -> None:
    """Write ``data`` (``copy_data``'s) into ``table``'s ``columns`` with one ``COPY`` on ``cursor`` (psycopg's own:
    nothing else may run on the connection meanwhile). Every trigger and constraint runs as for an INSERT."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(data)


class ArticleWriter:
    """Stores new articles batch by batch inside the caller's transaction, with PostgreSQL ``COPY``.

    Duplicates (same body hash or url as an article already in the corpus, or earlier in the import) are
    skipped and reported as ``articles_plan`` reports them. It keeps only hashes and urls between batches, so
    an import of any size holds one batch of texts in memory. Ids are taken from the table's sequence before
    the ``COPY``, so the caller knows them without reading the rows back; every trigger and constraint runs
    as for an INSERT.
    """

    COLUMNS = (
        "id",
        "title",
        "source_id",
        "url",
        "byline",
        "published_at",
        "language",
        "body",
        "body_sha256",
        "status",
        "imported_at",
        "editors_per_article",
        "metadata",
    )

    def __init__(self) -> None:
        self.seen_hashes: dict[str, str] = {}
        self.seen_urls: dict[str, str] = {}
        self.sources: dict[str, int] = {}
        self.created_count = 0
        self.types: list[int] = []  # of COLUMNS, read with the first batch's statements (``copy_data``)

    def plan(
        self, records: list[ArticleRecord], *, digests: list[str] | None = None
    ) -> tuple[list[tuple[ArticleRecord, str]], list[tuple[ArticleRecord, str]]]:
        """Split a batch into (new, duplicate) as ``articles_plan`` does, counting earlier batches as earlier in
        the import (not as already in the corpus, though they are stored by now). ``digests``: the records'
        ``body_sha256`` when the caller has them already."""
        if digests is None:
            digests = [body_sha256(r.body) for r in records]
        urls = [r.url for r in records if r.url]
        known_hashes = _stored("body_sha256", digests) - self.seen_hashes.keys()
        known_urls = _stored("url", urls) - self.seen_urls.keys()
        fresh: list[tuple[ArticleRecord, str]] = []
        duplicates: list[tuple[ArticleRecord, str]] = []
        for record, digest in zip(records, digests, strict=True):
            if digest in known_hashes:
                duplicates.append((record, "same text as an article already in the corpus"))
            elif record.url and record.url in known_urls:
                duplicates.append((record, f"url {record.url} is already in the corpus"))
            elif digest in self.seen_hashes:
                duplicates.append((record, f"same text as {self.seen_hashes[digest]}"))
            elif record.url and record.url in self.seen_urls:
                duplicates.append((record, f"same url as {self.seen_urls[record.url]}"))
            else:
                problem = article_text_problem(title=record.title, body=record.body)
                if problem:
                    raise ImportFailure(record.location, None, problem)
                self.seen_hashes[digest] = record.location
                if record.url:
                    self.seen_urls[record.url] = record.location
                fresh.append((record, digest))
        return fresh, duplicates

    def _source_id(self, name: str | None) -> int | None:
        if not name:
            return None
        key = name.strip().lower()
        if key not in self.sources:
            self.sources[key] = source_for(name).pk
        return self.sources[key]

    def write(
        self,
        fresh: list[tuple[ArticleRecord, str]],
        *,
        fields: Callable[[ArticleRecord], dict[str, object]] | None = None,
    ) -> list[int]:
        """Store planned records; their ids, in order. ``fields`` gives a record's ``status`` or
        ``editors_per_article`` (what the caller knows of it beyond the corpus' columns)."""
        ids, rows = self.prepared(fresh, fields=fields)
        if rows:
            with connection.cursor() as cursor:
                self.copy(cursor.cursor, self.formatted(cursor.cursor, rows))
        return ids

    def prepared(
        self,
        fresh: list[tuple[ArticleRecord, str]],
        *,
        fields: Callable[[ArticleRecord], dict[str, object]] | None = None,
    ) -> tuple[list[int], list[tuple]]:
        """The ids and ``COPY`` rows of planned records, written by ``copy`` once ``formatted``:
        ``write`` in steps, for a caller that runs the ``COPY`` elsewhere (the corpus import's writer thread) while
        it goes on with its ids. The statements are here: the sources and the ids from the sequence."""
        if not fresh:
            return [], []
        now = timezone.now()
        sources = [self._source_id(record.source) for record, _ in fresh]
        with connection.cursor() as cursor:
            ids = sequence_ids(cursor, Article._meta.db_table, len(fresh))
        if not self.types:
            self.types = column_types(Article._meta.db_table, self.COLUMNS)
        rows = []
        for pk, source, (record, digest) in zip(ids, sources, fresh, strict=True):
            extra = fields(record) if fields else {}
            rows.append(
                (
                    pk,
                    record.title,
                    source,
                    record.url,
                    record.byline,
                    record.published_at,
                    record.language,
                    record.body,
                    digest,
                    extra.get("status") or Article.Status.NEW,
                    now,
                    extra.get("editors_per_article"),
                    record.metadata,
                )
            )
        self.created_count += len(ids)
        return ids, rows

    def formatted(self, cursor: Any, rows: list[tuple]) -> bytes:
        """``prepared`` rows as ``COPY`` data (``copy_data``: no statement, ``cursor`` lends its adapters)."""
        return copy_data(cursor, rows, self.types)

    @classmethod
    def copy(cls, cursor: Any, data: bytes) -> None:
        """Write ``formatted`` rows with one ``COPY`` on ``cursor`` (``copy_in``)."""
        copy_in(cursor, Article._meta.db_table, cls.COLUMNS, data)


@transaction.atomic
def articles_import(
    *, records: Iterable[ArticleRecord], progress: Callable[[int], None] | None = None, batch_size: int = 500
) -> ImportResult:
    """Store new articles, skip duplicates (same body hash or url); all or nothing."""
    writer = ArticleWriter()
    fresh, duplicates = writer.plan(list(records))
    result = ImportResult(duplicates=duplicates)
    for start in range(0, len(fresh), batch_size):
        batch = fresh[start : start + batch_size]
        ids = writer.write(batch)
        stored = Article.objects.in_bulk(ids)
        result.created.extend((record, stored[pk]) for (record, _), pk in zip(batch, ids, strict=True))
        if progress:
            progress(len(batch))
    return result
