"""Undo in the workspace: one typed history per editor and article, and the one function that reverses an entry.

An entry records a change as it was made (``Created``, ``Deleted``, ``Relabelled``). Undoing it re-checks the
present first: a span deleted or changed meanwhile (another tab, a reviewer), a label merged away or retired,
an editor deleted. Whatever no longer fits is refused with a sentence and the entry is dropped, so the next
Ctrl+Z moves on to the one before it; undo never fails with a server error.

Storage is behind ``UndoStore`` (``load``/``append``/``pop``): ``DatabaseUndoStore`` keeps it in PostgreSQL per
editor and article, written in the transaction of the change, so it survives tabs, sessions and web processes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple, Protocol

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.http import refusal_reason
from annotations.models import Label, Span
from annotations.permissions import Actor
from annotations.presentation import excerpt
from annotations.spans.services import SpanSnapshot, span_bring_back, span_remove, span_update
from annotations.suggestions.decisions import suggestion_unreject, suggestions_unaccept
from annotations.workspace.models import UndoEntry
from articles.models import Article

UNDO_DEPTH = 50  # entries kept per editor and article
UNDO_MAX_AGE = timedelta(days=30)  # an editor's history older than this is dropped
CHANGED_MEANWHILE = (
    "That span was changed after your edit (by a reviewer or in another tab); the page now shows what is stored."
)
GONE_MEANWHILE = "That span was deleted after your edit (by a reviewer or in another tab)."


@dataclass(frozen=True)
class Created:
    span: int
    label: int  # the label it was created with


@dataclass(frozen=True)
class Deleted:
    snapshot: SpanSnapshot


@dataclass(frozen=True)
class Relabelled:
    span: int
    label: int  # the label it was given
    previous: int  # the label it had
    previous_name: str  # to name it once it is gone


# Suggestions (issue 12): self-contained entries, reversed by ``annotations.suggestions.decisions``.
@dataclass(frozen=True)
class SuggestionRejected:
    suggestion: int


@dataclass(frozen=True)
class SuggestionsAccepted:
    spans: tuple[int, ...]  # the spans accepting made (one, or all of a label)


Entry = Created | Deleted | Relabelled | SuggestionRejected | SuggestionsAccepted


class Place(NamedTuple):
    """The one span whose place in the text an undo changed: where it is, and its label before the undo (None:
    it was not there, the undo brought it back). Or the one suggestion an undone rejection shows again:
    ``span`` is its id as drawn (negative), ``suggested`` its label."""

    span: int
    start: int
    end: int
    label_before: int | None
    suggested: int | None = None


@dataclass(frozen=True)
class Undone:
    message: str
    refused: bool = False  # the entry could not be reversed (and was dropped): ``message`` says why
    # Where the reversal changed one span's place (or showed one suggestion again), so the answer can redraw just
    # that stretch; None when it changed nothing, or several labels' places.
    place: Place | None = field(default=None, compare=False)
    # The other spans it took away with ``place``'s (undoing "accept all": the same label, other places).
    others: tuple[Place, ...] = field(default=(), compare=False)


class UndoStore(Protocol):
    """One editor's history on one article, oldest first."""

    def load(self) -> list[Entry]: ...

    def append(self, entry: Entry) -> None: ...

    def pop(self) -> Entry | None: ...

    def count(self) -> int: ...


def to_json(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, Created):
        return {"op": "create", **asdict(entry)}
    if isinstance(entry, Deleted):
        return {"op": "delete", "snapshot": asdict(entry.snapshot)}
    if isinstance(entry, SuggestionRejected):
        return {"op": "suggestion-reject", "suggestion": entry.suggestion}
    if isinstance(entry, SuggestionsAccepted):
        return {"op": "suggestion-accept", "spans": list(entry.spans)}
    return {"op": "relabel", **asdict(entry)}


def from_json(data: Any) -> Entry | None:
    """The entry ``to_json`` wrote; None for anything else (an older format), which is then forgotten."""
    try:
        op = data.pop("op") if isinstance(data, dict) else None
        if op == "create":
            return Created(**data)
        if op == "delete":
            return Deleted(SpanSnapshot(**data["snapshot"]))
        if op == "relabel":
            return Relabelled(**data)
        if op == "suggestion-reject":
            return SuggestionRejected(suggestion=int(data["suggestion"]))
        if op == "suggestion-accept":
            return SuggestionsAccepted(spans=tuple(int(pk) for pk in data["spans"]))
    except (TypeError, KeyError):
        pass
    return None


_APPEND_SQL = """
WITH pruned AS (
    DELETE FROM annotations_undoentry
    WHERE user_id = %(user)s
      AND (created_at < %(before)s
           OR (article_id = %(article)s AND id <= (
                SELECT id FROM annotations_undoentry
                WHERE user_id = %(user)s AND article_id = %(article)s
                ORDER BY id DESC OFFSET %(kept)s LIMIT 1)))
    RETURNING article_id
), added AS (
    INSERT INTO annotations_undoentry (user_id, article_id, entry, created_at)
    VALUES (%(user)s, %(article)s, %(entry)s::jsonb, %(now)s)
)
SELECT (SELECT count(*) FROM annotations_undoentry WHERE user_id = %(user)s AND article_id = %(article)s)
     - (SELECT count(*) FROM pruned WHERE article_id = %(article)s) + 1
"""


