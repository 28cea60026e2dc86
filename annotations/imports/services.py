"""``corpus_import``: articles from annotated (or plain) files, with their spans and statuses, all or nothing."""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from typing import Any, NamedTuple

import pghistory
import psycopg
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotations.imports.records import AnnotatedRecord, SpanRecord
from annotations.imports.span_files import PlacedSpans
from annotations.imports.writer import CopyWriter, Write
from annotations.models import Label, Span
from annotations.permissions import Actor
from annotations.spans.offsets import check_offsets
from annotations.suggestions.imports import suggestions_after_import
from annotations.workflow.selectors import takes_slots
from annotations.workflow.services import imported_slots_statement, slots_for_imported
from articles.importers import BATCH_RECORDS, ArticleRecord, ImportFailure, batches
from articles.indexing import search_deferred, search_fill
from articles.models import Article, body_sha256
from articles.services import ArticleWriter, column_types, copy_data, copy_in, sequence_ids

# What the column holds (the model field's range on this database: 32,767 for PostgreSQL's smallint), checked before
# the binary COPY, which would wrap a larger k round.
MAX_EDITORS_PER_ARTICLE = connection.ops.integer_field_range(
    Article._meta.get_field("editors_per_article").get_internal_type()
)[1]


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
    records: Iterable[ArticleRecord],
    default_annotator: str | None = None,
    user_map: Mapping[str, str] | None = None,
    create_users: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    editors_per_article: int | None = None,
    batch_size: int = BATCH_RECORDS,
    defer_search: bool = False,
) -> CorpusImportResult:
    """Import articles and the spans they carry in one transaction; a dry run rolls everything back.

    ``records`` may be any iterable (a reader's generator): they are taken a batch at a time (``batch_size``
    records or ``BATCH_CHARS`` of text), checked and written with ``COPY``, so an import of any size holds one
    batch in memory; a failure anywhere rolls every batch back. ``progress`` is called with each batch's record
    count. A record whose text is already stored (or came earlier in the import) is not stored again, but its
    spans are added to that article under their annotators: another layer. Spans already present are counted,
    not added. Annotators are users by ``user_map`` (theirs to our username), username or email; unknown ones are
    refused, or created inactive without a password with ``create_users``. ``editors_per_article`` stores k on
    every article created (else its source's or the site's applies); the editors of imported spans get their
    slots (``slots_for_imported``). ``defer_search`` leaves the new articles' full-text vectors to a job queued
    with them (``articles.indexing``): the commit comes sooner, search finds them once the worker has run it.
    """
    if editors_per_article is not None and editors_per_article < 1:
        raise ValidationError("--editors-per-article must be at least 1.")
    if editors_per_article is not None and editors_per_article > MAX_EDITORS_PER_ARTICLE:
        raise ValidationError(f"--editors-per-article must be at most {MAX_EDITORS_PER_ARTICLE}.")
    result = CorpusImportResult()
    try:
        with transaction.atomic(), pghistory.context(action="corpus_import"):
            # pghistory.context groups the import's history events; pgtrigger.ignore is set on every connection
            # (newsnotes/database.py) so the history triggers trap no error per row.
            with (
                search_deferred() if defer_search else contextlib.nullcontext(),
                _keys_checked_per_statement(),
                CopyWriter() as copies,  # joined on the way out: no write runs when the transaction ends
            ):
                run = _Run(
                    users=_Users(default_annotator=default_annotator, user_map=user_map or {}, create=create_users),
                    result=result,
                    editors_per_article=editors_per_article,
                    copies=copies,
                )
                for batch in _read_ahead(batches(records, size=batch_size)):
                    run.add(batch)
                    if progress:
                        progress(len(batch))
                run.finish()
            result.created_users = run.users.created
            if dry_run:
                raise _DryRun
            # The vectors, then boilerplate families and plug-ins: jobs queued with the articles (run after commit).
            if defer_search and run.created_ids:
                search_fill.enqueue()
            suggestions_after_import(article_ids=run.created_ids)
    except _DryRun:
        pass
    return result


