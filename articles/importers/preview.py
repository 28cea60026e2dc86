"""Read an upload for the import preview: every error with its file and line, not just the first.

The readers stop at the first problem, which is right for an import (all or nothing) but makes a curator fix
one line per round trip. Here each file is read, and after an error in a line-oriented file (JSONL, CSV) the
rest of the file is read again from the next line (CSV: the next row, under the same header), with line
numbers kept as in the original file. Nothing is written; the import itself reads the upload again with the
ordinary readers (``registry.read_upload``).
"""

from __future__ import annotations

import csv as csv_module
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, archive, decode_utf8
from articles.importers.registry import PLAIN, Readers, guarded

# Past this many errors the file is clearly in the wrong shape; the list would only bury the first ones.
MAX_FAILURES = 100
LINE_FORMATS = {".jsonl", ".ndjson"}
CSV_FORMATS = {".csv"}


@dataclass
class UploadReport:
    records: list[ArticleRecord] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    more_failures: bool = False

    def add_failure(self, failure: ImportFailure) -> bool:
        """Record a failure; False once the report is full."""
        if len(self.failures) >= MAX_FAILURES:
            self.more_failures = True
            return False
        self.failures.append(failure)
        return True


def read_upload_report(
    name: str, data: bytes, readers: Readers = PLAIN, *, progress: Callable[[int], None] | None = None
) -> UploadReport:
    """Every record and every error of an upload; ``progress`` is told the number of records read so far."""
    report = UploadReport()
    path = Path(name)
    files: Iterable[tuple[Path, bytes]] = [(path, data)]
    if path.suffix.lower() == ".zip":
        try:
            unpacked = archive.unpack(path, data, readers.suffixes)
        except ImportFailure as failure:
            report.add_failure(failure)
            return report
        files, report.skipped = unpacked.files(), unpacked.skipped
    for file_path, content in files:
        if report.more_failures:
            break
        _read_file(file_path, content, report, readers, progress)
    return report


def _read_file(
    path: Path, data: bytes, report: UploadReport, readers: Readers, progress: Callable[[int], None] | None
) -> None:
    try:
        reader = readers.reader_for(path)
        text = decode_utf8(data, path=path) if path.suffix.lower() in LINE_FORMATS | CSV_FORMATS else None
    except ImportFailure as failure:
        report.add_failure(failure)
        return
    offset = 0  # lines of the original file cut from the text read in this pass
    current = data
    while True:
        try:
            for record in guarded(path, reader(path, current)):
                report.records.append(_shifted_record(record, offset))
                if progress:
                    progress(len(report.records))
            return
        except ImportFailure as failure:
            line = failure.line + offset if failure.line else None
            if not report.add_failure(ImportFailure(failure.path, line, failure.message)) or text is None or not line:
                return
            resumed = _rest_after(path, text, line)
            if resumed is None:
                return
            current, offset = resumed


def _rest_after(path: Path, text: str, line: int) -> tuple[bytes, int] | None:
    """The text after the record that starts at ``line``, and how many lines were cut before it."""
    lines = text.split("\n")
    if path.suffix.lower() in LINE_FORMATS:
        return ("\n".join(lines[line:]).encode(), line) if line < len(lines) else None
    if line == 1:
        return None  # the header is wrong: no row can be read
    end = _csv_row_end(text, line)
    if end is None or end >= len(lines):
        return None
    # Keep the header; the rows after the bad one follow it directly.
    return ("\n".join([lines[0], *lines[end:]]).encode(), end - 1)


def _csv_row_end(text: str, start: int) -> int | None:
    """The last physical line of the CSV row starting at line ``start`` (rows may span lines)."""
    reader = csv_module.reader(io.StringIO(text, newline=""), strict=True)
    try:
        while True:
            row_start = reader.line_num + 1
            next(reader)
            if row_start == start:
                return reader.line_num
            if row_start > start:
                return None
    except (StopIteration, csv_module.Error):
        return None


def _shifted_record(record: ArticleRecord, offset: int) -> ArticleRecord:
    if offset:
        where, _, line = record.location.rpartition(":")
        if line.isdigit():
            record.location = f"{where}:{int(line) + offset}"
    return record
