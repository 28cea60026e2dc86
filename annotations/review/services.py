"""Review decisions: each one transactional, checked against the current layers, recorded with the editor spans it
settles, and undoable. Only reviewers (``annotations.review_gold``) make them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from annotations.models import Label, Span
from annotations.permissions import Actor, require
from annotations.progress import article_mark_reviewed
from annotations.review.alignment import Conflict, EditorSpan, Version, majority_winner
from annotations.review.focus import Focus, review_focus
from annotations.review.models import GoldDecision, GoldSource, GoldSpan, ReviewAction, ReviewDecision
from annotations.review.rendering import GoldRow
from annotations.review.selectors import ReviewState, editor_letters, review_settings, review_state
from annotations.spans.offsets import check_offsets
from annotations.spans.services import check_label
from articles.models import Article

REVIEW_GOLD = "annotations.review_gold"
AUTO_MERGE_USERNAME = "auto-merge"
NOT_A_REVIEWER = "Only reviewers settle editors' spans into gold."
STALE = "The editors' spans here changed since this page was drawn. The page now shows them as they are; decide again."


class StaleReview(ValidationError):
    """The page's view of the layers is out of date: nothing was saved."""


@dataclass(frozen=True)
class ReviewOutcome:
    """What a decision saved, for the reviewer's confirmation: counts only, never an editor's name. Decisions on
    one conflict or one span also say what the page must redraw: the layers as the decision found them
    (``before``, or for a decision on one conflict only what it read around it, ``focus``), the conflict it
    settled and the gold spans it created."""

    message: str
    gold_created: int = 0
    settled: int = 0
    before: ReviewState | None = field(default=None, repr=False, compare=False)
    focus: Focus | None = field(default=None, repr=False, compare=False)
    conflict: Conflict | None = field(default=None, repr=False, compare=False)
    gold_made: tuple[GoldRow, ...] = ()


def _lock(article: Article) -> None:
    # One reviewer decision at a time per article; editors' span writes lock the same row (FOR NO KEY UPDATE).
    # Only the id comes back: the caller holds the article, and its body is long.
    if not list(Article.objects.select_for_update(no_key=True).filter(pk=article.pk).values_list("pk", flat=True)):
        raise Article.DoesNotExist("No such article.")


def _begin(*, article: Article, reviewer: Actor, fingerprint: bool = False, with_gold: bool = False) -> ReviewState:
    require(reviewer, REVIEW_GOLD, reason=NOT_A_REVIEWER)
    _lock(article)
    return review_state(article=article, fingerprint=fingerprint, with_gold=with_gold)


def _decision(
    *, article: Article, reviewer: Actor, action: str, span_ids: Iterable[int], note: str = ""
) -> ReviewDecision:
    return ReviewDecision.objects.create(
        article=article,
        reviewer=reviewer,
        action=action,
        span_ids=sorted(set(span_ids)),
        note=note,
        created_at=timezone.now(),
    )


def _gold(
    *,
    article: Article,
    label_id: int,
    start: int,
    end: int,
    text: str,
    kind: str,
    reviewer: Actor,
    decision: ReviewDecision,
    sources: Iterable[EditorSpan],
    note: str = "",
    attributes: dict[str, Any] | None = None,
    known: dict[tuple[int, int, int], int] | None = None,
    made: list[GoldRow] | None = None,
) -> tuple[int, bool]:
    """The gold span ``(label, start, end)`` (created unless it exists) and whether it was created, with the
    editor spans it came from. ``known`` maps the gold layer's ``(label, start, end)`` to ids, read under the
    article's lock (every gold write takes it), so creating needs no lookup first; ``made`` collects new rows."""
    if known is None:
        gold, created = GoldSpan.objects.get_or_create(
            article=article,
            label_id=label_id,
            start=start,
            end=end,
            defaults={
                "text": text,
                "decision": kind,
                "accepted_by": reviewer,
                "accepted_at": decision.created_at,
                "made_by": decision,
                "note": note,
                "attributes": attributes or {},
            },
        )
        gold_id = gold.pk
    elif (label_id, start, end) in known:
        gold_id, created = known[(label_id, start, end)], False
    else:
        gold_id = GoldSpan.objects.create(
            article=article,
            label_id=label_id,
            start=start,
            end=end,
            text=text,
            decision=kind,
            accepted_by=reviewer,
            accepted_at=decision.created_at,
            made_by=decision,
            note=note,
            attributes=attributes or {},
        ).pk
        known[(label_id, start, end)], created = gold_id, True
        if made is not None:
            made.append(GoldRow(gold_id, start, end, label_id, text, kind))
    GoldSource.objects.bulk_create(
        [
            GoldSource(
                gold_id=gold_id,
                decision=decision,
                span_id=span.id,
                span_ref=span.id,
                annotator_id=span.annotator_id,
                label_id=span.label_id,
                start=span.start,
                end=span.end,
                text=span.text,
            )
            for span in sources
        ],
        ignore_conflicts=True,
    )
    return gold_id, created


