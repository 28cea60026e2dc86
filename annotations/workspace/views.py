"""The annotate page: parse with a form, call services and selectors, render.

Actions answer htmx with out-of-band fragments (body, side panel, toolbar) and a request without htmx with a
redirect back to the page, so the forms also work without JavaScript. Refusals are 4xx responses whose message
htmx swaps into the page's error region (``HX-Retarget``), and nothing is stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from annotations import keymap
from annotations.http import HtmxHttpRequest, form_error_message, refusal_reason, refusal_status
from annotations.models import WORKSPACE_COMMAND_KEYS, Label, Span
from annotations.presentation import excerpt
from annotations.progress import article_status_change
from annotations.queue.forms import queue_query
from annotations.spans import claims
from annotations.spans import services as spans
from annotations.spans.selectors import workspace_spans
from annotations.workspace import undo
from annotations.workspace.forms import (
    ArticleStatusForm,
    SpanCreateForm,
    SpanDetailsForm,
    SpanRefForm,
    SpanRelabelForm,
)
from annotations.workspace.rendering import (
    END,
    LABEL,
    PK,
    START,
    SpanRow,
    WorkspaceSpan,
    body_version,
    change_window,
    labels_stylesheet,
    render_body,
    render_span_groups,
)
from articles.models import Article

WORKSPACE = "annotations/article_annotate.html"
# Workspace shortcuts win over a label that a curator gave the same key; the palette says so.
RESERVED_KEYS = WORKSPACE_COMMAND_KEYS
# A change whose redrawn stretch would be longer than this share of the body redraws the whole body instead.
MAX_WINDOW_SHARE = 0.5
CHANGED_ELSEWHERE = "The text was changed elsewhere (another tab or editor); it now shows what is stored."
GONE = "That span no longer exists: it was deleted, perhaps in another tab. The page now shows what is stored."


class BodyChange(NamedTuple):
    """One span created, deleted or relabelled: its extent, and its row before the change (None if it was new)."""

    span: int
    start: int
    end: int
    before: SpanRow | None


class Refused(Exception):
    """Stop a workspace action with a 4xx and a sentence the editor reads; nothing has been stored."""

    def __init__(self, message: str, status: int, *, stale: bool = False) -> None:
        super().__init__(message)
        self.message, self.status, self.stale = message, status, stale


@require_GET
@login_required
def labels_css(request: HttpRequest) -> HttpResponse:
    """Label colours as a stylesheet: the strict CSP forbids inline styles, and curators pick the colours."""
    labels = Label.objects.order_by("pk").values_list("slug", "color")
    response = HttpResponse(labels_stylesheet(labels), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _undo_store(request: HttpRequest, article: Article) -> undo.SessionUndoStore:
    return undo.SessionUndoStore(request.session, article.pk)


def _workspace_url(article: Article, query: str = "") -> str:
    url = reverse("annotations:article-annotate", args=[article.pk])
    return f"{url}?{query}" if query else url


def _workspace_spans(request: HttpRequest, article: Article) -> tuple[dict[int, Label], list[SpanRow]]:
    # Inactive labels too: spans made before a label was retired keep their colour and name.
    labels = {label.pk: label for label in Label.objects.all()}
    return labels, list(workspace_spans(article=article, annotator=request.user))


def _span_editor_context(
    article: Article, labels: dict[int, Label], rows: list[SpanRow], selected: int | None
) -> dict[str, Any]:
    """The selected span for its editor; a claim's also with its attributes and the spans that may be its speaker."""
    row = next((row for row in rows if row[PK] == selected), None)
    span = WorkspaceSpan.from_row(row, body=article.body, labels=labels) if row else None
    speakers = []
    if span is not None and span.label.kind == Label.Kind.CLAIM:
        span.attributes = Span.objects.filter(pk=span.pk).values_list("attributes", flat=True).first() or {}
        speakers = [
            WorkspaceSpan.from_row(row, body=article.body, labels=labels)
            for row in rows
            if labels[row[LABEL]].kind in claims.SPEAKER_KINDS
        ]
    return {"article": article, "selected": span, "speakers": speakers, "verdicts": claims.CLAIM_VERDICTS}


def _missed_changes(
    request: HttpRequest, labels: dict[int, Label], rows: list[SpanRow], change: BodyChange | None
) -> bool:
    """Whether the page that posted held another drawing of the text than the one just before this change."""
    before = [row for row in rows if change is None or row[PK] != change.span]
    if change is not None and change.before is not None:
        before.append(change.before)
    return request.POST.get("body_version") != body_version(before, labels)


def _body_patch(
    request: HttpRequest, article: Article, labels: dict[int, Label], rows: list[SpanRow], change: BodyChange
) -> tuple[int, int] | None:
    """The stretch of the body to redraw after ``change``, or None to redraw it all.

    Only when the page says (``body_version``) that it holds exactly the body as it was before this change:
    a page that missed a change (another tab, a curator renaming a label) gets the whole body again.
    """
    if _missed_changes(request, labels, rows, change):
        return None
    length = len(article.body)
    lo, hi = change_window(rows, changed=change.span, start=change.start, end=change.end, length=length)
    return (lo, hi) if hi - lo <= length * MAX_WINDOW_SHARE else None