@contextlib.contextmanager
def _keys_checked_per_statement() -> Iterator[None]:
    """The foreign keys (all DEFERRABLE INITIALLY DEFERRED, Django's way) checked at the end of each COPY instead
    of at the commit: the same checks, but PostgreSQL runs a batch's while the reader prepares the next one,
    instead of all of them (1.7 s for 200,000 spans) at the commit with nothing left to overlap; and it no longer
    queues three pending events per span until the end of an import of any size. Deferred again afterwards for
    the rest of the caller's transaction (an aborted one restores the setting itself)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _read_ahead(batches: Iterator[list[ArticleRecord]]) -> Iterator[list[ArticleRecord]]:
    """``batches``, the next one read in a thread while the caller stores this one: storing mostly waits on
    PostgreSQL (the COPYs, the full-text vector, the triggers), which releases the GIL, so reading, parsing and
    resolving the next batch costs no wall time. At most two batches are held; a reader's ``ImportFailure`` is
    raised here, in order, after the batches before it; when the caller stops (a failure, a dry run) the reader
    stops at its next batch. The reader runs in another thread, so on another database connection, outside the
    import's transaction: what ``batches`` does must never query (the readers parse and resolve offsets only)."""
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(("batch", batch)):
                    return
            put(("end", None))
        except BaseException as failure:  # handed to the caller, raised there in order
            put(("failure", failure))

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "failure":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()


@dataclass
class _Target:
    """A record whose spans go on a stored article (created by this import, or already there)."""

    record: ArticleRecord
    article_id: int
    body: str


