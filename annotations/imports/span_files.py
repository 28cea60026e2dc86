"""Files of spans without their articles' text: our span CSV and W3C Web Annotation JSON-LD (``.jsonld``).

Their spans go onto articles already in the corpus (``corpus_import`` finds each by id, url or text and re-checks
every span against it), which makes export → import → export hold for these formats too (README: round trips).

Span CSV: the export's header (``span_id,article_id,…,attributes``, an optional ``layer`` column). A file written
with formula neutralising (the default) has no cell starting with a bare ``=``, ``+``, ``-``, ``@``, tab or CR and
some starting with ``'`` and one of them: its cells are un-neutralised (the export's exact inverse); a file with any
bare trigger was written without it and is read as it stands.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from annotations.exports.common import FORMULA_TRIGGERS, needs_quote, unneutralise
from annotations.exports.spans_csv import COLUMNS as EXPORT_COLUMNS
from annotations.imports.records import AnnotatedRecord, SpanRecord
from articles.importers import ArticleRecord, ImportFailure, JSONRefused, decode_utf8, parse_json, parse_published

# The span CSV export's columns; ``layer`` is optional, so files written before it still import.
SPAN_CSV_COLUMNS = tuple(column for column in EXPORT_COLUMNS if column != "layer")
LAYERS = ("editor", "gold")
ARTICLE_IRI = "urn:newsnotes:article:"
SPAN_IRI = "urn:newsnotes:span:"
ORIGIN_IRI = "urn:newsnotes:origin:"


@dataclass
class PlacedSpans(AnnotatedRecord):
    """Spans for an article already in the corpus, found by ``article_id``, ``url`` or the spans' quotes.

    ``body`` is empty until ``corpus_import`` finds the article; ``quotes`` are (prefix, exact, suffix) from W3C
    ``TextQuoteSelector``s.
    """

    article_id: int | None = None
    quotes: list[tuple[str, str, str]] = field(default_factory=list)


def is_span_csv(header: list[str]) -> bool:
    return [name for name in header if name != "layer"] == list(SPAN_CSV_COLUMNS)


def read_span_csv(path: Path, text: str) -> Iterator[ArticleRecord]:
    csv.field_size_limit(max(csv.field_size_limit(), settings.NEWSNOTES_MAX_ARTICLE_CHARS + 1))
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, body = rows[0], rows[1:]
    cells = [cell for row in body for cell in row]
    neutralised = not any(cell.startswith(FORMULA_TRIGGERS) for cell in cells) and any(
        cell.startswith("'") and needs_quote(cell[1:]) for cell in cells
    )
    records: dict[tuple, PlacedSpans] = {}
    for number, row in enumerate(body, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ImportFailure(path, number, f"the row has {len(row)} cells, the header {len(header)}")
        item = {name: unneutralise(cell) if neutralised else cell for name, cell in zip(header, row, strict=True)}
        layer = item.get("layer") or "editor"
        if layer not in LAYERS:
            raise ImportFailure(path, number, f"layer {layer!r} is not one of {', '.join(LAYERS)}")
        if layer == "gold":
            raise ImportFailure(
                path,
                number,
                "gold rows (layer=gold) are not imported: reviewers settle gold in NewsNotes; "
                "import the editor rows (layer=editor) alone",
            )
        article_id = _whole(item["article_id"], path=path, number=number, name="article_id")
        key = (article_id, item["article_url"])
        record = records.get(key)
        if record is None:
            record = records[key] = PlacedSpans(
                title=item["title"],
                body="",
                location=f"{path}:{number}",
                url=item["article_url"] or None,
                article_id=article_id,
            )
        try:
            attributes = parse_json(item["attributes"]) if item["attributes"] else {}
        except (json.JSONDecodeError, JSONRefused) as err:
            raise ImportFailure(path, number, f"attributes is not JSON: {err}") from None
        if not isinstance(attributes, dict):
            raise ImportFailure(path, number, "attributes must be a JSON object")
        record.spans.append(
            SpanRecord(
                start=_whole(item["start"], path=path, number=number, name="start"),
                end=_whole(item["end"], path=path, number=number, name="end"),
                label=item["label"],
                text=item["text"],
                annotator=item["annotator"] or None,
                origin=item["origin"] or "import",
                note=item["note"],
                attributes=attributes,
                created_at=_time(item["created_at"], path=path, number=number),
                updated_at=_time(item["updated_at"], path=path, number=number),
                exported_id=_whole(item["span_id"], path=path, number=number, name="span_id", optional=True),
            )
        )
    yield from records.values()


def read_jsonld(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    """A W3C ``AnnotationCollection`` (its pages inline), an ``AnnotationPage``, a list or one ``Annotation``."""
    text = decode_utf8(path.read_bytes() if data is None else data, path=path)
    try:
        document = parse_json(text)
    except json.JSONDecodeError as err:
        raise ImportFailure(path, err.lineno, f"not valid JSON ({err.msg} at column {err.colno})") from None
    except JSONRefused as err:
        raise ImportFailure(path, None, f"the JSON {err}") from None
    records: dict[tuple, PlacedSpans] = {}
    for number, item in enumerate(_annotations(document, path), start=1):
        where = f"{path}:annotation {number}"
        if not isinstance(item, dict) or item.get("type") != "Annotation":
            raise ImportFailure(where, None, 'expected an object with "type": "Annotation"')
        target = item.get("target")
        if not isinstance(target, dict) or not isinstance(target.get("source"), str):
            raise ImportFailure(where, None, "the annotation has no target with a source")
        source = target["source"]
        article_id = int(source[len(ARTICLE_IRI) :]) if source.startswith(ARTICLE_IRI) else None
        url = target.get("scope") if isinstance(target.get("scope"), str) else None
        if url is None and source.startswith(("http://", "https://")):
            url = source
        selectors = target.get("selector") or []
        if isinstance(selectors, dict):
            selectors = [selectors]
        position = next((s for s in selectors if isinstance(s, dict) and s.get("type") == "TextPositionSelector"), None)
        quote = next((s for s in selectors if isinstance(s, dict) and s.get("type") == "TextQuoteSelector"), None)
        if position is None:
            raise ImportFailure(
                where, None, "the target has no TextPositionSelector (NewsNotes places spans by offset)"
            )
        bodies = item.get("body") or []
        if isinstance(bodies, dict):
            bodies = [bodies]
        by_purpose: dict[str, Any] = {}
        for body in bodies:
            if isinstance(body, dict) and isinstance(body.get("value"), str):
                by_purpose.setdefault(str(body.get("purpose")), body["value"])
        label = by_purpose.get("tagging")
        if not label:
            raise ImportFailure(where, None, 'the annotation has no body with "purpose": "tagging" (the label)')
        try:
            attributes = parse_json(by_purpose["describing"]) if "describing" in by_purpose else {}
        except (json.JSONDecodeError, JSONRefused):
            raise ImportFailure(where, None, "the describing body is not JSON") from None
        creator: dict = item["creator"] if isinstance(item.get("creator"), dict) else {}
        generator: dict = item["generator"] if isinstance(item.get("generator"), dict) else {}
        origin = generator.get("id", "")
        ident = item.get("id")
        key = (article_id, url)
        record = records.get(key)
        if record is None:
            record = records[key] = PlacedSpans(title="", body="", location=where, url=url, article_id=article_id)
        exact = quote.get("exact") if quote and isinstance(quote.get("exact"), str) else None
        if quote and exact is not None:
            record.quotes.append((str(quote.get("prefix") or ""), exact, str(quote.get("suffix") or "")))
        record.spans.append(
            SpanRecord(
                start=_whole(position.get("start"), path=where, number=None, name="start"),
                end=_whole(position.get("end"), path=where, number=None, name="end"),
                label=label,
                text=exact,
                annotator=creator.get("nickname") or creator.get("name") or None,
                origin=origin[len(ORIGIN_IRI) :] if origin.startswith(ORIGIN_IRI) else "manual",
                note=by_purpose.get("commenting", ""),
                attributes=attributes if isinstance(attributes, dict) else {},
                created_at=_time(item.get("created"), path=where, number=None),
                updated_at=_time(item.get("modified"), path=where, number=None),
                exported_id=int(ident[len(SPAN_IRI) :])
                if isinstance(ident, str) and ident.startswith(SPAN_IRI) and ident[len(SPAN_IRI) :].isdigit()
                else None,
            )
        )
    yield from records.values()


def _annotations(document: Any, path: Path) -> Iterator[Any]:
    if isinstance(document, list):
        yield from document
        return
    if not isinstance(document, dict):
        raise ImportFailure(path, None, "expected a W3C AnnotationCollection, AnnotationPage or Annotation")
    kind = document.get("type")
    if kind == "Annotation":
        yield document
    elif kind == "AnnotationPage":
        yield from document.get("items") or []
    elif kind == "AnnotationCollection":
        page = document.get("first")
        while isinstance(page, dict):
            yield from page.get("items") or []
            page = page.get("next") if isinstance(page.get("next"), dict) else None
    else:
        raise ImportFailure(path, None, f"type {kind!r} is not an AnnotationCollection, AnnotationPage or Annotation")


def _whole(value: Any, *, path: str | Path, number: int | None, name: str, optional: bool = False) -> Any:
    if optional and value in ("", None):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ImportFailure(path, number, f"{name} must be a whole number, not {value!r}")


def _time(value: Any, *, path: str | Path, number: int | None):
    try:
        return parse_published(value or None, path=path, line=number)
    except ImportFailure:
        raise ImportFailure(path, number, f"{value!r} is not an ISO-8601 date-time") from None
