"""Pick the reader for each path by its suffix; folders import the files inside them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, archive, csv, html, jsonl, label_studio, txt
from articles.validation import MAX_JSON_DEPTH

Reader = Callable[..., Iterator[ArticleRecord]]

READERS: dict[str, Reader] = {
    ".jsonl": jsonl.read,
    ".ndjson": jsonl.read,
    ".csv": csv.read,
    ".txt": txt.read,
    ".html": html.read,
    ".htm": html.read,
    ".zip": archive.read,
    ".json": label_studio.read,
}
# Readers of annotated files take options: offsets="auto"|"codepoints"|"utf16" and notify(message).
# (.jsonl holding doccano lines is handed to the doccano reader by jsonl.read.)
TAKES_OPTIONS = {jsonl.read, label_studio.read}


def _read(path: Path, data: bytes | None = None, **options) -> Iterator[ArticleRecord]:
    reader = reader_for(path)
    if options and reader in TAKES_OPTIONS:
        return guarded(path, reader(path, data, **options))
    return guarded(path, reader(path, data))


def guarded(path: Path, records: Iterator[ArticleRecord]) -> Iterator[ArticleRecord]:
    """A reader's records, with Python's recursion limit (a JSON document nested thousands deep) as a message."""
    try:
        yield from records
    except RecursionError:
        raise ImportFailure(path, None, f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None


def reader_for(path: Path) -> Reader:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise ImportFailure(
            path, None, f"unknown file type {path.suffix or '(none)'!r}; expected one of {known} or a folder"
        )
    return reader


def read_paths(paths: Iterable[str | Path], **options) -> Iterator[ArticleRecord]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in READERS)
            if not files:
                raise ImportFailure(path, None, f"folder holds no importable files ({', '.join(sorted(READERS))})")
            for file in files:
                yield from _read(file, **options)
        elif path.is_file():
            yield from _read(path, **options)
        else:
            raise ImportFailure(path, None, "no such file or folder")


def read_upload(name: str, data: bytes, **options) -> Iterator[ArticleRecord]:
    """Read one uploaded file (the admin import page); ``name`` is used for the reader and in messages."""
    yield from _read(Path(name), data, **options)
