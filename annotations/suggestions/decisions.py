"""An editor's answers to suggestions: accept (it becomes their own span), reject (it stays hidden for them),
and the reversal of either (undo). Reads: which suggestions one editor sees, and how many wait per article.

A suggestion never counts as anyone's label: it lives in its own table, and only accepting it makes a ``Span``
(origin ``suggestion``). Decisions are per editor and keyed on article, label and place (``SuggestionDecision``),
so a rejected suggestion stays away whatever proposes it again (a rebuild, another propagation, a plug-in).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.models import Label, Span
from annotations.permissions import Actor, require
from annotations.progress import article_start_annotating
from annotations.spans.services import span_create, span_delete
from annotations.suggestions.models import DecisionKind, Suggestion, SuggestionDecision, SuggestionStatus
from articles.models import Article
from newsnotes.compiled import compiled

NOT_SHOWN = (
    "That suggestion is no longer offered to you (decided already, or withdrawn). The page now shows what is stored."
)


def _same_place() -> dict:
    return {
        "article_id": OuterRef("article_id"),
        "label_id": OuterRef("label_id"),
        "start": OuterRef("start"),
        "end": OuterRef("end"),
    }


def _visible(editor: Actor) -> Q:
    """Blind labelling: a suggestion propagated from another editor's span waits until the article is reviewed."""
    return Q(derived_from__isnull=True) | Q(derived_from=editor) | Q(article__status=Article.Status.REVIEWED)


def _waiting(editor: Actor, *, labelled: bool = True) -> QuerySet[Suggestion]:
    """Pending suggestions ``editor`` may see and has neither answered nor already labelled the same way
    (``labelled=False``: labelled or not, see ``suggestions_for_editor``)."""
    place = _same_place()
    decided = SuggestionDecision.objects.filter(editor=editor, **place)
    waiting = (
        Suggestion.objects.filter(status=SuggestionStatus.PENDING).filter(_visible(editor)).exclude(Exists(decided))
    )
    if not labelled:
        return waiting
    return waiting.exclude(Exists(Span.objects.filter(annotator=editor, **place)))


def suggestions_for_editor(*, article: Article, editor: Actor, labelled: bool = True) -> QuerySet[Suggestion]:
    """The suggestions the workspace shows ``editor`` on ``article``, one per label and place.

    ``labelled=False``: also those at places the editor has labelled the same way, for a caller that holds the
    editor's spans and leaves those places out itself (``suggestion_rows_of``): the statement is then spared
    joining the article's suggestions with the editor's spans, most of its time on a long article."""
    return (
        _waiting(editor, labelled=labelled)
        .filter(article=article)
        .order_by("start", "end", "label_id", "id")
        .distinct("start", "end", "label_id")
    )


@compiled("article", "editor")
def _suggestion_rows(*, article: int, editor: int) -> QuerySet:
    return suggestions_for_editor(article=article, editor=editor).values_list("pk", "start", "end", "label_id")  # type: ignore[arg-type]


def suggestion_rows(*, article: Article, editor: Actor) -> list[tuple[int, int, int, int, str, None]]:
    """``suggestions_for_editor`` as the workspace's body rows: ``(-id, start, end, label_id, "", None)``.

    A negative id keeps suggestions apart from spans in the same drawing (``data-spans``) and Tab order.
    """
    return suggestion_rows_of(_suggestion_rows().rows(article=article.pk, editor=editor.pk))


@compiled("article", "editor")
def _suggestion_rows_labelled_too(*, article: int, editor: int) -> QuerySet:
    shown = suggestions_for_editor(article=article, editor=editor, labelled=False)  # type: ignore[arg-type]
    return shown.values_list("pk", "start", "end", "label_id")


