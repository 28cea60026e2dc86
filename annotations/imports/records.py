"""What an annotated reader yields: an article record with the spans (and status) its file carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from articles.importers import ArticleRecord, ImportFailure
from articles.models import ArticleStatus


@dataclass
class SpanRecord:
    """A span carried by an annotated input (doccano, Label Studio, our own exports)."""

    start: int
    end: int
    label: str
    text: str | None = None
    annotator: str | None = None
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

    @classmethod
    def from_article(cls, record: ArticleRecord) -> AnnotatedRecord:
        return cls(**{f.name: getattr(record, f.name) for f in fields(ArticleRecord)})


def annotated(record: ArticleRecord, *, status: Any, path: str | Path, line: int | None) -> AnnotatedRecord:
    """``record`` as an annotated record with the article status its file gives (checked), spans to follow."""
    status = status or ""
    if status and status not in ArticleStatus.values:
        raise ImportFailure(path, line, f"status {status!r} is not one of {', '.join(ArticleStatus.values)}")
    result = AnnotatedRecord.from_article(record)
    result.status = status
    return result