class _Run:
    """One import, a batch at a time. Between batches it keeps hashes, urls and ids, never texts.

    A batch's statements (duplicates, ids, users, labels) run first; then the previous batch's ``COPY``s go to
    the writer thread (``annotations.imports.writer``) and run while this batch's spans are checked and laid out
    here; this batch's are held until the next batch has run its statements (or ``finish``). What must read the
    written rows (slots; articles found by a layer or a span file) waits for the writes first.
    """

    def __init__(
        self, *, users: _Users, result: CorpusImportResult, editors_per_article: int | None, copies: CopyWriter
    ) -> None:
        self.users = users
        self.result = result
        self.editors_per_article = editors_per_article
        self.writer = ArticleWriter()
        self.copies = copies
        self.held: tuple[Write, Callable[[], None]] | None = None  # a batch's writes, and what follows them
        self.written: Callable[[], None] | None = None  # what follows the writes in flight
        self.created_ids: list[int] = []
        self.created: set[int] = set()
        self.grown: set[int] = set()
        self.labels: dict[str, Label] | None = None
        self.takes_slots: dict[int, bool] = {}  # annotator id: whether their spans give them a slot
        # Formats the batches' COPY data in this thread (``copy_data``) with the adapters of the import's connection.
        self.formatting = connection.connection.cursor()
        self.span_types: list[int] = []  # of SPAN_COLUMNS, read with the first spans' statements

    def _fields(self, record: ArticleRecord) -> dict[str, object]:
        # Annotated exports say how far each article got (done, reviewed...); keep that.
        return {"status": getattr(record, "status", ""), "editors_per_article": self.editors_per_article}

    def _idle(self) -> None:
        """Until the writes in flight are done (raising what they raised), then the statements that follow them."""
        self.copies.wait()
        if self.written is not None:
            after, self.written = self.written, None
            after()

    def _release(self) -> None:
        """The held batch's writes to the writer thread."""
        self._idle()
        if self.held is not None:
            (write, after), self.held = self.held, None
            self.copies.submit(write)
            self.written = after

    def finish(self) -> None:
        self._release()
        self._idle()

    def add(self, batch: list[ArticleRecord]) -> None:
        placed = [r for r in batch if isinstance(r, PlacedSpans)]
        plain = [r for r in batch if not isinstance(r, PlacedSpans)]
        # Hashed while the writer still writes the batch before; the statements below wait for it.
        digests = [body_sha256(r.body) for r in plain]
        self._idle()
        fresh, duplicates = self.writer.plan(plain, digests=digests)
        # Layers and span files find their articles among the stored ones, which may be the held batch's or this
        # batch's own: those are written first, here.
        stored_first = bool(placed) or any(isinstance(r, AnnotatedRecord) and r.spans for r, _ in duplicates)
        if stored_first:
            self.finish()
        ids, article_rows = self.writer.prepared(fresh, fields=self._fields)
        if stored_first and article_rows:
            data = self.writer.formatted(self.formatting, article_rows)
            self.copies.submit(
                partial(
                    _copied, table=ARTICLE_TABLE, columns=ArticleWriter.COLUMNS, data=data, places=_Places.of(fresh)
                )
            )
            self.copies.wait()
            article_rows = []
        self.created_ids.extend(ids)
        self.created.update(ids)
        self.result.created_count += len(ids)
        targets = [_Target(record, pk, record.body) for (record, _), pk in zip(fresh, ids, strict=True)]
        targets += _layered(duplicates) + _placed(placed)
        # A duplicate is reported by its location, title and url; its text and spans need not stay in memory.
        self.result.duplicates.extend(
            (ArticleRecord(title=r.title, body="", location=r.location, url=r.url), reason) for r, reason in duplicates
        )
        batch_created = set(ids)
        annotated = [t for t in targets if isinstance(t.record, AnnotatedRecord) and t.record.spans]
        lookups = self._span_lookups(annotated, batch_created=batch_created)
        span_ids = self._span_ids(annotated)
        self._release()  # the statements are done: the previous batch's writes run while this one is laid out
        try:
            span_rows = self._span_rows(annotated, lookups)
            # Formatted here, while the writer thread streams the batch before (``copy_data``).
            article_data = self.writer.formatted(self.formatting, article_rows) if article_rows else b""
            span_data = _span_data(self.formatting, span_rows, span_ids, self.span_types) if span_rows else b""
        except BaseException:
            self.copies.wait()  # an earlier batch's failure is raised first, as it came first
            raise
        layered = sorted({t.article_id for t in targets} - batch_created)

        # Articles created in this batch hold only the spans just written, so their editors' slots are made from
        # the rows laid out here, by the writer after the spans; layers on earlier ones are read back (after).
        pairs = {(values[0], values[5]) for _, values in span_rows if values[0] in batch_created}
        editors = {user for _, user in pairs if self.takes_slots[user]}
        slots = imported_slots_statement(editors=editors, pairs=pairs) if editors else None

        # Where each COPY row came from, should the database refuse one: compact, since what the rows held (texts,
        # records) is not kept for the write.
        article_places = _Places.of(fresh)
        span_places = _SpanPlaces.of(targets, span_rows, self._label_map()) if span_data else None

        def write(cursor: Any) -> None:
            if article_data:
                _copied(cursor, ARTICLE_TABLE, ArticleWriter.COLUMNS, article_data, article_places)
            if span_places is not None:
                _copied(cursor, Span._meta.db_table, SPAN_COLUMNS, span_data, span_places)
            if slots is not None:
                cursor.execute(*slots)

        def after() -> None:
            slots_for_imported(article_ids=layered)

        self.held = (write, after)

    def _label_map(self) -> dict[str, Label]:
        if self.labels is None:
            labels = {label.name.lower(): label for label in Label.objects.all()}
            labels.update({label.slug: label for label in labels.values()})
            self.labels = labels
        return self.labels

    def _span_ids(self, annotated: list[_Target]) -> list[int]:
        """Ids from the span sequence for every span the targets carry, taken with the batch's other statements so
        that its rows are laid out and formatted with their ids while the writer thread is busy. Spans found
        present are not written and leave their ids unused: gaps, as a sequence leaves after any rollback."""
        count = sum(len(t.record.spans) for t in annotated if isinstance(t.record, AnnotatedRecord))
        if not count:
            return []
        if not self.span_types:
            self.span_types = column_types(Span._meta.db_table, SPAN_COLUMNS)
        with connection.cursor() as cursor:
            return sequence_ids(cursor, Span._meta.db_table, count)

    def _span_lookups(self, annotated: list[_Target], *, batch_created: set[int]) -> _Lookups:
        """What the spans' rows need from the database: annotators, labels, the spans already on stored articles."""
        if not annotated:
            return _Lookups([], {}, {}, set())
        labels = self._label_map()
        users = self.users
        wanted: dict[tuple[str, bool], str] = {}
        # Each span's annotator, named once (``name_for`` per span, twice, was a tenth of the loop below).
        names: list[list[tuple[str, bool]]] = []
        for target in annotated:
            location = target.record.location
            mine = [users.name_for(span, location) for span in target.record.spans]  # type: ignore[attr-defined]
            names.append(mine)
            for name in mine:
                if name not in users.found:
                    wanted.setdefault(name, location)
        if wanted:
            users.resolve(wanted)
        for user in users.found.values():
            if user.pk not in self.takes_slots:
                self.takes_slots[user.pk] = takes_slots(user)  # reads their permissions: once per user
        annotator_ids = {name: user.pk for name, user in users.found.items()}
        label_ids = {name: label.pk for name, label in labels.items()}
        # Spans on articles stored before this batch (earlier in the corpus or in the import) may be there already
        # (``add`` has waited for the earlier batches' writes).
        earlier = {t.article_id for t in annotated if t.article_id not in batch_created}
        seen: set[tuple] = (
            set(
                Span.objects.filter(article_id__in=earlier).values_list(
                    "article_id", "label_id", "start", "end", "annotator_id"
                )
            )
            if earlier
            else set()
        )
        return _Lookups(names, annotator_ids, label_ids, seen)

    def _span_rows(self, annotated: list[_Target], lookups: _Lookups) -> list[tuple[SpanRecord, list]]:
        """Check the targets' spans and lay out their rows (no statement: the writer thread may be busy)."""
        if not annotated:
            return []
        labels = self._label_map()
        result = self.result
        names, annotator_ids, label_ids, seen = lookups
        rows: list[tuple[SpanRecord, list]] = []
        created = self.created
        for target, span_names in zip(annotated, names, strict=True):
            record, body, pk = target.record, target.body, target.article_id
            for span, name in zip(record.spans, span_names, strict=True):  # type: ignore[attr-defined]
                label_id = label_ids.get(span.label.lower())
                if label_id is None:
                    known = ", ".join(sorted({lb.name for lb in labels.values()}))
                    raise ImportFailure(record.location, None, f"unknown label {span.label!r}; known: {known}")
                try:
                    start, end, text = check_offsets(body=body, start=span.start, end=span.end, text=span.text)
                except ValidationError as err:
                    raise ImportFailure(
                        record.location, None, f"span {span.label} {span.start}-{span.end}: {err.messages[0]}"
                    ) from None
                annotator_id = annotator_ids[name]
                key = (pk, label_id, start, end, annotator_id)
                if key in seen:
                    result.present_span_count += 1
                    continue
                seen.add(key)
                if pk not in created:
                    self.grown.add(pk)
                    result.layered_span_count += 1
                origin = span.origin if span.origin in ORIGINS else Span.Origin.IMPORT
                rows.append((span, [pk, label_id, start, end, text, annotator_id, origin, span.note, span.attributes]))
        result.layered_article_count = len(self.grown)
        if not rows:
            return []
        if all(span.exported_id is not None for span, _ in rows):
            # Recreate spans in their exported id order: imported into an emptied database (sequences restarted),
            # they get their old ids back and a re-export is byte-identical (README: Exports, round trips).
            rows.sort(key=lambda row: row[0].exported_id or 0)
        result.span_count += len(rows)
        return rows