def _known(state: ReviewState) -> dict[tuple[int, int, int], int]:
    return {(row.label_id, row.start, row.end): row.pk for row in state.gold or []}


def _version_gold(
    *,
    article: Article,
    version: Version,
    kind: str,
    reviewer: Actor,
    decision: ReviewDecision,
    known: dict[tuple[int, int, int], int] | None = None,
    made: list[GoldRow] | None = None,
) -> tuple[int, bool]:
    # A claim's attributes and notes travel with it: taken from the first editor's span of the version.
    first = Span.objects.filter(pk=version.spans[0].id).values_list("note", "attributes").first() or ("", {})
    return _gold(
        article=article,
        label_id=version.label_id,
        start=version.start,
        end=version.end,
        text=version.text,
        kind=kind,
        reviewer=reviewer,
        decision=decision,
        sources=version.spans,
        note=first[0],
        attributes=first[1],
        known=known,
        made=made,
    )


def _focus(*, article: Article, reviewer: Actor, conflict: str) -> tuple[Focus, Conflict]:
    """The review around the open conflict ``conflict`` (a key), read under the article's lock: only what a
    decision on it touches (``focus``)."""
    require(reviewer, REVIEW_GOLD, reason=NOT_A_REVIEWER)
    _lock(article)
    first = conflict.split(",", 1)[0]
    # A key names spans by id: anything else, or an id no bigint holds, names no conflict there is.
    if not (first.isascii() and first.isdigit()) or int(first) >= 2**63:
        raise StaleReview(STALE)
    focus = review_focus(article=article, span_id=int(first), length=len(article.body))
    found = focus.conflict
    if found is None or found.key != conflict:
        raise StaleReview(STALE)
    if found.settled:
        raise ValidationError("This conflict is settled already; undo (u) to decide it again.")
    return focus, found


@transaction.atomic
def review_accept_version(
    *, article: Article, reviewer: Actor, conflict: str, editor_id: int | None = None, letter: str = ""
) -> ReviewOutcome:
    """Settle ``conflict`` with one editor's reading of it (by id, or by the letter the page shows): their spans
    there become gold, the rest rejected."""
    focus, found = _focus(article=article, reviewer=reviewer, conflict=conflict)
    if letter:
        editor_id = next((e for e, shown in editor_letters(focus.editor_ids).items() if shown == letter), None)
    if editor_id not in focus.editor_ids:
        raise ValidationError("There is no such editor on this article.")
    versions = found.versions_of(editor_id)
    made = _focus_accept(article=article, focus=focus, conflict=found, versions=versions, reviewer=reviewer)
    if not versions:
        message = "Accepted a version with no span here: nothing added to gold, conflict settled."
    else:
        message = f"Accepted {len(versions)} span(s) into gold; conflict settled."
    return ReviewOutcome(message, len(made), 1, focus=focus, conflict=found, gold_made=tuple(made))


