"""Readers that turn input files into ``ArticleRecord``s, one module per format.

Every reader raises ``ImportFailure`` naming the file and line of the first problem; nothing is stored
by a reader. ``articles.services.articles_import`` writes the records, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from articles.validation import (
    FIELD_LIMITS,
    MAX_JSON_DEPTH,
    PUBLISHED_RANGE_TEXT,
    json_value_problem,
    language_tag,
    published_at_in_range,
)


class ImportFailure(Exception):
    """A problem in the input, located as ``file:line: message``."""

    def __init__(self, path: str | Path, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class ArticleRecord:
    title: str
    body: str
    location: str  # "file:line", for messages
    url: str | None = None
    source: str | None = None
    byline: str = ""
    published_at: dt.datetime | None = None
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


# What one batch of a streaming import holds at most: this many records, or this many characters of text.
# An import reads, lays out and writes batches in a pipeline (annotations.imports: a reader process, a writer
# thread), so up to five are in memory, and the first is read and the last written with nothing to overlap:
# 500 records of bench/import.py's corpus (4.5 MB of text) took 8.1-8.4 s and 164 MB, 1,000 took 8.7-8.9 s and
# 196 MB, 250 took 8.5 s (more statements per record).
BATCH_RECORDS = 500
BATCH_CHARS = 8_000_000


def batches(
    records: Iterable[ArticleRecord], *, size: int = BATCH_RECORDS, chars: int = BATCH_CHARS
) -> Iterator[list[ArticleRecord]]:
    """``records`` in lists of at most ``size`` records or about ``chars`` characters of text, whichever comes
    first: what an import of any size holds in memory at once."""
    batch: list[ArticleRecord] = []
    held = 0
    for record in records:
        batch.append(record)
        held += len(record.body)
        if len(batch) >= size or held >= chars:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def normalise_newlines(text: str) -> str:
    # Most texts hold no CR at all (three per span in an import): one scan instead of two replacements.
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_text(value: Any, *, path: str | Path, line: int | None, name: str, required: bool = False) -> str:
    """Check one text field: a string, no NUL bytes, newlines normalised to ``\\n``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ImportFailure(path, line, f"{name} must be text, got {type(value).__name__}")
    if "\x00" in value:
        if line is None:
            line = value[: value.index("\x00")].count("\n") + 1
        raise ImportFailure(path, line, f"{name} contains a NUL byte (\\x00), which text cannot hold")
    value = normalise_newlines(value)
    if required and not value.strip():
        raise ImportFailure(path, line, f"{name} is empty")
    return value


def parse_published(value: Any, *, path: str | Path, line: int | None) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ImportFailure(path, line, f"published_at must be an ISO-8601 string, got {value!r}")
    try:
        moment = parse_datetime(value.strip())
        if moment is None:
            day = parse_date(value.strip())
            if day is not None:
                moment = dt.datetime.combine(day, dt.time())
    except ValueError:
        moment = None
    if moment is None:
        raise ImportFailure(path, line, f"published_at {value!r} is not an ISO-8601 date or date-time")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    if not published_at_in_range(moment):
        raise ImportFailure(path, line, f"published_at {value!r} is not {PUBLISHED_RANGE_TEXT}")
    return moment


class JSONRefused(ValueError):
    """JSON that cannot be stored; the message completes a sentence whose subject the caller names."""


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"holds {name}, which JSON does not allow")


