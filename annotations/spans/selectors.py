"""Reads of labels and spans, with their related rows loaded up front."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.fields.json import KT

from annotations.models import Label, Span
from articles.models import Article
from newsnotes.compiled import compiled


def labels_active() -> QuerySet[Label]:
    return Label.objects.filter(active=True)


_LABEL_FIELDS = [field.attname for field in Label._meta.concrete_fields]


@compiled("label")
def _label_by_pk(*, label: int) -> QuerySet:
    return Label.objects.filter(pk=label).values_list(*_LABEL_FIELDS)


def label_by_pk(pk: int) -> Label | None:
    """The label with id ``pk``, or None: by a statement compiled once per process (``newsnotes.compiled``), as
    every workspace post that names a label reads it."""
    found = _label_by_pk().rows(label=pk)
    return Label.from_db(connection.alias, _LABEL_FIELDS, found[0]) if found else None


def label_of_row(fields: dict[str, Any]) -> Label:
    """A label from its row as PostgreSQL's ``row_to_json`` gives it (column names are the fields' attnames)."""
    label = Label(**fields)
    label._state.adding = False
    return label


def spans_for_article(*, article: Article, annotator=None) -> QuerySet[Span]:
    spans = Span.objects.filter(article=article).select_related("label", "annotator")
    if annotator is not None:
        spans = spans.filter(annotator=annotator)
    return spans.order_by("start", "-end", "label__ordering")


@compiled("article", "annotator")
def _workspace_spans(*, article: int, annotator: int) -> QuerySet:
    return (
        Span.objects.filter(article_id=article, annotator_id=annotator)
        .order_by("start", "-end", "id")
        .values_list("id", "start", "end", "label_id", "note", KT("attributes__verdict"))
    )


def workspace_spans(*, article: Article, annotator) -> list[tuple]:
    """One editor's spans on one article as ``(id, start, end, label_id, note, verdict)`` tuples.

    The annotate page draws a thousand of them per request: model instances, or decoding every span's JSON
    attributes when the list shows only the verdict, would cost more than the rest of the page. The query is
    compiled once per process (``newsnotes.compiled``).
    """
    return _workspace_spans().rows(article=article.pk, annotator=annotator.pk)


def workspace_spans_send(cursor: Any, *, article_id: int, annotator_id: int) -> None:
    """``workspace_spans`` executed on ``cursor``; its ``fetchall()`` is the list."""
    _workspace_spans().send(cursor, article=article_id, annotator=annotator_id)


def body_lock_reason(*, article: Article) -> str | None:
    """Why ``article``'s text cannot be edited (spans point into it), or None.

    The database enforces this (the ``article_body_locked_by_spans`` trigger, whose message is this sentence);
    the admin asks up front to show the text read-only with the reason.
    """
    count = Span.objects.filter(article=article).count()
    if count:
        return (
            f"The text cannot change: {count} span{'s' if count != 1 else ''} point into it by character offset, "
            "and editing it would shift them. Delete the spans first or import the corrected text as a new article."
        )
    return None