# One statement for the decision, the gold spans it creates and the editor spans they came from: the inserts of a
# decision on one conflict cost one round trip. Gold spans the layer has already (``known``) only gain sources.
_ACCEPT_SQL = """
WITH decision AS (
  INSERT INTO annotations_reviewdecision (article_id, reviewer_id, action, span_ids, note, created_at)
  VALUES (%(article)s, %(reviewer)s, %(action)s, %(span_ids)s, '', %(at)s)
  RETURNING id
),
gold AS (
  INSERT INTO annotations_goldspan
    (article_id, label_id, start, "end", text, note, attributes, decision, accepted_by_id, accepted_at, made_by_id)
  SELECT %(article)s, g.label_id, g.start, g."end", g.text, g.note, g.attributes, %(kind)s, %(reviewer)s, %(at)s,
         decision.id
  FROM decision,
       jsonb_to_recordset(%(gold)s::jsonb)
         AS g(label_id int, start int, "end" int, text text, note text, attributes jsonb)
  RETURNING id, label_id, start, "end", text
),
sources AS (
  INSERT INTO annotations_goldsource
    (gold_id, decision_id, span_id, span_ref, annotator_id, label_id, start, "end", text)
  SELECT coalesce(s.gold_id, gold.id), decision.id, s.span_id, s.span_id, s.annotator_id, s.label_id, s.start, s."end",
         s.text
  FROM decision,
       jsonb_to_recordset(%(sources)s::jsonb)
         AS s(gold_id bigint, span_id bigint, annotator_id int, label_id int, start int, "end" int, text text)
       LEFT JOIN gold ON (gold.label_id, gold.start, gold."end") = (s.label_id, s.start, s."end")
  ON CONFLICT DO NOTHING
)
SELECT json_agg(json_build_array(id, start, "end", label_id, text)) FROM gold
"""


def _focus_accept(
    *, article: Article, focus: Focus, conflict: Conflict, versions: list[Version], reviewer: Actor
) -> list[GoldRow]:
    """The decision accepting ``versions`` of the focused ``conflict``: its record, the gold spans gold lacks, each
    version's editor spans as sources (a claim's note and attributes travel with it, taken from the first
    editor's span of the version). Returns the gold rows created, for the page."""
    known = {(row.label_id, row.start, row.end): row.pk for row in focus.gold}
    gold, sources = [], []
    for version in versions:
        place = (version.label_id, version.start, version.end)
        first = focus.spans[version.spans[0].id]
        if place not in known:
            gold.append(
                {
                    "label_id": version.label_id,
                    "start": version.start,
                    "end": version.end,
                    "text": version.text,
                    "note": first.note,
                    "attributes": first.attributes,
                }
            )
        sources += [
            {
                "gold_id": known.get(place),
                "span_id": span.id,
                "annotator_id": span.annotator_id,
                "label_id": span.label_id,
                "start": span.start,
                "end": span.end,
                "text": span.text,
            }
            for span in version.spans
        ]
    params: dict[str, Any] = {
        "article": article.pk,
        "reviewer": reviewer.pk,
        "action": ReviewAction.ACCEPT.value,
        "span_ids": conflict.span_ids,
        "at": timezone.now(),
        "kind": GoldDecision.ACCEPTED.value,
        "gold": json.dumps(gold),
        "sources": json.dumps(sources),
    }
    with connection.cursor() as cursor:
        cursor.execute(_ACCEPT_SQL, params)
        made = cursor.fetchone()[0] or []
    return [
        GoldRow(pk, start, end, label_id, text, GoldDecision.ACCEPTED.value) for pk, start, end, label_id, text in made
    ]


@transaction.atomic
def review_reject(*, article: Article, reviewer: Actor, conflict: str) -> ReviewOutcome:
    """Settle ``conflict`` with nothing in gold."""
    focus, found = _focus(article=article, reviewer=reviewer, conflict=conflict)
    _decision(article=article, reviewer=reviewer, action=ReviewAction.REJECT, span_ids=found.span_ids)
    message = f"Rejected {len(found.span_ids)} editor span(s); conflict settled."
    return ReviewOutcome(message, 0, 1, focus=focus, conflict=found)


