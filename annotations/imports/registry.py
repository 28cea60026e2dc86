"""The readers ``import_articles`` and the admin's import page use: the corpus's plain readers plus annotated ones.

A ``.jsonl`` file whose first line is a doccano line (``text`` and ``label``/``labels``/``entities``) is read with
its spans; other JSON Lines files are plain articles. ``.json`` is a Label Studio export.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from annotations.imports import doccano, label_studio, span_files
from articles.importers import ArticleRecord, csv, decode_utf8, file_lines, jsonl
from articles.importers.registry import PLAIN


def read_jsonl(
    path: Path,
    data: bytes | None = None,
    *,
    offsets: str = "auto",
    notify: Callable[[str], None] | None = None,
    defer: bool = False,
) -> Iterator[ArticleRecord]:
    """A file streams line by line (the first non-blank line says whether it is doccano's); ``data`` is read whole."""
    if data is None:
        lines = file_lines(path)
        head = []
        for number, line in lines:
            head.append((number, line))
            if line.strip():
                break
        text: str | Iterable[tuple[int, str]] = itertools.chain(head, lines)
        first = head[-1][1] if head else ""
    else:
        text = decode_utf8(data, path=path)
        first = next((line for line in text.split("\n") if line.strip()), "")
    try:
        is_doccano = doccano.looks_like_doccano(json.loads(first))
    except json.JSONDecodeError:
        is_doccano = False
    if is_doccano:
        yield from doccano.read_text(path, text, offsets=offsets, notify=notify, defer=defer)
    else:
        yield from jsonl.read_text(path, text)


def read_csv(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    """Our span CSV (its header says so) places spans on stored articles; any other CSV is articles."""
    data = path.read_bytes() if data is None else data
    text = decode_utf8(data, path=path)
    first = text.split("\n", 1)[0].strip("\r").split(",")
    if span_files.is_span_csv(first):
        yield from span_files.read_span_csv(path, text)
    else:
        yield from csv.read(path, data)


ANNOTATED = PLAIN.extended(
    {
        ".jsonl": read_jsonl,
        ".ndjson": read_jsonl,
        ".json": label_studio.read,
        ".csv": read_csv,
        ".jsonld": span_files.read_jsonld,
    },
    takes_options=[read_jsonl, label_studio.read],
)
read_paths = ANNOTATED.read_paths
read_upload = ANNOTATED.read_upload
