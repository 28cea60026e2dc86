"""The review page: editors' layers aligned over the text, conflicts listed, decisions posted by htmx.

Every action answers htmx with the page's main region (``#review-main``, a partial) re-rendered from the database,
and a request without htmx with a redirect back to the page. Refusals are 4xx responses whose sentence htmx swaps
into the error region (``HX-Retarget``); nothing is saved. Editors are named "Editor A/B/C" when review is
anonymous, on the page and in every fragment and message (messages count, they never name).
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
from annotations.review.forms import AcceptForm, ConflictForm, GoldAddForm, ReviewedForm
from annotations.review.rendering import render_conflicts, render_span_items, review_body
from annotations.review.selectors import (
    editor_display_names,
    editor_letters,
    finished_editor_ids,
    gold_for_article,
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


def _context(request: HtmxHttpRequest, article: Article, *, message: str = "", error: str = "") -> dict[str, Any]:
    state = review_state(article=article)
    settings = review_settings(article=article)
    labels = {label.pk: label for label in Label.objects.all()}
    letters = editor_letters(state.editor_ids)
    names = editor_display_names(state.editor_ids, anonymous=settings.anonymous)
    keys = {
        editor: REVIEW_EDITOR_KEYS[i] if i < len(REVIEW_EDITOR_KEYS) else ""
        for i, editor in enumerate(state.editor_ids)
    }
    body = article.body
    conflicts = []
    for n, conflict in enumerate(state.alignment.conflicts):
        readings = []
        for editor in state.editor_ids:
            reading = Reading(letters[editor], names[editor], keys[editor])
            for version in conflict.versions_of(editor):
                label = labels[version.label_id]
                reading.spans.append(
                    {"label": label, "start": version.start, "end": version.end, "text": excerpt(version.text)}
                )
            readings.append(reading)
        conflicts.append(
            {
                "n": n + 1,
                "key": conflict.key,
                "kind": conflict.kind,
                "settled": conflict.settled,
                "start": conflict.start,
                "end": conflict.end,
                "text": excerpt(body[conflict.start : conflict.end]),
                "readings": readings,
            }
        )
    agreed_open = state.alignment.agreed_open()
    gold = list(gold_for_article(article=article))
    palette = [label for label in labels.values() if label.active]
    for label in palette:
        label.hotkey_reserved = label.hotkey.lower() in REVIEW_COMMAND_KEYS  # type: ignore[attr-defined]
    return {
        "article": article,
        "settings": settings,
        "editors": [{"letter": letters[e], "name": names[e], "key": keys[e]} for e in state.editor_ids],
        "conflicts": conflicts,
        "conflicts_html": render_conflicts(
            conflicts,
            accept_url=reverse("annotations:review-accept", args=[article.pk]),
            reject_url=reverse("annotations:review-reject", args=[article.pk]),
            csrf_token=get_token(request),
        ),
        "open_conflicts": sum(1 for conflict in conflicts if not conflict["settled"]),
        "agreed": [
            {"label": labels[v.label_id], "start": v.start, "end": v.end, "text": excerpt(v.text)}
            for v in state.alignment.agreed
        ],
        "agreed_open": len(agreed_open),
        "agreed_html": render_span_items(
            [(labels[v.label_id], v.start, v.end, excerpt(v.text), "") for v in state.alignment.agreed], empty="None."
        ),
        "gold_html": render_span_items(
            [(g.label, g.start, g.end, excerpt(g.text), g.get_decision_display()) for g in gold],
            empty="No gold spans yet.",
        ),
        "gold": gold,
        "labels": labels,
        "palette": palette,
        "body_html": review_body(body, gold=gold, alignment=state.alignment, labels=labels),
        "state": state.state,
        "message": message,
        "error": error,
        "page_url": reverse("annotations:article-review", args=[article.pk]),
    }


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
    return render(request, f"{PAGE}#review-main", _context(request, article, message=outcome.message))


def _editor_id(article: Article, letter: str) -> int:
    for editor, editor_letter in editor_letters(finished_editor_ids(article=article)).items():
        if editor_letter == letter:
            return editor
    raise ValidationError("There is no such editor on this article.")


def _post_view(func: Any) -> Any:
    return require_POST(login_required(permission_required(REVIEW_GOLD, raise_exception=True)(func)))


@_post_view
def review_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _answer(request, article, None, form)

    def accept(*, article: Article, reviewer: Any) -> services.ReviewOutcome:
        editor_id = _editor_id(article, form.cleaned_data["editor"])
        return services.review_accept_version(
            article=article, reviewer=reviewer, conflict=form.cleaned_data["conflict"], editor_id=editor_id
        )

    return _answer(request, article, accept)


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
