"""Propagation: a labelled string becomes suggestions wherever else it occurs as a whole word.

In one article right after an editor labels it (``suggestions_propagate_span``), and across the corpus as a
gazetteer a curator runs (``gazetteer_propagate``). The same rules both ways: whole words with Unicode word
boundaries (``regex``: letters, marks and digits of every script count as word characters, so "Lee" is not
found inside "Leeds" nor "Ana" inside "Anaïs"), and never across or over a span someone gave a different label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import regex
from django.db import connection, transaction

from annotations.models import Label, LabelKind, Span
from annotations.permissions import Actor, require
from annotations.suggestions.models import Suggestion, SuggestionOrigin, SuggestionStatus
from articles.models import Article

BATCH = 500  # articles per query and per bulk insert in a corpus-wide pass
MIN_TERM = 2  # shorter strings ("a", "I") would be suggested everywhere


def whole_word_pattern(terms: Iterable[str]) -> regex.Pattern[str]:
    """One pattern finding any of ``terms`` as a whole word; longer terms win where several start together."""
    alternatives = "|".join(regex.escape(term) for term in sorted(set(terms), key=lambda t: (-len(t), t)))
    return regex.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", regex.VERSION1)


def _blocked(start: int, end: int, label_id: int, spans: Sequence[tuple[int, int, int]]) -> bool:
    """A span with another label crosses ``[start, end)`` or lies inside it (one strictly around it is fine)."""
    for other_start, other_end, other_label in spans:
        if other_label == label_id or other_end <= start or other_start >= end:
            continue
        if other_start <= start and other_end >= end and (other_start, other_end) != (start, end):
            continue  # a CLAIM sentence around a PERSON name
        return True
    return False


def occurrences(
    body: str, pattern: regex.Pattern[str], labels: dict[str, int], spans: Sequence[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    """``(start, end, label_id)`` of each whole-word match of a term in ``labels`` not blocked by ``spans``."""
    found = []
    for match in pattern.finditer(body, overlapped=False):
        label_id = labels.get(match.group())
        if label_id is None:
            continue
        start, end = match.span()
        if not _blocked(start, end, label_id, spans):
            found.append((start, end, label_id))
    return found


def usable_term(text: str) -> bool:
    return len(text) >= MIN_TERM and text == text.strip() and regex.search(r"\w", text) is not None


# One label on a word that recurs everywhere (a stop word labelled PERSON by mistake) would otherwise suggest it
# at every one of its hundreds of places, and the editor's create would wait for all of them: one create suggests
# at most this many places, the nearest to the labelled one first. The editor can label again further on.
MAX_PER_CREATE = 200

# Which places get a suggestion, decided in PostgreSQL in one statement: the places come in as two arrays (found
# in Python, where ``regex`` knows Unicode word boundaries); a place is left out when a span with another label
# crosses it or lies inside it (one strictly around it is fine), when this editor has it suggested already, or
# labelled it the same way (a suggestion there would never be shown to them, as in the gazetteer's pass).
# Each span test is an index probe per place (span_article_start_idx, span_article_end_idx): OFFSET 0 keeps each
# NOT EXISTS a subplan run per place rather than an anti-join the planner chooses (they hashed every span of the
# article per create, and planning five joins took ~0.5 ms; now ~0.15 ms).
# A place this editor has suggested already: when every place fits under the cap, the insert's own ON CONFLICT
# skips it, a probe of the unique index (suggestion_unique_place) whatever the statistics say. As a test of its
# own it was planned from them: a table that grew since its last ANALYZE passes for empty, and each place then
# read every suggestion of the editor (a nested loop, 412,000 comparisons and 51 ms for a stop word's 649 places;
# 1.9 ms per create on average in bench/annotate.py, 3.4 ms as a subplan per place on the editor's index). Past
# the cap the test stays (OFFSET 0, per place), so that the nearest places not yet suggested fill the cap.
_PROPAGATE_SQL = """
INSERT INTO annotations_suggestion
    (article_id, label_id, start, "end", text, origin, status, created_at, created_by_id, derived_from_id)
SELECT %(article)s, %(label)s, place.start, place."end", %(text)s, %(origin)s, %(status)s, now(),
       %(editor)s, %(editor)s
FROM unnest(%(starts)s::integer[], %(ends)s::integer[]) AS place(start, "end")
WHERE NOT EXISTS (
        SELECT 1 FROM annotations_span span
        WHERE span.article_id = %(article)s AND span.label_id <> %(label)s
          AND span.start > place.start AND span.start < place."end"
        OFFSET 0)
  AND NOT EXISTS (
        SELECT 1 FROM annotations_span span
        WHERE span.article_id = %(article)s AND span.label_id <> %(label)s
          AND span."end" > place.start AND span."end" < place."end"
        OFFSET 0)
  AND NOT EXISTS (
        SELECT 1 FROM annotations_span span
        WHERE span.article_id = %(article)s AND span.label_id <> %(label)s
          AND span.start = place.start AND span."end" = place."end"
        OFFSET 0)
  AND NOT EXISTS (
        SELECT 1 FROM annotations_span span
        WHERE span.article_id = %(article)s AND span.label_id = %(label)s
          AND span.start = place.start AND span."end" = place."end" AND span.annotator_id = %(editor)s
        OFFSET 0)
{suggested}ORDER BY abs(place.start - %(at)s), place.start
LIMIT %(cap)s
ON CONFLICT DO NOTHING
RETURNING id
"""
_SUGGESTED = """  AND NOT EXISTS (
        SELECT 1 FROM annotations_suggestion suggested
        WHERE suggested.article_id = %(article)s AND suggested.label_id = %(label)s
          AND suggested.start = place.start AND suggested."end" = place."end"
          AND suggested.derived_from_id = %(editor)s
        OFFSET 0)