class _Lookups(NamedTuple):
    names: list[list[tuple[str, bool]]]  # each target's spans' annotator names
    annotator_ids: dict[tuple[str, bool], int]
    label_ids: dict[str, int]
    seen: set[tuple]  # (article, label, start, end, annotator) of the spans stored or laid out so far


ARTICLE_TABLE = Article._meta.db_table

# ``Span.Origin.values`` builds its list anew on every call (once per span, it was 10% of an import's Python).
ORIGINS = frozenset(Span.Origin.values)

SPAN_COLUMNS = (
    "id",
    "article_id",
    "label_id",
    "start",
    '"end"',
    "text",
    "annotator_id",
    "origin",
    "note",
    "attributes",
    "created_at",
    "updated_at",
)


def _span_data(cursor: Any, rows: list[tuple[SpanRecord, list]], ids: list[int], types: list[int]) -> bytes:
    """A batch of checked spans as ``COPY`` data (``copy_data``), with ids from the sequence (``_Run._span_ids``,
    ascending, the first ``len(rows)`` of them): ``*_span`` attributes (a claim's speaker) are pointed at the new
    ids and exported times kept before anything is written, so each span's history is one insert event. The
    database's own triggers (text = body[start:end], history) and constraints run on every row."""
    now = timezone.now()
    ids = ids[: len(rows)]
    renumbered = {
        span.exported_id: pk
        for (span, _), pk in zip(rows, ids, strict=True)
        if span.exported_id is not None and span.exported_id != pk
    }

    def formatted() -> Iterator[tuple]:
        for (span, values), pk in zip(rows, ids, strict=True):
            attributes = values[-1]
            if renumbered and attributes:
                attributes = {
                    key: renumbered.get(value, value)
                    if key.endswith("_span") and isinstance(value, int) and not isinstance(value, bool)
                    else value
                    for key, value in attributes.items()
                }
            yield (
                pk,
                *values[:-1],
                attributes or {},
                span.created_at or now,
                span.updated_at or now,
            )

    return copy_data(cursor, formatted(), types)