def _workspace_context(
    request: HttpRequest,
    article: Article,
    *,
    selected: int | None = None,
    error: str = "",
    message: str = "",
    change: BodyChange | None = None,
) -> dict[str, Any]:
    labels, rows = _workspace_spans(request, article)
    patch = _body_patch(request, article, labels, rows, change) if change is not None else None
    missed = change is not None and "body_version" in request.POST and _missed_changes(request, labels, rows, change)
    if missed:
        # Said where the eye is: the text was redrawn with changes this page had not shown.
        message = " ".join(filter(None, [message, CHANGED_ELSEWHERE]))

    def label_order(row: SpanRow) -> tuple:
        label = labels[row[LABEL]]
        return (label.ordering, label.name, row[START], -row[END])

    groups = [(labels[pk], list(items)) for pk, items in groupby(sorted(rows, key=label_order), key=itemgetter(LABEL))]
    palette = [label for label in labels.values() if label.active]
    for label in palette:
        label.hotkey_reserved = label.hotkey.lower() in RESERVED_KEYS
    query = queue_query(request)
    return {
        **_span_editor_context(article, labels, rows, selected),
        "body_html": render_body(article.body, rows, labels, window=patch),
        "body_patch": patch,
        "body_version": body_version(rows, labels),
        "palette": palette,
        "keymap": keymap.commands(keymap.WORKSPACE),
        "keymap_bindings": keymap.bindings(keymap.WORKSPACE),
        "span_groups": render_span_groups(article.body, groups),
        "span_count": len(rows),
        "undo_count": len(_undo_store(request, article).load()),
        "error": error,
        "message": message,
        "queue_query": query,
        "queue_url": reverse("annotations:article-list") + (f"?{query}" if query else ""),
        "next_url": reverse("annotations:article-next", args=[article.pk]) + (f"?{query}" if query else ""),
    }


def _article(pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("source"), pk=pk)


def _updated(
    request: HtmxHttpRequest,
    article: Article,
    *,
    selected: int | None = None,
    message: str = "",
    change: BodyChange | None = None,
) -> HttpResponse:
    """After a change: htmx gets every region that may have changed, out of band; a plain form post a redirect.

    With ``change`` (one span's) the body is sent as just the stretch that changed, when the page can splice it.
    """
    if request.htmx:
        context = _workspace_context(request, article, selected=selected, message=message, change=change)
        return render(request, f"{WORKSPACE}#workspace-update", context)
    if message:
        messages.info(request, message)
    return HttpResponseRedirect(_workspace_url(article, queue_query(request)))


def _refused(
    request: HtmxHttpRequest, article: Article, message: str, status: int, *, stale: bool = False
) -> HttpResponse:
    """A 4xx whose message shows in the page: htmx swaps it into the error region, a plain post re-renders.

    ``stale``: the page acted on something that has changed since it was drawn (a span deleted in another tab),
    so the answer also redraws the text and side panel in place, out of band, to show what is stored.
    """
    if request.htmx and stale:
        context = _workspace_context(request, article, error=message)
        response = render(request, f"{WORKSPACE}#workspace-update", context, status=status)
        return reswap(retarget(response, "#ws-error"), "none")
    if request.htmx:
        response = render(request, f"{WORKSPACE}#ws-error", {"error": message}, status=status)
        return reswap(retarget(response, "#ws-error"), "outerHTML")
    return render(request, WORKSPACE, _workspace_context(request, article, error=message), status=status)


Action = Callable[[HtmxHttpRequest, Article], HttpResponse]


def workspace_post(permission: str) -> Callable[[Action], Callable[..., HttpResponse]]:
    """What every workspace post shares: POST only, logged in with ``permission``, varying on htmx; the article
    loaded; and any refusal (a form, a vanished span, a service's rule) answered as the page's message."""

    def decorate(view: Action) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HtmxHttpRequest, pk: int) -> HttpResponse:
            article = _article(pk)
            try:
                return view(request, article)
            except Refused as refusal:
                return _refused(request, article, refusal.message, refusal.status, stale=refusal.stale)
            except (PermissionDenied, ValidationError) as error:
                return _refused(request, article, refusal_reason(error), refusal_status(error))

        guarded = permission_required(permission, raise_exception=True)(vary_on_headers("HX-Request")(wrapper))
        return require_POST(login_required(guarded))

    return decorate


def _cleaned(form: Form) -> dict[str, Any]:
    if not form.is_valid():
        raise Refused(form_error_message(form), 422)
    return form.cleaned_data


def _span(article: Article, span_id: int) -> Span:
    span = Span.objects.filter(article=article, pk=span_id).select_related("label").first()
    if span is None:
        raise Refused(GONE, 404, stale=True)
    return span


