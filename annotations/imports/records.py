"""What an annotated reader yields: an article record with the spans (and status) its file carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from annotations.imports.offsets import AUTO, Document, Evidence, LineEnds, RawSpan, resolve
from articles.importers import (
    ArticleRecord,
    ImportFailure,
    batches,
    clean_text,
    normalise_newlines,
    parse_published,
)
from articles.models import ArticleStatus
from articles.validation import published_at_in_range


@dataclass
class SpanRecord:
    """A span carried by an annotated input (doccano, Label Studio, our own exports)."""

    start: int
    end: int
    label: str
    text: str | None = None
    annotator: str | None = None
    # Label Studio names its users by integer id (``completed_by``): only --user-map can say who that is.
    annotator_is_id: bool = False
    # Used when the span names no annotator and --annotator is not given: doccano's per-user files are named
    # after the user (``alice.jsonl``).
    annotator_from_file: str | None = None
    origin: str = "import"
    note: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    # Our own exports carry these; an import into an empty database then recreates spans identically.
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    exported_id: int | None = None  # the span's id in the export: spans are recreated in this order


@dataclass
class AnnotatedRecord(ArticleRecord):
    spans: list[SpanRecord] = field(default_factory=list)
    status: str = ""  # an Article.Status value from an annotated export; empty means "new"
    # Until ``spans_resolve``: the text as the file gives it (offsets count into it, CRLF and all), the spans
    # with offsets in a unit still to be decided, and what turns their code-point offsets into ``spans``.
    raw_body: str = ""
    pending: list[RawSpan] = field(default_factory=list)
    finish: Callable[[list[tuple[int, int]]], list[SpanRecord]] | None = None
    tool: str = ""
    default_unit: str = ""

    @classmethod
    def from_article(cls, record: ArticleRecord) -> AnnotatedRecord:
        return cls(**{f.name: getattr(record, f.name) for f in fields(ArticleRecord)})


def spans_resolve(
    records: list[ArticleRecord],
    *,
    offsets: str = AUTO,
    notify: Callable[[str], None] | None = None,
    evidence: dict[str, Evidence] | None = None,
) -> None:
    """Decide each tool's offset unit over all its files at once, then give every record its spans.

    Files given together by one tool (doccano's one file per user) share one unit: a span that only fits one way
    in bob's file settles alice's too. Texts with CRLF are stored with LF: offsets are taken in the text the file
    gives, then shifted by the CRs removed before them.
    """
    waiting = [r for r in records if isinstance(r, AnnotatedRecord) and r.finish is not None]
    for tool in dict.fromkeys(r.tool for r in waiting):
        group = [r for r in waiting if r.tool == tool]
        where = ", ".join(dict.fromkeys(r.location.rsplit(":", 1)[0] for r in group))
        documents = [Document(r.raw_body, r.pending) for r in group]
        resolved, notice = resolve(
            where,
            documents,
            mode=offsets,
            default=group[0].default_unit,
            tool=tool,
            evidence=None if evidence is None else evidence.setdefault(tool, Evidence()),
        )
        if notice and notify:
            notify(notice)
        for record in group:
            stored = LineEnds(record.raw_body).stored
            placed = [(stored(start), stored(end)) for start, end in (resolved[id(raw)] for raw in record.pending)]
            assert record.finish is not None
            record.spans = record.finish(placed)
            for span in record.spans:
                if span.text is not None:
                    span.text = normalise_newlines(span.text)
            # The file's text is needed no more (the body holds the stored one): a batch keeps one copy of each.
            record.pending, record.finish, record.raw_body = [], None, ""


def spans_resolved(
    records: Iterable[ArticleRecord],
    *,
    offsets: str = AUTO,
    notify: Callable[[str], None] | None = None,
    batch_size: int = 1000,
) -> Iterator[ArticleRecord]:
    """``spans_resolve`` over a stream, a batch at a time: what one batch rules out about a tool's offset unit
    holds for the batches after it (``offsets.Evidence``). A file whose lines say their unit (our exports) or an
    explicit ``offsets`` reads exactly as it would at once; for an undeclared file the unit is settled by the
    spans read so far, so evidence that only a later batch holds cannot settle an earlier batch that fits
    several units differently (that batch is refused, naming --offsets)."""
    evidence: dict[str, Evidence] = {}
    for batch in batches(records, size=batch_size):
        spans_resolve(batch, offsets=offsets, notify=notify, evidence=evidence)
        yield from batch


# Files exported before per-editor progress carry the old names of two statuses.
LEGACY_STATUSES = {"in_progress": ArticleStatus.IN_ANNOTATION.value, "done": ArticleStatus.READY_FOR_REVIEW.value}
# ``ArticleStatus.values`` builds its list anew on every call.
STATUSES = frozenset(ArticleStatus.values)


def annotated(record: ArticleRecord, *, status: Any, path: str | Path, line: int | None) -> AnnotatedRecord:
    """``record`` as an annotated record with the article status its file gives (checked), spans to follow."""
    status = LEGACY_STATUSES.get(status, status) if isinstance(status, str) else status
    status = status or ""
    if status and status not in STATUSES:
        raise ImportFailure(path, line, f"status {status!r} is not one of {', '.join(ArticleStatus.values)}")
    result = AnnotatedRecord.from_article(record)
    result.status = status
    return result


def span_record(
    raw: RawSpan, offsets: tuple[int, int], detail: Mapping[str, Any], *, path: str | Path, line: int | None
) -> SpanRecord:
    """A span from what a file gives beside its offsets (doccano's ``spans`` entries; Label Studio's regions in the
    same keys): ``annotator``, ``origin``, ``note``, ``attributes``, ``created_at``, ``updated_at``, ``id``."""
    attributes = detail.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ImportFailure(path, line, "span attributes must be a JSON object")
    exported_id = detail.get("id")
    return SpanRecord(
        start=offsets[0],
        end=offsets[1],
        label=raw.label,
        text=raw.text,
        annotator=clean_text(detail.get("annotator"), path=path, line=line, name="annotator").strip() or None,
        origin=detail.get("origin") or "import",
        note=clean_text(detail.get("note"), path=path, line=line, name="note"),
        attributes=attributes,
        created_at=_time(detail.get("created_at"), path=path, line=line, name="created_at"),
        updated_at=_time(detail.get("updated_at"), path=path, line=line, name="updated_at"),
        exported_id=exported_id if isinstance(exported_id, int) and not isinstance(exported_id, bool) else None,
    )


def _time(value: Any, *, path: str | Path, line: int | None, name: str) -> dt.datetime | None:
    if isinstance(value, str):
        # What our exports write (ISO 8601 with its offset), read as parse_published reads it, without its layers:
        # two per span, they were a tenth of an import's reading.
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None and published_at_in_range(moment):
            return moment
    try:
        return parse_published(value, path=path, line=line)
    except ImportFailure:
        raise ImportFailure(path, line, f"{name} {value!r} is not an ISO-8601 date-time") from None
