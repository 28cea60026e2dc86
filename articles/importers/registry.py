"""Pick the reader for each path by its suffix; folders import the files inside them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, csv, jsonl, txt

Reader = Callable[..., Iterator[ArticleRecord]]

READERS: dict[str, Reader] = {
    ".jsonl": jsonl.read,
    ".ndjson": jsonl.read,
    ".csv": csv.read,
    ".txt": txt.read,
}


def reader_for(path: Path) -> Reader:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise ImportFailure(
            path, None, f"unknown file type {path.suffix or '(none)'!r}; expected one of {known} or a folder"
        )
    return reader


def read_paths(paths: Iterable[str | Path]) -> Iterator[ArticleRecord]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in READERS)
            if not files:
                raise ImportFailure(path, None, f"folder holds no importable files ({', '.join(sorted(READERS))})")
            for file in files:
                yield from reader_for(file)(file)
        elif path.is_file():
            yield from reader_for(path)(path)
        else:
            raise ImportFailure(path, None, "no such file or folder")


def read_upload(name: str, data: bytes) -> Iterator[ArticleRecord]:
    """Read one uploaded file (the admin import page); ``name`` is used for the reader and in messages."""
    path = Path(name)
    yield from reader_for(path)(path, data)