"""
_PROPAGATE_UNDER_CAP = _PROPAGATE_SQL.replace("{suggested}", "")
_PROPAGATE_PAST_CAP = _PROPAGATE_SQL.replace("{suggested}", _SUGGESTED)


def suggestions_propagate_span(*, span: Span, body: str | None = None) -> int:
    """``suggestions_propagate_span_ids``, counted."""
    return len(suggestions_propagate_span_ids(span=span, body=body))


def suggestions_propagate_span_ids(*, span: Span, body: str | None = None) -> list[int]:
    """Suggest ``span``'s label on other whole-word occurrences of its text in its article, for its editor.

    Entity labels only (a claim or a boilerplate passage is not a name that recurs); returns how many were new.
    Bounded work whatever the text: one regex pass over the body (``body`` if the caller has it, else one read)
    and one INSERT … SELECT that applies the blocking rules and inserts at most ``MAX_PER_CREATE`` places
    (one statement: atomic on its own, no savepoint needed). Returns the new suggestions' ids.
    """
    label = span.label
    if label.kind != LabelKind.ENTITY or not usable_term(span.text):
        return []
    if body is None:
        body = Article.objects.values_list("body", flat=True).get(pk=span.article_id)
    places = [
        match.span()
        for match in whole_word_pattern([span.text]).finditer(body)
        if match.span() != (span.start, span.end)
    ]
    if not places:
        return []
    params: dict[str, Any] = {
        "article": span.article_id,
        "label": label.pk,
        "text": span.text,
        "origin": SuggestionOrigin.PROPAGATION.value,
        "status": SuggestionStatus.PENDING.value,
        "editor": span.annotator_id,
        "starts": [start for start, _ in places],
        "ends": [end for _, end in places],
        "at": span.start,
        "cap": MAX_PER_CREATE,
    }
    with connection.cursor() as cursor:
        # A concurrent request may insert the same place first: the unique constraint settles it.
        cursor.execute(_PROPAGATE_UNDER_CAP if len(places) <= MAX_PER_CREATE else _PROPAGATE_PAST_CAP, params)
        return [pk for (pk,) in cursor.fetchall()]


def gazetteer(*, labels: Iterable[Label] | None = None) -> dict[str, int]:
    """Term → label id from editors' entity spans; a term given two different labels is ambiguous and left out."""
    spans = Span.objects.filter(label__kind=LabelKind.ENTITY, label__active=True)
    if labels is not None:
        spans = spans.filter(label__in=list(labels))
    seen: dict[str, set[int]] = defaultdict(set)
    for text, label_id in spans.values_list("text", "label_id").distinct().iterator(chunk_size=2000):
        if usable_term(text):
            seen[text].add(label_id)
    return {text: next(iter(ids)) for text, ids in seen.items() if len(ids) == 1}


@dataclass(frozen=True)
class Propagated:
    terms: int
    articles: int
    created: int


def gazetteer_propagate(
    *,
    actor: Actor,
    labels: Iterable[Label] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Propagated:
    """Suggest every gazetteer term on every article where it occurs as a whole word (curators only).

    Bounded work: articles are read in batches of ``BATCH`` (ids, bodies and the batch's spans: two queries),
    matched against one compiled pattern, and their suggestions inserted in one statement per batch, each
    batch its own transaction. Places already suggested (in any state) are left as they are. In an article
    where editors labelled the term themselves, its suggestions are derived from their spans: each of those
    editors gets their own, and the article's other editors see none until review (blind labelling).
    """
    require(
        actor,
        "annotations.add_suggestion",
        "annotations.change_boilerplatefamily",
        reason="Only curators propagate labels across the corpus.",
    )
    terms = gazetteer(labels=labels)
    total = Article.objects.count()
    if not terms:
        return Propagated(terms=0, articles=total, created=0)
    pattern = whole_word_pattern(terms)
    created = done = 0
    last = 0
    while True:
        batch = list(Article.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "body")[:BATCH])
        if not batch:
            break
        last = batch[-1][0]
        spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        # Who labelled which term in the article: blind labelling (the review issue) means a suggestion there
        # comes from those editors' spans and is theirs alone until review, like propagation in one article.
        labelled_by: dict[tuple[int, str, int], set[int | None]] = defaultdict(set)
        own: set[tuple[int, int, int, int, int | None]] = set()  # an editor's own spans need no suggestion
        for article_id, start, end, label_id, text, annotator_id in Span.objects.filter(
            article_id__in=[pk for pk, _ in batch]
        ).values_list("article_id", "start", "end", "label_id", "text", "annotator_id"):
            spans[article_id].append((start, end, label_id))
            labelled_by[article_id, text, label_id].add(annotator_id)
            own.add((article_id, start, end, label_id, annotator_id))
        suggested = set(
            Suggestion.objects.filter(article_id__in=[pk for pk, _ in batch]).values_list(
                "article_id", "start", "end", "label_id", "derived_from_id"
            )
        )
        new = [
            Suggestion(
                article_id=pk,
                label_id=label_id,
                start=start,
                end=end,
                text=body[start:end],
                origin=SuggestionOrigin.PROPAGATION,
                created_by=actor,
                derived_from_id=editor,
            )
            for pk, body in batch
            for start, end, label_id in occurrences(body, pattern, terms, spans[pk])
            for editor in sorted(labelled_by.get((pk, body[start:end], label_id), {None}), key=lambda e: e or 0)
            if (pk, start, end, label_id, editor) not in suggested and (pk, start, end, label_id, editor) not in own
        ]
        with transaction.atomic():
            Suggestion.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
        created += len(new)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return Propagated(terms=len(terms), articles=done, created=created)