def suggestion_rows_send(cursor: Any, *, article_id: int, editor_id: int) -> None:
    """``suggestion_rows`` executed on ``cursor``, but for the places the editor labelled the same way: those are
    left out by ``suggestion_rows_of`` of its ``fetchall()`` and the editor's rows (``workspace_spans``), which
    the workspace reads with it."""
    _suggestion_rows_labelled_too().send(cursor, article=article_id, editor=editor_id)


def suggestion_rows_of(
    rows: list[tuple[Any, ...]], spans: Iterable[tuple[Any, ...]] = ()
) -> list[tuple[int, int, int, int, str, None]]:
    """Suggestion rows as the workspace draws them; ``spans``: the editor's own rows (``(id, start, end,
    label_id, ...)``), whose places the same way are no suggestion to them."""
    labelled = {span[1:4] for span in spans}
    return [
        (-pk, start, end, label_id, "", None)
        for pk, start, end, label_id in rows
        if not labelled or (start, end, label_id) not in labelled
    ]


def suggestion_counts(*, editor: Actor) -> Subquery:
    """How many suggestions wait for ``editor`` on the article in ``OuterRef("pk")`` (a subquery: no N+1)."""
    counted = (
        _waiting(editor)
        .filter(article_id=OuterRef("pk"))
        .order_by()
        .values("article_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return _CountOrZero(Subquery(counted, output_field=IntegerField()), Value(0))  # type: ignore[return-value]


class _CountOrZero(Coalesce):
    """``Coalesce(subquery, 0)`` that groups as its subquery does, by the outer columns it refers to: Django
    groups by any other non-aggregate expression as a whole, and PostgreSQL then ran the subquery once per row
    of a join being grouped instead of once per group (the queue page, which counts each article's spans in the
    same statement: 121 runs for 25 articles, 1.7 of its 2.0 ms)."""

    def get_group_by_cols(self):
        return [col for source in self.get_source_expressions() for col in source.get_group_by_cols()]


_SUGGESTION_FIELDS = [field.attname for field in Suggestion._meta.concrete_fields]
_LABEL_FIELDS = [field.attname for field in Label._meta.concrete_fields]


@compiled("suggestion", "article", "editor")
def _shown_row(*, suggestion: int, article: int, editor: int) -> QuerySet:
    columns = _SUGGESTION_FIELDS + [f"label__{name}" for name in _LABEL_FIELDS]
    return _waiting(editor).filter(pk=suggestion, article_id=article).values_list(*columns)  # type: ignore[arg-type]


def _shown(*, suggestion_id: int, article: Article, editor: Actor) -> Suggestion:
    """The suggestion, with its label, if ``editor`` is shown it on ``article`` (a statement compiled once per
    process: building this queryset took longer than running it)."""
    found = _shown_row().rows(suggestion=suggestion_id, article=article.pk, editor=editor.pk)
    if not found:
        raise ValidationError(NOT_SHOWN)
    row = found[0]
    suggestion = Suggestion.from_db(connection.alias, _SUGGESTION_FIELDS, row[: len(_SUGGESTION_FIELDS)])
    label = Label.from_db(connection.alias, _LABEL_FIELDS, row[len(_SUGGESTION_FIELDS) :])
    suggestion._state.fields_cache["label"] = label
    return suggestion


# One statement: the editor's decision on the suggestion's label and place, made or replaced.
_DECIDE_SQL = """
INSERT INTO annotations_suggestiondecision
    (article_id, label_id, start, "end", editor_id, decision, suggestion_id, span_id, decided_at)
VALUES (%(article)s, %(label)s, %(start)s, %(end)s, %(editor)s, %(decision)s, %(suggestion)s, %(span)s, %(now)s)
ON CONFLICT ON CONSTRAINT suggestiondecision_unique_per_editor DO UPDATE SET
    decision = EXCLUDED.decision, suggestion_id = EXCLUDED.suggestion_id, span_id = EXCLUDED.span_id,
    decided_at = EXCLUDED.decided_at
"""


def _decide(*, suggestion: Suggestion, editor: Actor, decision: str, span: Span | None = None) -> None:
    params: dict[str, Any] = {
        "article": suggestion.article_id,
        "label": suggestion.label_id,
        "start": suggestion.start,
        "end": suggestion.end,
        "editor": editor.pk,
        "decision": decision,
        "suggestion": suggestion.pk,
        "span": None if span is None else span.pk,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_DECIDE_SQL, params)


@transaction.atomic
def suggestion_accept(*, suggestion_id: int, article: Article, editor: Actor) -> Span:
    """Make a suggestion ``editor``'s own span (origin ``suggestion``); offsets are re-checked against the body."""
    require(editor, "annotations.add_span", reason="You may not label articles.")
    suggestion = _shown(suggestion_id=suggestion_id, article=article, editor=editor)
    span = span_create(
        article=article,
        label=suggestion.label,
        start=suggestion.start,
        end=suggestion.end,
        text=suggestion.text,
        annotator=editor,
        origin=Span.Origin.SUGGESTION,
    )
    article_start_annotating(article=article)
    _decide(suggestion=suggestion, editor=editor, decision=DecisionKind.ACCEPTED, span=span)
    return span


@transaction.atomic
def suggestions_accept_label(*, article: Article, label: Label, editor: Actor) -> list[tuple[int, Span]]:
    """Accept every suggestion of ``label`` that ``editor`` sees on ``article``: each one's id and its new span."""
    require(editor, "annotations.add_span", reason="You may not label articles.")
    ids = list(suggestions_for_editor(article=article, editor=editor).filter(label=label).values_list("pk", flat=True))
    return [(pk, suggestion_accept(suggestion_id=pk, article=article, editor=editor)) for pk in ids]


@transaction.atomic
def suggestion_reject(*, suggestion_id: int, article: Article, editor: Actor) -> Suggestion:
    """Hide a suggestion from ``editor`` on this article for good (until they undo it)."""
    require(editor, "annotations.add_span", reason="You may not label articles.")
    suggestion = _shown(suggestion_id=suggestion_id, article=article, editor=editor)
    _decide(suggestion=suggestion, editor=editor, decision=DecisionKind.REJECTED)
    return suggestion


@transaction.atomic
def suggestion_unreject(*, suggestion_id: int, article: Article, editor: Actor) -> Suggestion:
    """Undo a rejection: the suggestion shows again for ``editor``."""
    require(editor, "annotations.add_span", reason="You may not label articles.")
    suggestion = Suggestion.objects.filter(pk=suggestion_id, article=article).select_related("label").first()
    if suggestion is None:
        raise ValidationError("That suggestion has been withdrawn since; there is nothing to bring back.")
    deleted, _ = SuggestionDecision.objects.filter(
        article=article,
        label_id=suggestion.label_id,
        start=suggestion.start,
        end=suggestion.end,
        editor=editor,
        decision=DecisionKind.REJECTED,
    ).delete()
    if not deleted:
        raise ValidationError("That suggestion is no longer rejected.")
    return suggestion


@transaction.atomic
def suggestions_unaccept(
    *, span_ids: Iterable[int], article: Article, editor: Actor
) -> list[tuple[int, int, int, int]]:
    """Undo accepting: delete the spans accepting made and forget the decisions, so the suggestions show again.
    Returns the spans deleted, as ``(id, start, end, label_id)``."""
    spans = list(Span.objects.filter(pk__in=list(span_ids), article=article).select_related("label"))
    if not spans:
        raise ValidationError("Those spans were deleted after you accepted them (by a reviewer or in another tab).")
    deleted = []
    for span in spans:
        if span.annotator_id != editor.pk:
            raise PermissionDenied("This span belongs to another editor.")
        deleted.append((span.pk, span.start, span.end, span.label_id))
        SuggestionDecision.objects.filter(editor=editor, span=span, decision=DecisionKind.ACCEPTED).delete()
        span_delete(span=span, actor=editor)
    return deleted
