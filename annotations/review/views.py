"""The review page: editors' layers aligned over the text, conflicts listed, decisions posted by htmx.

A decision on one conflict or span (accept, reject, adjust, add) answers htmx with only what it changed, as
out-of-band fragments (``_patch``); the others (accept every agreed span, re-merge, undo, mark reviewed), and any
decision posted from a page that missed a change, answer with the page's main region (``#review-main``, a
partial) drawn again from the database. A request without htmx gets a redirect back to the page. Refusals are
4xx responses whose sentence htmx swaps into the error region (``HX-Retarget``); nothing is saved. Editors are
named "Editor A/B/C" when review is anonymous, on the page and in every fragment and message (messages count,
they never name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from annotations.http import HtmxHttpRequest, form_error_message, refusal_reason, refusal_status
from annotations.models import REVIEW_COMMAND_KEYS, REVIEW_EDITOR_KEYS, Label
from annotations.presentation import excerpt
from annotations.review import services
from annotations.review.alignment import Conflict
from annotations.review.focus import Focus
from annotations.review.forms import AcceptForm, ConflictForm, GoldAddForm, ReviewedForm
from annotations.review.rendering import (
    changed_window,
    decided_item,
    drawn_rows,
    gold_insertions,
    gold_row_item,
    item_hash,
    render_conflicts,
    render_gold_items,
    render_span_items,
    review_body,
    review_version,
    version_text,
)
from annotations.review.selectors import (
    ReviewSettings,
    editor_display_names,
    editor_letters,
    gold_for_article,
    gold_rows,
    review_settings,
    review_state,
)
from annotations.workflow.selectors import gold_visible
from articles.models import Article

PAGE = "annotations/article_review.html"
REVIEW_GOLD = services.REVIEW_GOLD


@dataclass
class Reading:
    letter: str
    name: str
    key: str
    spans: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Drawing:
    """What every part of the region is drawn from: the labels, how editors are named and keyed."""

    labels: dict[int, Label]
    settings: Any
    letters: dict[int, str]
    names: dict[int, str]
    keys: dict[int, str]

    @classmethod
    def load(
        cls,
        article: Article,
        editor_ids: list[int],
        *,
        labels: dict[int, Label] | None = None,
        settings: ReviewSettings | None = None,
        usernames: dict[int, str] | None = None,
    ) -> _Drawing:
        """Read what is not given (a decision on one conflict has read it all with the rest: ``Focus``)."""
        if settings is None:
            settings = review_settings(article=article)
        return cls(
            labels=labels if labels is not None else {label.pk: label for label in Label.objects.all()},
            settings=settings,
            letters=editor_letters(editor_ids),
            names=editor_display_names(editor_ids, anonymous=settings.anonymous, usernames=usernames),
            keys={
                editor: REVIEW_EDITOR_KEYS[i] if i < len(REVIEW_EDITOR_KEYS) else ""
                for i, editor in enumerate(editor_ids)
            },
        )

    def conflict(self, conflict: Conflict, *, body: str, editor_ids: list[int], settled: bool) -> dict[str, Any]:
        readings = []
        for editor in editor_ids:
            reading = Reading(self.letters[editor], self.names[editor], self.keys[editor])
            for version in conflict.versions_of(editor):
                reading.spans.append(
                    {
                        "label": self.labels[version.label_id],
                        "start": version.start,
                        "end": version.end,
                        "text": excerpt(version.text),
                    }
                )
            readings.append(reading)
        return {
            "ident": conflict.ident,
            "key": conflict.key,
            "kind": conflict.kind,
            "settled": settled,
            "start": conflict.start,
            "end": conflict.end,
            "text": excerpt(body[conflict.start : conflict.end]),
            "readings": readings,
        }


def _urls(request: HtmxHttpRequest, article: Article) -> dict[str, str]:
    return {
        "accept_url": reverse("annotations:review-accept", args=[article.pk]),
        "reject_url": reverse("annotations:review-reject", args=[article.pk]),
        "csrf_token": get_token(request),
    }


def _context(request: HtmxHttpRequest, article: Article, *, message: str = "", error: str = "") -> dict[str, Any]:
    state = review_state(article=article)
    drawing = _Drawing.load(article, state.editor_ids)
    labels = drawing.labels
    body = article.body
    conflicts = [
        drawing.conflict(conflict, body=body, editor_ids=state.editor_ids, settled=conflict.settled)
        for conflict in state.alignment.conflicts
    ]
    agreed_open = state.alignment.agreed_open()
    gold = gold_rows(article=article)
    palette = [label for label in labels.values() if label.active]
    for label in palette:
        label.hotkey_reserved = label.hotkey.lower() in REVIEW_COMMAND_KEYS  # type: ignore[attr-defined]
    return {
        "article": article,
        "settings": drawing.settings,
        "editors": [
            {"letter": drawing.letters[e], "name": drawing.names[e], "key": drawing.keys[e]} for e in state.editor_ids
        ],
        "conflicts": conflicts,
        "conflicts_html": render_conflicts(conflicts, **_urls(request, article)),
        "open_conflicts": sum(1 for conflict in conflicts if not conflict["settled"]),
        "agreed": [
            {"label": labels[v.label_id], "start": v.start, "end": v.end, "text": excerpt(v.text)}
            for v in state.alignment.agreed
        ],
        "agreed_open": len(agreed_open),
        "agreed_html": render_span_items(
            [(labels[v.label_id], v.start, v.end, excerpt(v.text), "") for v in state.alignment.agreed], empty="None."
        ),
        "gold_html": render_gold_items(gold, labels, excerpt=excerpt, empty=GOLD_EMPTY),
        "gold": gold,
        "labels": labels,
        "palette": palette,
        "body_html": review_body(body, drawn_rows(gold, state.alignment.conflicts), labels),
        "state": state.state,
        "version": review_version(
            editor_ids=state.editor_ids,
            spans=state.spans,
            decided=state.alignment.decided,
            gold=gold,
            labels=labels,
            anonymous=drawing.settings.anonymous,
        ),
        "message": message,
        "error": error,
        "page_url": reverse("annotations:article-review", args=[article.pk]),
    }


GOLD_EMPTY = "No gold spans yet."


def _patch(request: HtmxHttpRequest, article: Article, outcome: services.ReviewOutcome) -> HttpResponse | None:
    """Only what ``outcome`` changed, as out-of-band fragments; None when the page that posted does not hold the
    drawing just before this decision (another tab, another reviewer, an editor's edit), which then gets the whole
    region. What it sends leaves the page as a fresh drawing would be (tests/annotations/review/test_review_patch.py).
    """
    if outcome.focus is not None:
        return _patch_focused(request, article, outcome, outcome.focus)
    before = outcome.before
    if before is None or before.gold is None:
        return None
    drawing = _Drawing.load(article, before.editor_ids)
    gold_before = before.gold
    gold = sorted([*gold_before, *outcome.gold_made], key=lambda row: (row.start, -row.end, row.label_id))
    created = {row.pk for row in outcome.gold_made}
    anonymous = drawing.settings.anonymous
    version_before = review_version(
        editor_ids=before.editor_ids,
        spans=before.spans,
        decided=before.alignment.decided,
        gold=gold_before,
        labels=drawing.labels,
        anonymous=anonymous,
    )
    if request.POST.get("version") != version_before:
        return None
    settled = outcome.conflict
    decided = before.alignment.decided | set(settled.span_ids) if settled else before.alignment.decided
    open_before = [c for c in before.alignment.conflicts if not c.settled]
    open_after = [c for c in open_before if settled is None or c.ident != settled.ident]
    rows_before = drawn_rows(gold_before, open_before)
    rows_after = drawn_rows(gold, open_after)
    body = article.body
    window = changed_window(rows_before, rows_after, length=len(body))
    conflict_html = ""
    if settled is not None:
        row = drawing.conflict(settled, body=body, editor_ids=before.editor_ids, settled=True)
        row["oob"] = True
        conflict_html = render_conflicts([row], **_urls(request, article))
    context = {
        "message": outcome.message,
        "version": review_version(
            editor_ids=before.editor_ids,
            spans=before.spans,
            decided=decided,
            gold=gold,
            labels=drawing.labels,
            anonymous=anonymous,
        ),
        "open_conflicts": len(open_after),
        "conflict_count": len(before.alignment.conflicts),
        "gold_count": len(gold),
        "gold_was_empty": not gold_before and bool(gold),
        "gold_insertions": gold_insertions(gold, created, drawing.labels, excerpt=excerpt),
        "conflict_html": conflict_html,
        "body_window": window,
        "body_html": review_body(body, rows_after, drawing.labels, window=window) if window else "",
    }
    return render(request, f"{PAGE}#review-patch", context)


def _patch_focused(
    request: HtmxHttpRequest, article: Article, outcome: services.ReviewOutcome, focus: Focus
) -> HttpResponse | None:
    """``_patch`` for a decision on one conflict, from what the decision read around it (``Focus``): the page's
    version is checked against the digest the decision found, and the new one is that digest plus the items the
    decision added (its newly decided spans, its new gold spans), so nothing of the rest is read again."""
    settled = outcome.conflict
    if settled is None:
        return None
    drawing = _Drawing.load(
        article, focus.editor_ids, labels=focus.labels, settings=focus.settings, usernames=focus.usernames
    )
    labels, anonymous = drawing.labels, drawing.settings.anonymous
    if request.POST.get("version") != version_text(focus.digest, labels=labels, anonymous=anonymous):
        return None
    made = outcome.gold_made
    digest = focus.digest + sum(item_hash(*decided_item(pk)) for pk in set(settled.span_ids) - focus.decided)
    digest += sum(item_hash(*gold_row_item(row)) for row in made)
    created = {row.pk for row in made}
    gold = sorted([*focus.gold, *made], key=lambda row: (row.start, -row.end, row.label_id))
    body = article.body
    lo, hi = focus.window
    row = drawing.conflict(settled, body=body, editor_ids=focus.editor_ids, settled=True)
    row["oob"] = True
    context = {
        "message": outcome.message,
        "version": version_text(digest, labels=labels, anonymous=anonymous),
        "open_conflicts": focus.open - 1,
        "conflict_count": focus.conflicts,
        "gold_count": focus.gold_count + len(made),
        "gold_was_empty": not focus.gold_count and bool(made),
        "gold_insertions": gold_insertions(gold, created, labels, excerpt=excerpt),
        "conflict_html": render_conflicts([row], **_urls(request, article)),
        "body_window": focus.window,
        "body_html": review_body(body, [*focus.drawn, *drawn_rows(made, [])], labels, window=(lo, hi)),
    }
    return render(request, f"{PAGE}#review-patch", context)


def _article(pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("source"), pk=pk)


@require_GET
@login_required
@permission_required(REVIEW_GOLD, raise_exception=True)
@vary_on_headers("HX-Request")
def article_review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    context = _context(request, article)
    return render(request, f"{PAGE}#review-main" if request.htmx else PAGE, context)


def _answer(
    request: HtmxHttpRequest, article: Article, call: Any, form: Any | None = None, **kwargs: Any
) -> HttpResponse:
    """Run ``call`` (a review service) and answer: the main region again, or a refusal in words."""
    try:
        if form is not None and not form.is_valid():
            raise ValidationError(form_error_message(form))
        outcome = call(article=article, reviewer=request.user, **kwargs)
    except (ValidationError, PermissionDenied, ObjectDoesNotExist) as error:
        reason, status = refusal_reason(error), refusal_status(error)
        if isinstance(error, services.StaleReview):
            status = 409
        if not request.htmx:
            messages.error(request, reason)
            return HttpResponseRedirect(reverse("annotations:article-review", args=[article.pk]))
        response = render(request, f"{PAGE}#review-error", {"error": reason}, status=status)
        return reswap(retarget(response, "#review-error"), "outerHTML")
    if not request.htmx:
        messages.success(request, outcome.message)
        return HttpResponseRedirect(reverse("annotations:article-review", args=[article.pk]))
    patch = _patch(request, article, outcome)
    if patch is not None:
        return patch
    # The whole region: the forms swap nothing themselves (their answer is usually out-of-band fragments).
    full = render(request, f"{PAGE}#review-main", _context(request, article, message=outcome.message))
    return reswap(retarget(full, "#review-main"), "outerHTML")


def _post_view(func: Any) -> Any:
    return require_POST(login_required(permission_required(REVIEW_GOLD, raise_exception=True)(func)))


@_post_view
def review_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _answer(request, article, None, form)

    return _answer(
        request,
        article,
        services.review_accept_version,
        conflict=form.cleaned_data["conflict"],
        letter=form.cleaned_data["editor"],
    )


@_post_view
def review_reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = ConflictForm(request.POST)
    if not form.is_valid():
        return _answer(request, article, None, form)
    return _answer(request, article, services.review_reject, conflict=form.cleaned_data["conflict"])


@_post_view
def review_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = GoldAddForm(request.POST)
    if not form.is_valid():
        return _answer(request, article, None, form)
    data = form.cleaned_data
    return _answer(
        request,
        article,
        services.review_add,
        label=data["label"],
        start=data["start"],
        end=data["end"],
        text=data["text"] if data["text"] != "" else None,
        conflict=data["conflict"] or "",
    )


@_post_view
def review_accept_agreed(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _answer(request, _article(pk), services.review_accept_agreed)


@_post_view
def review_merge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _answer(request, _article(pk), services.review_merge)


@_post_view
def review_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _answer(request, _article(pk), services.review_undo)


@_post_view
def review_reviewed(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = ReviewedForm(request.POST)
    if not form.is_valid():
        return _answer(request, article, None, form)
    return _answer(
        request,
        article,
        services.review_mark_reviewed,
        state=form.cleaned_data["state"],
        override_note=form.cleaned_data["note"],
    )


GOLD_HIDDEN = "The gold layer of this article is shown to editors once it is reviewed."


@require_GET
@login_required
def article_gold(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The gold layer, read-only: reviewers and curators always, editors once the article is reviewed (the
    workflow's ``gold_visible`` hook), never before, so gold cannot hint at what other editors labelled."""
    user = request.user
    if not (user.has_perm("annotations.add_span") or user.has_perm(REVIEW_GOLD)):
        raise PermissionDenied("Only editors and reviewers see gold layers.")
    article = _article(pk)
    if not gold_visible(article=article, user=user):
        raise PermissionDenied(GOLD_HIDDEN)
    gold = list(gold_for_article(article=article))
    context = {
        "article": article,
        "gold": gold,
        "gold_html": render_span_items(
            [(g.label, g.start, g.end, excerpt(g.text), g.get_decision_display()) for g in gold],
            empty="This article has no gold spans.",
        ),
    }
    return render(request, "annotations/article_gold.html", context)
