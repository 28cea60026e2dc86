"""Reads for the review page: which editors count, their spans, what is decided, the gold layer, the settings."""

from __future__ import annotations

import string
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from annotations.models import Span
from annotations.review.alignment import Alignment, EditorSpan, align, layers_state
from annotations.review.models import GoldSpan, ReviewDecision
from annotations.review.rendering import GoldRow
from annotations.workflow.selectors import finished_editor_ids as workflow_finished_editor_ids
from annotations.workflow.selectors import workflow_settings
from articles.models import Article


@dataclass(frozen=True)
class ReviewSettings:
    anonymous: bool
    strategy: str  # "unanimous" or "majority"
    threshold: int


def review_settings(*, article: Article) -> ReviewSettings:
    """The review settings for ``article``: the site-wide workflow settings curators change in the admin."""
    settings = workflow_settings()
    return ReviewSettings(settings.anonymous_review, settings.merge_strategy, settings.majority_threshold)


def finished_editor_ids(*, article: Article) -> list[int]:
    """The editors whose layers count for review (their slot is done and not released), in id order."""
    return workflow_finished_editor_ids(article=article)


def editor_spans(*, article: Article, editor_ids: list[int]) -> list[EditorSpan]:
    rows = Span.objects.filter(article=article, annotator_id__in=editor_ids).values_list(
        "id", "annotator_id", "label_id", "start", "end", "text"
    )
    return [EditorSpan(*row) for row in rows.order_by("start", "end", "label_id", "annotator_id")]


def decided_span_ids(*, article: Article) -> set[int]:
    ids: set[int] = set()
    for span_ids in ReviewDecision.objects.filter(article=article, undone_at__isnull=True).values_list(
        "span_ids", flat=True
    ):
        ids.update(span_ids)
    return ids


def gold_for_article(*, article: Article) -> QuerySet[GoldSpan]:
    return GoldSpan.objects.filter(article=article).select_related("label").order_by("start", "-end", "label_id")


def gold_rows(*, article: Article) -> list[GoldRow]:
    """The gold layer as plain rows in the page's order (start, longer first, label): what the review page draws."""
    rows = GoldSpan.objects.filter(article=article).order_by("start", "-end", "label_id")
    return [GoldRow(*row) for row in rows.values_list("pk", "start", "end", "label_id", "text", "decision")]


@dataclass
class ReviewState:
    editor_ids: list[int]
    spans: list[EditorSpan]
    alignment: Alignment
    state: str
    gold: list[GoldRow] | None = None  # loaded on request (``with_gold``)


def review_state(*, article: Article, fingerprint: bool = True, with_gold: bool = False) -> ReviewState:
    """The finished layers aligned; with ``fingerprint`` also their fingerprint (only drawing the page and marking
    reviewed need it); with ``with_gold`` also the gold layer's rows."""
    editor_ids = finished_editor_ids(article=article)
    spans = editor_spans(article=article, editor_ids=editor_ids)
    alignment = align(spans, editor_ids=editor_ids, decided=decided_span_ids(article=article))
    return ReviewState(
        editor_ids,
        spans,
        alignment,
        layers_state(spans, editor_ids) if fingerprint else "",
        gold_rows(article=article) if with_gold else None,
    )


def editor_letters(editor_ids: list[int]) -> dict[int, str]:
    """Editor A, B, C… by id order: the same letter on every page and fragment of one article."""
    letters = string.ascii_uppercase
    return {
        editor: letters[i] if i < 26 else f"{letters[i // 26 - 1]}{letters[i % 26]}"
        for i, editor in enumerate(editor_ids)
    }


def editor_display_names(
    editor_ids: list[int], *, anonymous: bool, usernames: dict[int, str] | None = None
) -> dict[int, str]:
    """What the reviewer reads for each editor: "Editor A" when anonymous, else the username (with the letter);
    ``usernames`` when the caller has read them already."""
    letters = editor_letters(editor_ids)
    if anonymous:
        return {editor: f"Editor {letter}" for editor, letter in letters.items()}
    if usernames is None:
        User = get_user_model()
        usernames = dict(User.objects.filter(pk__in=editor_ids).values_list("pk", User.USERNAME_FIELD))
    return {editor: f"{usernames.get(editor, '?')} ({letters[editor]})" for editor in editor_ids}
