"""Pick the reader for each path by its suffix; folders import the files inside them.

``PLAIN`` reads articles only. ``annotations.imports.registry`` extends it with readers that also carry spans
(doccano JSONL, Label Studio JSON); the corpus knows nothing of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, archive, csv, html, jsonl, txt
from articles.validation import MAX_JSON_DEPTH

Reader = Callable[..., Iterator[ArticleRecord]]


class Readers:
    """Readers by file suffix. ``takes_options`` readers accept keyword options (e.g. ``offsets``, ``notify``)."""

    def __init__(self, by_suffix: Mapping[str, Reader], *, takes_options: Iterable[Reader] = ()) -> None:
        self.by_suffix = dict(by_suffix)
        self.takes_options = frozenset(takes_options)

    def extended(self, by_suffix: Mapping[str, Reader], *, takes_options: Iterable[Reader] = ()) -> Readers:
        return Readers({**self.by_suffix, **by_suffix}, takes_options=self.takes_options | set(takes_options))

    def reader_for(self, path: Path) -> Reader:
        if path.suffix.lower() == ".zip":
            return self._read_zip
        reader = self.by_suffix.get(path.suffix.lower())
        if reader is None:
            known = ", ".join(sorted(self.suffixes))
            raise ImportFailure(
                path, None, f"unknown file type {path.suffix or '(none)'!r}; expected one of {known} or a folder"
            )
        return reader

    @property
    def suffixes(self) -> set[str]:
        return {*self.by_suffix, ".zip"}

    def _read_zip(self, path: Path, data: bytes | None = None, **options) -> Iterator[ArticleRecord]:
        for member, content in archive.unpack(path, path.read_bytes() if data is None else data, self.suffixes).files():
            yield from self._read(member, content, **options)

    def _read(self, path: Path, data: bytes | None = None, **options) -> Iterator[ArticleRecord]:
        reader = self.reader_for(path)
        if options and (reader in self.takes_options or reader == self._read_zip):
            return guarded(path, reader(path, data, **options))
        return guarded(path, reader(path, data))

    def read_paths(self, paths: Iterable[str | Path], **options) -> Iterator[ArticleRecord]:
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in self.suffixes)
                if not files:
                    raise ImportFailure(
                        path, None, f"folder holds no importable files ({', '.join(sorted(self.suffixes))})"
                    )
                for file in files:
                    yield from self._read(file, **options)
            elif path.is_file():
                yield from self._read(path, **options)
            else:
                raise ImportFailure(path, None, "no such file or folder")

    def read_upload(self, name: str, data: bytes, **options) -> Iterator[ArticleRecord]:
        """Read one uploaded file (the admin import page); ``name`` is used for the reader and in messages."""
        yield from self._read(Path(name), data, **options)


PLAIN = Readers(
    {
        ".jsonl": jsonl.read,
        ".ndjson": jsonl.read,
        ".csv": csv.read,
        ".txt": txt.read,
        ".html": html.read,
        ".htm": html.read,
    }
)
READERS = PLAIN.suffixes
reader_for = PLAIN.reader_for
read_paths = PLAIN.read_paths
read_upload = PLAIN.read_upload


def guarded(path: Path, records: Iterator[ArticleRecord]) -> Iterator[ArticleRecord]:
    """A reader's records, with Python's recursion limit (a JSON document nested thousands deep) as a message."""
    try:
        yield from records
    except RecursionError:
        raise ImportFailure(path, None, f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