@transaction.atomic
def review_add(
    *,
    article: Article,
    reviewer: Actor,
    label: Label,
    start: Any,
    end: Any,
    text: str | None,
    conflict: str = "",
) -> ReviewOutcome:
    """Add a gold span of the reviewer's own; with an open ``conflict`` it overlaps, it adjusts and settles it."""
    state = _begin(article=article, reviewer=reviewer, with_gold=True)
    check_label(label)
    start, end, actual = check_offsets(body=article.body, start=start, end=end, text=text)
    found = state.alignment.conflict(conflict) if conflict else None
    adjusts = found is not None and not found.settled and start < found.end and found.start < end
    sources: list[EditorSpan] = []
    if adjusts and found is not None:
        decision = _decision(article=article, reviewer=reviewer, action=ReviewAction.ADJUST, span_ids=found.span_ids)
        sources = [span for version in found.versions if version.label_id == label.pk for span in version.spans]
    else:
        decision = _decision(article=article, reviewer=reviewer, action=ReviewAction.ADD, span_ids=[])
    made: list[GoldRow] = []
    _, created = _gold(
        article=article,
        label_id=label.pk,
        start=start,
        end=end,
        text=actual,
        kind=GoldDecision.ADJUSTED if adjusts else GoldDecision.ADDED,
        reviewer=reviewer,
        decision=decision,
        sources=sources,
        known=_known(state),
        made=made,
    )
    if not created:
        raise ValidationError(f"Gold already has this {label.name} span at {start}–{end}.")
    if adjusts:
        message = f"Adjusted to {label.name} {start}–{end}; conflict settled."
        return ReviewOutcome(message, 1, 1, before=state, conflict=found, gold_made=tuple(made))
    return ReviewOutcome(f"Added {label.name} {start}–{end} to gold.", 1, 0, before=state, gold_made=tuple(made))


@transaction.atomic
def review_accept_agreed(*, article: Article, reviewer: Actor) -> ReviewOutcome:
    """Every agreed span not yet decided becomes gold, all in one transaction: all saved, or none and an error."""
    state = _begin(article=article, reviewer=reviewer)
    versions = state.alignment.agreed_open()
    if not versions:
        return ReviewOutcome("There are no agreed spans left to accept.")
    decision = _decision(
        article=article,
        reviewer=reviewer,
        action=ReviewAction.ACCEPT_AGREED,
        span_ids=[span_id for version in versions for span_id in version.span_ids],
    )
    created = sum(
        _version_gold(article=article, version=v, kind=GoldDecision.ACCEPTED, reviewer=reviewer, decision=decision)[1]
        for v in versions
    )
    return ReviewOutcome(f"Accepted {len(versions)} agreed span(s): {created} new in gold.", created, len(versions))


def _strategy_choices(state: ReviewState, strategy: str, threshold: int) -> list[tuple[Version, list[int]]]:
    """What the merge strategy accepts among the undecided: every agreed span, and with "majority" each open
    conflict's majority version (with the editor spans it settles)."""
    chosen: list[tuple[Version, list[int]]] = [(v, v.span_ids) for v in state.alignment.agreed_open()]
    if strategy == "majority":
        for conflict in state.alignment.open_conflicts():
            winner = majority_winner(conflict, threshold=threshold)
            if winner is not None:
                chosen.append((winner, conflict.span_ids))
    return chosen


