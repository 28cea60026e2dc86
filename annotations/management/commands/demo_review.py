"""The review demo for ``load_demo``: three editors' overlapping, partly disagreeing layers on a few articles,
finished, and one article reviewed into gold, so the review page and the agreement charts show something on a
first run. Deterministic and idempotent: an article that already has spans by these editors is left alone.

(A helper module of the command, not a command: Django only runs modules that define ``Command``.)
"""

from __future__ import annotations

import re

from django.utils import timezone

from annotations.models import Assignment, Label
from annotations.progress import article_progress_update
from annotations.review import services as review
from annotations.review.selectors import review_state
from annotations.spans.services import span_create_in_workspace
from articles.models import Article

ARTICLES = 4
# Runs of capitalised words: the demo's people and companies ("Mara Okonkwo", "Larchfield Systems").
NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")
ORG_WORDS = ("Systems", "Labs", "Inc", "Corp", "Group", "Networks", "Semiconductor", "Cloud", "Foundry")
LIMIT = 12  # names per article


def _names(body: str) -> list[tuple[int, int, str]]:
    found = []
    for match in NAME.finditer(body):
        kind = "org" if match.group().split()[-1] in ORG_WORDS else "person"
        found.append((match.start(), match.end(), kind))
    return found[:LIMIT]


def _layer(index: int, names: list[tuple[int, int, str]], body: str) -> list[tuple[int, int, str]]:
    """Editor 0 labels every name; editor 1 skips every fourth and calls every fifth the other kind; editor 2
    leaves out the last word of every third and skips every sixth."""
    spans = []
    for n, (start, end, kind) in enumerate(names):
        if index == 1:
            if n % 4 == 3:
                continue
            if n % 5 == 4:
                kind = "org" if kind == "person" else "person"
        if index == 2:
            if n % 6 == 5:
                continue
            if n % 3 == 2 and " " in body[start:end]:
                end = start + body[start:end].rindex(" ")
        spans.append((start, end, kind))
    return spans


def build(*, editors, reviewer) -> tuple[int, int]:
    labels = {label.slug: label for label in Label.objects.filter(slug__in=["person", "org"], active=True)}
    if len(labels) < 2:
        return 0, 0
    articles = [a for a in Article.objects.order_by("published_at", "id")[: ARTICLES * 2] if _names(a.body)][:ARTICLES]
    layered = 0
    now = timezone.now()
    for article in articles:
        if article.spans.filter(annotator__in=editors[1:]).exists():
            continue
        names = _names(article.body)
        # Three editors label these: the article needs three (its own k, as an import can set it).
        Article.objects.filter(pk=article.pk).update(editors_per_article=len(editors))
        article.editors_per_article = len(editors)
        for index, editor in enumerate(editors):
            for start, end, kind in _layer(index, names, article.body):
                if not article.spans.filter(annotator=editor, label=labels[kind], start=start, end=end).exists():
                    span_create_in_workspace(
                        article=article, label=labels[kind], start=start, end=end, text=None, annotator=editor
                    )
            Assignment.objects.update_or_create(
                article=article, user=editor, defaults={"started_at": now, "done_at": now, "leased_until": now}
            )
        article_progress_update(article=article)
        layered += 1
    reviewed = 0
    first = articles[0] if articles else None
    if (
        layered
        and first is not None
        and not Article.objects.filter(pk=first.pk, status=Article.Status.REVIEWED).exists()
    ):
        # Agreed spans were merged automatically when it became ready; the reviewer takes any left,
        # Editor A's reading of each conflict, and marks it reviewed.
        review.review_accept_agreed(article=first, reviewer=reviewer)
        state = review_state(article=first)
        for conflict in state.alignment.open_conflicts():
            review.review_accept_version(
                article=first, reviewer=reviewer, conflict=conflict.key, editor_id=state.editor_ids[0]
            )
        review.review_mark_reviewed(article=first, reviewer=reviewer, state=review_state(article=first).state)
        reviewed = 1
    return layered, reviewed