@require_GET
@login_required
@permission_required("annotations.add_span", raise_exception=True)
def article_annotate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    return render(request, WORKSPACE, _workspace_context(request, article))


@require_GET
@login_required
@permission_required("annotations.add_span", raise_exception=True)
@vary_on_headers("HX-Request")
def span_detail(request: HtmxHttpRequest, pk: int, span_pk: int) -> HttpResponse:
    """The selected span's editor (note; speaker and verdict for claims), loaded when an editor selects a span."""
    article = _article(pk)
    labels, rows = _workspace_spans(request, article)
    context = _span_editor_context(article, labels, rows, span_pk)
    if context["selected"] is None:
        return _refused(request, article, GONE, 404, stale=True)
    return render(request, f"{WORKSPACE}#span-editor", context)


@workspace_post("annotations.add_span")
def span_create(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    data = _cleaned(SpanCreateForm(request.POST))
    # span_create hands back the editor's identical span instead of a second one; say so, and undo nothing.
    existing = Span.objects.filter(
        article=article, label=data["label"], start=data["start"], end=data["end"], annotator=request.user
    ).exists()
    span = spans.span_create_in_workspace(
        article=article,
        label=data["label"],
        start=data["start"],
        end=data["end"],
        text=data["text"],
        annotator=request.user,
    )
    if existing:
        message = f"You already have {span.label.name} on “{excerpt(span.text)}”: it is selected."
        return _updated(request, article, selected=span.pk, message=message)
    undo.undo_record(_undo_store(request, article), undo.Created(span=span.pk, label=span.label_id))
    message = f"Labelled “{excerpt(span.text)}” {span.label.name}."
    change = BodyChange(span.pk, span.start, span.end, None)
    return _updated(request, article, selected=span.pk, message=message, change=change)


@workspace_post("annotations.change_span")
def span_relabel(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    data = _cleaned(SpanRelabelForm(request.POST))
    span = _span(article, data["span"])
    previous = span.label
    span = spans.span_update(span=span, actor=request.user, label=data["label"])
    if span.label_id != previous.pk:
        entry = undo.Relabelled(span=span.pk, label=span.label_id, previous=previous.pk, previous_name=previous.name)
        undo.undo_record(_undo_store(request, article), entry)
    change = BodyChange(span.pk, span.start, span.end, (span.pk, span.start, span.end, previous.pk))
    if span.label_id == previous.pk:
        message = f"“{excerpt(span.text)}” is already {span.label.name}."
    else:
        message = f"Relabelled “{excerpt(span.text)}” {previous.name} → {span.label.name}."
    return _updated(request, article, selected=span.pk, message=message, change=change)


@workspace_post("annotations.change_span")
def span_details(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    data = _cleaned(SpanDetailsForm(request.POST))
    span = _span(article, data["span"])
    claims.span_set_details(
        span=span,
        actor=request.user,
        note=data["note"],
        speaker=data["speaker"],
        speaker_span=data["speaker_span"],
        verdict=data["verdict"] or None,
    )
    return _updated(request, article, selected=span.pk, message="Saved.")


@workspace_post("annotations.delete_span")
def span_delete(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    span = _span(article, _cleaned(SpanRefForm(request.POST))["span"])
    # Claims that name this span as their speaker: warn once; the page sends confirm=<id> on the second try.
    dependents = Span.objects.filter(
        article=article, label__kind=Label.Kind.CLAIM, attributes__speaker_span=span.pk
    ).count()
    if dependents and request.POST.get("confirm") != str(span.pk):
        who = "A claim names" if dependents == 1 else f"{dependents} claims name"
        raise Refused(
            f"{who} “{excerpt(span.text)}” as its speaker. Delete again to delete it anyway: "
            "claims keep the speaker's name, and Undo links the span again.",
            409,
        )
    snapshot = spans.SpanSnapshot.of(span)
    spans.span_delete(span=span, actor=request.user)
    undo.undo_record(_undo_store(request, article), undo.Deleted(snapshot))
    change = BodyChange(span.pk, span.start, span.end, (span.pk, span.start, span.end, span.label_id))
    message = f"Deleted {span.label.name} “{excerpt(span.text)}”."
    return _updated(request, article, message=message, change=change)


@workspace_post("annotations.add_span")
def article_undo(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    done = undo.undo_last(article=article, actor=request.user, store=_undo_store(request, article))
    if done.refused:
        return _refused(request, article, done.message, 409)
    return _updated(request, article, message=done.message)


@workspace_post("annotations.add_span")
def article_status(request: HtmxHttpRequest, article: Article) -> HttpResponse:
    """Mark the article done, or reopen it; a reviewed article is the reviewers' to reopen."""
    form = ArticleStatusForm(request.POST)
    _cleaned(form)
    article_status_change(article=article, actor=request.user, transition=form.transition())
    return _updated(request, article, message=f"Article marked {article.get_status_display().lower()}.")