def auto_merge_account() -> Actor:
    """The account automatic merges are recorded under (never a person, cannot log in): gold's provenance then
    says "merged automatically" rather than naming an editor or a reviewer who never looked."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        **{User.USERNAME_FIELD: AUTO_MERGE_USERNAME}, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def review_auto_merge(*, article: Article) -> ReviewOutcome:
    """Called by the progress service in the transaction that makes ``article`` ready for review: what the merge
    strategy accepts becomes gold without a reviewer pressing a key (decision ``auto``, recorded as a merge with
    the editor spans it came from). Decisions a reviewer already made are left as they are."""
    _lock(article)
    state = review_state(article=article, fingerprint=False)
    settings = review_settings(article=article)
    chosen = _strategy_choices(state, settings.strategy, settings.threshold)
    if not chosen:
        return ReviewOutcome("Automatic merge found nothing the strategy accepts.")
    account = auto_merge_account()
    decision = _decision(
        article=article,
        reviewer=account,
        action=ReviewAction.MERGE,
        span_ids=[span_id for _, ids in chosen for span_id in ids],
        note=f"Automatic merge ({settings.strategy}) when the article became ready for review.",
    )
    created = sum(
        _version_gold(article=article, version=v, kind=GoldDecision.AUTO, reviewer=account, decision=decision)[1]
        for v, _ in chosen
    )
    return ReviewOutcome(f"Merged {len(chosen)} span(s) automatically.", created, len(chosen))


@transaction.atomic
def review_merge(*, article: Article, reviewer: Actor) -> ReviewOutcome:
    """Apply the merge strategy to what is undecided; decisions the reviewer made stay as they are."""
    state = _begin(article=article, reviewer=reviewer)
    settings = review_settings(article=article)
    chosen = _strategy_choices(state, settings.strategy, settings.threshold)
    if not chosen:
        return ReviewOutcome("Merge found nothing undecided that the strategy accepts.")
    decision = _decision(
        article=article,
        reviewer=reviewer,
        action=ReviewAction.MERGE,
        span_ids=[span_id for _, ids in chosen for span_id in ids],
    )
    created = sum(
        _version_gold(article=article, version=v, kind=GoldDecision.AUTO, reviewer=reviewer, decision=decision)[1]
        for v, _ in chosen
    )
    return ReviewOutcome(f"Merged {len(chosen)} span(s) by the {settings.strategy} strategy.", created, len(chosen))


@transaction.atomic
def review_undo(*, article: Article, reviewer: Actor) -> ReviewOutcome:
    """Undo this reviewer's latest live decision on ``article`` (or, once none is left, the automatic merge): the
    gold it made goes, its spans are open again."""
    require(reviewer, REVIEW_GOLD, reason=NOT_A_REVIEWER)
    _lock(article)
    decision = (
        ReviewDecision.objects.filter(article=article, undone_at__isnull=True)
        .filter(Q(reviewer=reviewer) | Q(reviewer__username=AUTO_MERGE_USERNAME))  # the automatic merge too
        .exclude(action=ReviewAction.REVIEWED)
        .order_by("-created_at", "-id")
        .first()
    )
    if decision is None:
        raise ValidationError("There is nothing of yours to undo on this article.")
    GoldSource.objects.filter(decision=decision).delete()
    removed, _ = GoldSpan.objects.filter(made_by=decision).delete()
    decision.undone_at = timezone.now()
    decision.save(update_fields=["undone_at"])
    return ReviewOutcome(f"Undid “{decision.get_action_display()}”: {removed} gold span(s) removed.")


@transaction.atomic
def review_mark_reviewed(*, article: Article, reviewer: Actor, state: str, override_note: str = "") -> ReviewOutcome:
    """Mark ``article`` reviewed, acting on the layers as they are now (refused if they changed since ``state``),
    with every conflict and agreed span settled unless ``override_note`` says why not."""
    current = _begin(article=article, reviewer=reviewer, fingerprint=True)
    if state != current.state:
        raise StaleReview(
            "The editors' layers changed since this page was drawn; nothing was marked. Look at them again first."
        )
    open_conflicts = len(current.alignment.open_conflicts())
    open_agreed = len(current.alignment.agreed_open())
    if (open_conflicts or open_agreed) and not override_note.strip():
        raise ValidationError(
            f"{open_conflicts} conflict(s) and {open_agreed} agreed span(s) are not settled yet. "
            "Settle them, or give a note saying why the article is reviewed anyway."
        )
    _decision(article=article, reviewer=reviewer, action=ReviewAction.REVIEWED, span_ids=[], note=override_note.strip())
    article_mark_reviewed(article=article, actor=reviewer)
    return ReviewOutcome("Marked reviewed." + (" (Override noted.)" if open_conflicts or open_agreed else ""))
