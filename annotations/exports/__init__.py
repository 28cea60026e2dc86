"""Research exports: the span CSV and the formats of other annotation tools (README: Exports).

``stream_spans_csv(spans, *, neutralise=True, bom=False)`` is the stable entry point for code that wants the
span CSV of any Span QuerySet (the admin's "export selected articles' spans" action uses it). ``export`` runs
any format for the researcher's ``ExportFilters``; every format streams byte chunks in constant memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connections, router, transaction

from annotations.exports import articles_csv, brat, conll, doccano, label_studio, w3c
from annotations.exports.query import (
    LAYERS,
    ExportFilters,
    articles_for_export,
    gold_for_export,
    iter_articles,
    resolve_layer,
    spans_for_export,
    suggestions_for_export,
    wants_gold,
)
from annotations.exports.spans_csv import COLUMNS as SPAN_CSV_COLUMNS
from annotations.exports.spans_csv import stream_spans_csv
from annotations.models import Span

__all__ = [
    "FORMATS",
    "LAYERS",
    "SPAN_CSV_COLUMNS",
    "ExportFilters",
    "ExportOptions",
    "Format",
    "articles_for_export",
    "export",
    "iter_articles",
    "resolve_layer",
    "spans_for_export",
    "stream_spans_csv",
]


@dataclass(frozen=True)
class ExportOptions:
    neutralise: bool = True  # csv, articles-csv: defuse spreadsheet formulas
    bom: bool = False  # csv, articles-csv: a UTF-8 byte order mark for Excel
    utf16: bool = False  # jsonl, label-studio: offsets in UTF-16 code units instead of code points
    # csv, jsonl, label-studio: add pending suggestions, marked as such (never anyone's labels otherwise)
    suggestions: bool = False


@dataclass(frozen=True)
class Format:
    key: str
    title: str
    extension: str
    content_type: str
    unit: str  # what on_rows counts: "span" or "article"
    stem: str  # file name: newsnotes-<stem>-YYYYMMDD<extension>

    def filename(self, day: dt.date, layer: str = "") -> str:
        """``newsnotes-<stem>[-gold|-editors]-YYYYMMDD<ext>``: named when the file holds the gold layer only, or
        the editors' only where the format would hold both (CoNLL, brat and W3C without gold keep the old name)."""
        suffix = ""
        if layer == "gold" and self.key != "articles-csv":
            suffix = "-gold"
        elif layer == "editors" and self.key in ("csv", "jsonl", "label-studio"):
            suffix = "-editors"
        return f"newsnotes-{self.stem}{suffix}-{day:%Y%m%d}{self.extension}"


FORMATS: dict[str, Format] = {
    f.key: f
    for f in [
        Format("csv", "Span CSV (one row per span)", ".csv", "text/csv; charset=utf-8", "span", "spans"),
        Format(
            "articles-csv",
            "Article CSV (one row per article)",
            ".csv",
            "text/csv; charset=utf-8",
            "article",
            "articles",
        ),
        Format("jsonl", "doccano JSONL", ".jsonl", "application/x-ndjson; charset=utf-8", "article", "doccano"),
        Format("label-studio", "Label Studio JSON", ".json", "application/json", "article", "label-studio"),
        Format("conll", "CoNLL-2003 IOB2", ".conll", "text/plain; charset=utf-8", "article", "conll"),
        Format("brat", "brat standoff (zip)", ".zip", "application/zip", "article", "brat"),
        Format("w3c", "W3C Web Annotation (JSON-LD)", ".jsonld", "application/ld+json", "span", "w3c"),
    ]
}


def _snapshot(chunks: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
    """Run a multi-query export in one read-only REPEATABLE READ transaction: a consistent picture of the corpus
    even while editors keep working. (Inside an outer transaction, such as a test's, that one already is.)
    It runs where the export's reads go: the read replica inside ``replica_reads()`` (newsnotes/routers.py)."""
    connection = connections[router.db_for_read(Span)]
    if connection.in_atomic_block:
        yield from chunks()
        return
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield from chunks()


def export(
    key: str,
    filters: ExportFilters,
    options: ExportOptions = ExportOptions(),
    *,
    on_rows: Callable[[int], None] | None = None,
    on_dropped: Callable[[str], None] | None = None,
) -> Iterator[bytes]:
    """Byte chunks of the export in format ``key``; nothing runs until the first chunk is asked for.

    ``on_rows(n)`` counts the format's unit (``FORMATS[key].unit``) as it goes out; ``on_dropped(message)``
    hears about each span a format cannot express (conll, brat), which the file itself also lists.
    The layer (``filters.layer``) is resolved for the format first (``resolve_layer``).
    """
    filters = resolve_layer(key, filters)
    if key == "csv":
        return stream_spans_csv(
            spans_for_export(filters),
            neutralise=options.neutralise,
            bom=options.bom,
            on_rows=on_rows,
            gold=gold_for_export(filters) if wants_gold(filters) else None,
            suggestions=suggestions_for_export(filters) if options.suggestions else None,
        )
    if key == "articles-csv":
        return articles_csv.write(filters, neutralise_cells=options.neutralise, bom=options.bom, on_rows=on_rows)
    if key == "jsonl":
        return _snapshot(
            lambda: doccano.write(filters, utf16=options.utf16, on_rows=on_rows, suggestions=options.suggestions)
        )
    if key == "label-studio":
        return _snapshot(
            lambda: label_studio.write(filters, utf16=options.utf16, on_rows=on_rows, suggestions=options.suggestions)
        )
    if key == "conll":
        return _snapshot(lambda: conll.write(filters, on_rows=on_rows, on_dropped=on_dropped))
    if key == "brat":
        return _snapshot(lambda: brat.write(filters, on_rows=on_rows, on_dropped=on_dropped))
    if key == "w3c":
        return _snapshot(lambda: w3c.write(filters, on_rows=on_rows))
    raise ValueError(f"unknown export format {key!r}; known: {', '.join(FORMATS)}")


def count(key: str, filters: ExportFilters) -> int:
    """How many of the format's units (spans or articles) the export will hold."""
    filters = resolve_layer(key, filters)
    if FORMATS[key].unit == "span":
        return spans_for_export(filters).count() + (gold_for_export(filters).count() if wants_gold(filters) else 0)
    return articles_for_export(filters).count()
