"""``w3c``: W3C Web Annotation Data Model, JSON-LD: an ``AnnotationCollection`` with one annotation per span.

Each annotation tags its target with the label (``TextualBody``, ``purpose: tagging``); a note becomes a
``commenting`` body and attributes a ``describing`` body holding their JSON. The target's ``source`` is the
article (``urn:newsnotes:article:<id>``; ``scope`` is its web address); it is selected twice, by quote
(``TextQuoteSelector``: ``exact`` plus up to 32 characters of ``prefix``/``suffix``) and by position
(``TextPositionSelector``, code points into the stored text, end exclusive).

The collection and its one page carry stable IRIs named by the filters (``collection_id``): the same
selection always gets the same ``id``, a different one a different ``id``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from annotations.exports.common import canonical_json, chunked, iso_utc, json_line
from annotations.exports.query import ExportFilters, gold_for_export, iter_articles, spans_for_export, wants_gold

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
CONTEXT_CHARS = 32


def collection_id(filters: ExportFilters) -> str:
    """The collection's IRI: ``urn:newsnotes:spans:all``, or the filters that chose the spans, for example
    ``urn:newsnotes:spans:labels=1,3;statuses=done``.

    Ids are database ids and dates ISO days; the parts come in the order of ``ExportFilters``' fields.
    """
    parts = []
    for item in dataclasses.fields(filters):
        value = getattr(filters, item.name)
        if value in ((), None, False, ""):
            continue
        if item.name == "layer" and value == "editors":
            continue  # the editors' layer was the whole export before gold existed: its ids stay as they were
        if isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        elif value is True:
            value = "yes"
        parts.append(f"{item.name}={value}")
    return "urn:newsnotes:spans:" + (";".join(parts) or "all")


def annotation(span, article) -> dict:
    body = article.body
    quote = {"type": "TextQuoteSelector", "exact": span.text}
    if prefix := body[max(0, span.start - CONTEXT_CHARS) : span.start]:
        quote["prefix"] = prefix
    if suffix := body[span.end : span.end + CONTEXT_CHARS]:
        quote["suffix"] = suffix
    bodies = [{"type": "TextualBody", "purpose": "tagging", "value": span.label}]
    if span.note:
        bodies.append({"type": "TextualBody", "purpose": "commenting", "value": span.note})
    if span.attributes:
        bodies.append(
            {
                "type": "TextualBody",
                "purpose": "describing",
                "format": "application/json",
                "value": canonical_json(span.attributes),
            }
        )
    target = {"source": f"urn:newsnotes:article:{article.pk}"}
    if article.url:
        target["scope"] = article.url
    target["selector"] = [quote, {"type": "TextPositionSelector", "start": span.start, "end": span.end}]
    item = {
        # Gold spans live in their own table: their ids get their own namespace, never an editor span's.
        "id": f"urn:newsnotes:{'gold' if span.layer == 'gold' else 'span'}:{span.pk}",
        "type": "Annotation",
        "motivation": "tagging",
        "created": iso_utc(span.created_at),
        "modified": iso_utc(span.updated_at),
        "creator": {
            "id": f"urn:newsnotes:user:{span.annotator}",
            "type": "Person",
            "nickname": span.annotator,
        },
    }
    if span.layer != "gold" and span.origin != "manual":
        item["generator"] = {
            "id": f"urn:newsnotes:origin:{span.origin}",
            "type": "Software",
            "name": f"NewsNotes {span.origin}",
        }
    item["body"] = bodies
    item["target"] = target
    return item


def write(filters: ExportFilters, *, on_rows: Callable[[int], None] | None = None) -> Iterator[bytes]:
    def pieces():
        total = spans_for_export(filters).count() + (gold_for_export(filters).count() if wants_gold(filters) else 0)
        ident = collection_id(filters)
        yield (
            f'{{"@context":"{CONTEXT}","id":"{ident}","type":"AnnotationCollection","label":"NewsNotes spans",'
            f'"total":{total},"first":{{"id":"{ident}#page1","type":"AnnotationPage","startIndex":0,"items":['
        )
        separator = "\n"
        for article in iter_articles(filters):
            for span in article.spans:
                yield separator + json_line(annotation(span, article))
                separator = ",\n"
            if on_rows and article.spans:
                on_rows(len(article.spans))
        yield "\n]}}\n"

    return chunked(pieces())