def parse_json(text: str) -> Any:
    """``json.loads`` refusing NaN/Infinity (PostgreSQL's jsonb has neither) and nesting deep enough to crash.

    Python's json reads ``NaN`` and recurses until RecursionError; both become ``JSONRefused``. Invalid JSON
    raises ``json.JSONDecodeError`` as usual. NUL characters and moderate nesting are left to ``check_record``,
    which names the field.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONRefused(f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    return value


def decode_utf8(data: bytes, *, path: str | Path) -> str:
    """Decode strictly; an invalid byte is reported with its line number."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ImportFailure(
            path, line, f"invalid UTF-8 (byte 0x{data[err.start]:02x}); save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def record_from_mapping(row: dict[str, Any], *, path: str | Path, line: int) -> ArticleRecord:
    """The shared column set of JSONL and CSV: title, body, url, source, byline, published_at, language, metadata."""
    title = clean_text(row.get("title"), path=path, line=line, name="title", required=True).strip()
    if "\n" in title:
        raise ImportFailure(path, line, "title must be a single line")
    body = clean_text(row.get("body"), path=path, line=line, name="body", required=True)
    url = clean_text(row.get("url"), path=path, line=line, name="url").strip() or None
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise ImportFailure(path, line, f"url {url!r} must start with http:// or https://")
    metadata = row.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ImportFailure(path, line, "metadata must be a JSON object")
    return check_record(
        ArticleRecord(
            title=title[:500],
            body=body,
            location=f"{path}:{line}",
            url=url,
            source=clean_text(row.get("source"), path=path, line=line, name="source").strip() or None,
            byline=clean_text(row.get("byline"), path=path, line=line, name="byline").strip(),
            published_at=parse_published(row.get("published_at"), path=path, line=line),
            language=clean_text(row.get("language"), path=path, line=line, name="language").strip(),
            metadata=metadata,
        ),
        path=path,
        line=line,
    )


def check_record(record: ArticleRecord, *, path: str | Path | None = None, line: int | None = None) -> ArticleRecord:
    """Check what every reader produces against the columns' limits, so no record can fail in the database.

    The language tag is normalised to BCP-47 (``en_US`` becomes ``en-US``). Raises ``ImportFailure`` at the
    record's location.
    """

    def refuse(message: str):
        # Readers of line-oriented files pass path and line: the admin preview resumes after that line.
        return ImportFailure(path, line, message) if path is not None else ImportFailure(record.location, None, message)

    limit = settings.NEWSNOTES_MAX_ARTICLE_CHARS
    if len(record.body) > limit:
        raise refuse(f"body is {len(record.body)} characters; at most {limit} are allowed (split the article)")
    for name, size in FIELD_LIMITS.items():
        value = getattr(record, name) or ""
        if len(value) > size:
            raise refuse(f"{name} is {len(value)} characters; at most {size} are allowed")
    if record.url is not None and not record.url.lower().startswith(("http://", "https://")):
        raise refuse(f"url {record.url[:100]!r} must start with http:// or https://")
    if record.published_at is not None and not published_at_in_range(record.published_at):
        raise refuse(f"published_at is not {PUBLISHED_RANGE_TEXT}")
    if record.language:
        tag = language_tag(record.language)
        if tag is None:
            raise refuse(
                f"language {record.language[:40]!r} is not a BCP-47 language tag (such as en, en-US, zh-Hant-TW)"
            )
        record.language = tag
    if not isinstance(record.metadata, dict):
        raise refuse("metadata must be a JSON object")
    problem = json_value_problem(record.metadata)
    if problem:
        raise refuse(f"metadata {problem}")
    return record


def file_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line of a UTF-8 file, read as it goes (a file of any size holds one line in
    memory). An invalid byte is reported with its line number, as ``decode_utf8`` reports it; a BOM is dropped."""
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ImportFailure(
                    path, number, f"invalid UTF-8 (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
                ) from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield number, line.removesuffix("\n")


def json_lines(text: str | Iterable[tuple[int, str]], *, path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for each non-blank line of a JSON Lines text (or of ``file_lines``)."""
    lines = enumerate(text.split("\n"), start=1) if isinstance(text, str) else text
    for number, line in lines:
        if not line.strip():
            continue
        try:
            yield number, parse_json(line)
        except json.JSONDecodeError as err:
            raise ImportFailure(path, number, f"not valid JSON ({err.msg} at column {err.colno})") from None
        except JSONRefused as err:
            raise ImportFailure(path, number, f"the line {err}") from None