# SKIP LOCKED: two Ctrl+Z in flight (two tabs, two workers) take the newest two entries, one each.
_POP_SQL = """
DELETE FROM annotations_undoentry
WHERE id = (SELECT id FROM annotations_undoentry
            WHERE user_id = %(user)s AND article_id = %(article)s
            ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING entry
"""


class DatabaseUndoStore:
    """The history in ``UndoEntry`` rows, per editor and article: every tab, session and web process shares it.

    Call inside the transaction of the change (``append``) or of its reversal (``pop``): the entry commits or
    rolls back with it.
    """

    def __init__(self, *, user_id: int, article_id: int) -> None:
        self.user_id, self.article_id = user_id, article_id
        self.counted: int | None = None  # how many entries ``append`` left, so the answer need not count again

    @property
    def rows(self) -> QuerySet[UndoEntry]:
        # Built when used: most requests make a store only to append one entry (raw SQL) or not at all.
        return UndoEntry.objects.filter(user_id=self.user_id, article_id=self.article_id)

    def load(self) -> list[Entry]:
        raw = self.rows.order_by("id").values_list("entry", flat=True)
        return [entry for entry in (from_json(dict(item)) for item in raw) if entry is not None]

    def count(self) -> int:
        return self.rows.count() if self.counted is None else self.counted

    def append(self, entry: Entry) -> None:
        """Insert the entry and prune, in one statement (one round trip on every change): this article's oldest
        beyond UNDO_DEPTH, and this editor's entries untouched for UNDO_MAX_AGE. The DELETE does not see the
        row being inserted (one snapshot for the whole statement), so the newest UNDO_DEPTH - 1 it sees stay; and
        the count it selects is of that same snapshot: the entries before, less the pruned, plus the new one."""
        with connection.cursor() as cursor:
            cursor.execute(
                _APPEND_SQL,
                {
                    "user": self.user_id,
                    "article": self.article_id,
                    "entry": json.dumps(to_json(entry)),
                    "now": timezone.now(),
                    "before": timezone.now() - UNDO_MAX_AGE,
                    "kept": UNDO_DEPTH - 1,
                },
            )
            self.counted = cursor.fetchone()[0]

    def pop(self) -> Entry | None:
        """Take the newest entry off, in one statement."""
        self.counted = None
        with connection.cursor() as cursor:
            cursor.execute(_POP_SQL, {"user": self.user_id, "article": self.article_id})
            row = cursor.fetchone()
        if row is None:
            return None
        entry = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        return from_json(entry)


def undo_record(store: UndoStore, entry: Entry) -> None:
    """Remember a change the editor made (a create that found its span already there is not one: not recorded)."""
    store.append(entry)


@transaction.atomic(savepoint=False)  # a refusal is caught below; anything else rolls the caller's work back
def undo_last(*, article: Article, actor: Actor, store: UndoStore) -> Undone:
    """Reverse the newest entry and drop it; a refusal drops it too, and says why."""
    entry = store.pop()
    if entry is None:
        return Undone("Nothing to undo on this article.")
    try:
        with transaction.atomic():
            return _reverse(entry, article=article, actor=actor)
    except (PermissionDenied, ValidationError, ObjectDoesNotExist) as error:
        return Undone(f"Could not undo: {refusal_reason(error)}", refused=True)


def _current(article: Article, span_id: int) -> Span:
    span = Span.objects.filter(pk=span_id, article=article).select_related("label").first()
    if span is None:
        raise ValidationError(GONE_MEANWHILE)
    return span


def _reverse(entry: Entry, *, article: Article, actor: Actor) -> Undone:
    if isinstance(entry, SuggestionRejected):
        suggestion = suggestion_unreject(suggestion_id=entry.suggestion, article=article, editor=actor)
        return Undone(
            f"The suggestion {suggestion.label.name} “{excerpt(suggestion.text)}” is back.",
            place=Place(-suggestion.pk, suggestion.start, suggestion.end, None, suggested=suggestion.label_id),
        )
    if isinstance(entry, SuggestionsAccepted):
        deleted = suggestions_unaccept(span_ids=entry.spans, article=article, editor=actor)
        count = len(deleted)
        message = f"Accepting undone: {count} suggestion{'s are' if count != 1 else ' is'} pending again."
        # Each accept undone is a span deleted (its suggestion shows again there, as after a delete).
        places = [Place(*row) for row in deleted]
        return Undone(message, place=places[0], others=tuple(places[1:]))
    if isinstance(entry, Deleted):
        if entry.snapshot.article_id != article.pk:
            raise ValidationError("That change belongs to another article.")
        restored = span_bring_back(snapshot=entry.snapshot, actor=actor)
        return Undone(
            f"Restored {restored.label.name} “{excerpt(restored.text)}”.",
            place=Place(restored.pk, restored.start, restored.end, None),
        )
    span = _current(article, entry.span)
    if span.label_id != entry.label:
        raise ValidationError(CHANGED_MEANWHILE)
    place = Place(span.pk, span.start, span.end, span.label_id)
    if isinstance(entry, Created):
        span_remove(span, actor=actor)  # inside undo_last's savepoint
        return Undone(f"Removed {span.label.name} “{excerpt(span.text)}”.", place=place)
    previous = Label.objects.filter(pk=entry.previous).first()
    if previous is None:
        raise ValidationError(f"The label {entry.previous_name} no longer exists (merged into another label?).")
    name = span.label.name
    span_update(span=span, actor=actor, label=previous)
    return Undone(f"Relabelled “{excerpt(span.text)}” back from {name} to {previous.name}.", place=place)