@dataclass(frozen=True)
class _Places:
    """The ``file:line`` of each row of an article ``COPY``."""

    locations: list[str]

    @classmethod
    def of(cls, fresh: list[tuple[ArticleRecord, str]]) -> _Places:
        return cls([record.location for record, _ in fresh])

    def __len__(self) -> int:
        return len(self.locations)

    def row(self, n: int) -> tuple[str, str]:
        """The location of the n-th row (from 1) and what it holds."""
        return self.locations[n - 1], "this article"


def _copied(cursor: Any, table: str, columns: Sequence[str], data: bytes, places: _Places | _SpanPlaces) -> None:
    """``copy_in``, a refusal of a row named by ``places`` (``_refusals_located``)."""
    with _refusals_located(places):
        copy_in(cursor, table, columns, data)


@dataclass(frozen=True)
class _SpanPlaces:
    """The record and the span of each row of a span ``COPY``: (article, label, start, end) four numbers a row."""

    records: dict[int, str]  # article id: the file:line of its (first) record in the batch
    keys: array
    label_names: dict[int, str]

    @classmethod
    def of(cls, targets: list[_Target], rows: list[tuple[SpanRecord, list]], labels: dict[str, Label]) -> _SpanPlaces:
        records: dict[int, str] = {}
        for target in targets:
            records.setdefault(target.article_id, target.record.location)
        keys = array("q", chain.from_iterable(values[:4] for _, values in rows))
        return cls(records, keys, {label.pk: label.name for label in labels.values()})

    def __len__(self) -> int:
        return len(self.keys) // 4

    def row(self, n: int) -> tuple[str, str]:
        article, label, start, end = self.keys[4 * (n - 1) : 4 * n]
        return self.records[article], f"span {self.label_names.get(label, label)} {start}-{end}"


_COPY_ROW = re.compile(r"^COPY \S+, line (\d+)", re.MULTILINE)


@contextlib.contextmanager
def _refusals_located(places: _Places | _SpanPlaces) -> Iterator[None]:
    """A ``COPY`` the database refuses for what a row holds (a unique key, a foreign key, a check, a value out of
    range) as an ``ImportFailure`` naming the row's record (PostgreSQL's error context numbers the row): the checks
    before each batch cannot see what another session stores meanwhile (a second import, a curator), nor a label
    deleted meanwhile. A refusal at the end of the ``COPY`` (a statement-level check) numbers no row: the batch's
    first and last records are named then. The import's transaction is rolled back as for any failure."""
    try:
        yield
    except (psycopg.IntegrityError, psycopg.DataError) as error:
        diag = error.diag
        reason = diag.message_primary or str(error).splitlines()[0]
        if diag.message_detail:
            reason += f" ({diag.message_detail.rstrip('.')})"
        if isinstance(error, psycopg.errors.UniqueViolation):
            reason += ": stored meanwhile by another session, after this import checked for duplicates"
        found = _COPY_ROW.search(diag.context or "")
        row = int(found.group(1)) if found else 0
        if 1 <= row <= len(places):
            location, subject = places.row(row)
        else:
            location = places.row(1)[0]
            subject = f"a row of the records up to line {places.row(len(places))[0].rsplit(':', 1)[-1]}"
        raise ImportFailure(location, None, f"the database refused {subject}: {reason}; nothing was imported") from None


def _layered(duplicates: list[tuple[ArticleRecord, str]]) -> list[_Target]:
    """The stored article for each duplicate record that carries spans; refused where its text differs."""
    carrying = [r for r, _ in duplicates if isinstance(r, AnnotatedRecord) and r.spans]
    if not carrying:
        return []
    stored = dict(
        Article.objects.filter(body_sha256__in={body_sha256(r.body) for r in carrying}).values_list("body_sha256", "id")
    )
    out: list[_Target] = []
    for record in carrying:
        pk = stored.get(body_sha256(record.body))
        if pk is None:
            raise ImportFailure(
                record.location,
                None,
                f"url {record.url} is in the corpus with a different text, so the {len(record.spans)} span(s) "
                "given for this text have no article to go on; import its text under another url",
            )
        out.append(_Target(record, pk, record.body))
    return out


def _placed(records: list[PlacedSpans]) -> list[_Target]:
    """The article each span file's group of spans belongs on: by id, then url, then the spans' text."""
    out: list[_Target] = []
    for record in records:
        article = _find_article(record)
        record.body = article.body
        out.append(_Target(record, article.pk, article.body))
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
