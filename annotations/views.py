"""The editor's queue and annotate workspace: parse with a form, call services and selectors, render.

Workspace actions answer htmx with out-of-band fragments (body, side panel, toolbar) and a request without
htmx with a redirect back to the page, so the forms also work without JavaScript. Refusals are 4xx responses
whose message htmx swaps into the page's error region (``HX-Retarget``), and nothing is stored.
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from annotations import selectors, services
from annotations.forms import (
    ArticleStatusForm,
    QueueFilterForm,
    SpanCreateForm,
    SpanDetailsForm,
    SpanRefForm,
    SpanRelabelForm,
    form_error_message,
)
from annotations.models import WORKSPACE_COMMAND_KEYS, Label, Span
from annotations.rendering import (
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
    stacked_bar,
)
from articles.models import Article
from articles.services import article_set_status

WORKSPACE = "annotations/article_annotate.html"
QUEUE_PARAMS = ("q", "status", "source", "label", "mine")
# Workspace shortcuts win over a label that a curator gave the same key; the palette says so.
RESERVED_KEYS = WORKSPACE_COMMAND_KEYS
UNDO_SESSION_KEY = "workspace_undo"
UNDO_ARTICLES = 20
# A change whose redrawn stretch would be longer than this share of the body redraws the whole body instead.
MAX_WINDOW_SHARE = 0.5


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class BodyChange(NamedTuple):
    """One span created, deleted or relabelled: its extent, and its row before the change (None if it was new)."""

    span: int
    start: int
    end: int
    before: SpanRow | None


# The queue ------------------------------------------------------------------------------------------------


def _queue_query(request: HttpRequest) -> str:
    """The queue's filters, without the page, as a query string the annotate page carries for Next and Back."""
    params = QueryDict(mutable=True)
    for name in QUEUE_PARAMS:
        values = [value for value in request.GET.getlist(name) if value]
        if values:
            params.setlist(name, values)
    return params.urlencode()


@require_GET
@login_required
@vary_on_headers("HX-Request")
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    queue = selectors.article_queue(user=request.user, **form.filters())
    articles = selectors.articles_with_span_counts(annotator=request.user, articles=queue)
    page = Paginator(articles, 50).get_page(request.GET.get("page"))
    labels = list(selectors.labels_active())
    rows = [
        (article, [(label, getattr(article, f"count_{label.slug.replace('-', '_')}", 0)) for label in labels])
        for article in page.object_list
    ]
    template = "annotations/article_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#article-table"
    context = {
        "page": page,
        "rows": rows,
        "labels": labels,
        "progress": stacked_bar(selectors.status_breakdown(articles=queue)),
        "form": form,
        "queue_query": _queue_query(request),
        "can_annotate": request.user.has_perm("annotations.add_span"),
    }
    return render(request, template, context)


@require_GET
@login_required
def article_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("source"), pk=pk)
    return render(request, "annotations/article_detail.html", {"article": article})


@require_GET
@login_required
def labels_css(request: HttpRequest) -> HttpResponse:
    """Label colours as a stylesheet: the strict CSP forbids inline styles, and curators pick the colours."""
    labels = Label.objects.order_by("pk").values_list("slug", "color")
    response = HttpResponse(labels_stylesheet(labels), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


# The workspace --------------------------------------------------------------------------------------------


def _undo_history(request: HttpRequest, article: Article) -> list[dict[str, Any]]:
    return list(request.session.get(UNDO_SESSION_KEY, {}).get(str(article.pk), []))


def _remember(request: HttpRequest, article: Article, step: dict[str, Any]) -> None:
    """Push one step onto the editor's undo history for ``article``."""
    history = _undo_history(request, article)
    services.undo_record(history, step)
    _save_undo_history(request, article, history)


def _save_undo_history(request: HttpRequest, article: Article, history: list[dict[str, Any]]) -> None:
    store = dict(request.session.get(UNDO_SESSION_KEY, {}))
    store.pop(str(article.pk), None)
    if history:
        store[str(article.pk)] = history
    # Only the most recently touched articles keep their history, so the session stays small.
    for stale in list(store)[:-UNDO_ARTICLES]:
        del store[stale]
    request.session[UNDO_SESSION_KEY] = store


def _workspace_url(article: Article, query: str = "") -> str:
    url = reverse("annotations:article-annotate", args=[article.pk])
    return f"{url}?{query}" if query else url


def _workspace_spans(request: HttpRequest, article: Article) -> tuple[dict[int, Label], list[SpanRow]]:
    # Inactive labels too: spans made before a label was retired keep their colour and name.
    labels = {label.pk: label for label in Label.objects.all()}
    return labels, list(selectors.workspace_spans(article=article, annotator=request.user))


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
            if labels[row[LABEL]].slug in services.SPEAKER_LABEL_SLUGS
        ]
    return {"article": article, "selected": span, "speakers": speakers, "verdicts": services.CLAIM_VERDICTS}


def _body_patch(
    request: HttpRequest, article: Article, labels: dict[int, Label], rows: list[SpanRow], change: BodyChange
) -> tuple[int, int] | None:
    """The stretch of the body to redraw after ``change``, or None to redraw it all.

    Only when the page says (``body_version``) that it holds exactly the body as it was before this change:
    a page that missed a change (another tab, a curator renaming a label) gets the whole body again.
    """
    before = [row for row in rows if row[PK] != change.span]
    if change.before is not None:
        before.append(change.before)
    if request.POST.get("body_version") != body_version(before, labels):
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

    def label_order(row: SpanRow) -> tuple:
        label = labels[row[LABEL]]
        return (label.ordering, label.name, row[START], -row[END])

    groups = [(labels[pk], list(items)) for pk, items in groupby(sorted(rows, key=label_order), key=itemgetter(LABEL))]
    palette = [label for label in labels.values() if label.active]
    for label in palette:
        label.hotkey_reserved = label.hotkey.lower() in RESERVED_KEYS
    query = _queue_query(request)
    return {
        **_span_editor_context(article, labels, rows, selected),
        "body_html": render_body(article.body, rows, labels, window=patch),
        "body_patch": patch,
        "body_version": body_version(rows, labels),
        "palette": palette,
        "span_groups": render_span_groups(article.body, groups),
        "span_count": len(rows),
        "undo_count": len(_undo_history(request, article)),
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
    return HttpResponseRedirect(_workspace_url(article, _queue_query(request)))


def _refused(request: HtmxHttpRequest, article: Article, message: str, status: int) -> HttpResponse:
    """A 4xx whose message shows in the page: htmx swaps it into the error region, a plain post re-renders."""
    if request.htmx:
        response = render(request, f"{WORKSPACE}#ws-error", {"error": message}, status=status)
        return reswap(retarget(response, "#ws-error"), "outerHTML")
    return render(request, WORKSPACE, _workspace_context(request, article, error=message), status=status)


def _refused_for(request: HtmxHttpRequest, article: Article, error: ValidationError | PermissionDenied) -> HttpResponse:
    """A service's refusal as a response: 403 for someone else's span, 422 for input that breaks a rule."""
    status = 403 if isinstance(error, PermissionDenied) else 422
    return _refused(request, article, _reason(error), status)


def _reason(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not change this span."


def _span(article: Article, span_id: int) -> Span | None:
    return Span.objects.filter(article=article, pk=span_id).select_related("label").first()


GONE = "That span no longer exists: it was deleted, perhaps in another tab. The page now shows what is stored."


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
        return _refused(request, article, GONE, 404)
    return render(request, f"{WORKSPACE}#span-editor", context)


@require_POST
@login_required
@permission_required("annotations.add_span", raise_exception=True)
@vary_on_headers("HX-Request")
def span_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = SpanCreateForm(request.POST)
    if not form.is_valid():
        return _refused(request, article, form_error_message(form), 422)
    data = form.cleaned_data
    try:
        span = services.span_create_in_workspace(
            article=article,
            label=data["label"],
            start=data["start"],
            end=data["end"],
            text=data["text"],
            annotator=request.user,
        )
    except ValidationError as error:
        return _refused_for(request, article, error)
    _remember(request, article, {"op": "create", "span": span.pk})
    return _updated(request, article, selected=span.pk, change=BodyChange(span.pk, span.start, span.end, None))


@require_POST
@login_required
@permission_required("annotations.change_span", raise_exception=True)
@vary_on_headers("HX-Request")
def span_relabel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = SpanRelabelForm(request.POST)
    if not form.is_valid():
        return _refused(request, article, form_error_message(form), 422)
    span = _span(article, form.cleaned_data["span"])
    if span is None:
        return _refused(request, article, GONE, 404)
    previous = span.label_id
    try:
        span = services.span_update(span=span, actor=request.user, label=form.cleaned_data["label"])
    except (PermissionDenied, ValidationError) as error:
        return _refused_for(request, article, error)
    if span.label_id != previous:
        _remember(request, article, {"op": "relabel", "span": span.pk, "from": previous})
    change = BodyChange(span.pk, span.start, span.end, (span.pk, span.start, span.end, previous))
    return _updated(request, article, selected=span.pk, change=change)


@require_POST
@login_required
@permission_required("annotations.change_span", raise_exception=True)
@vary_on_headers("HX-Request")
def span_details(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = SpanDetailsForm(request.POST)
    if not form.is_valid():
        return _refused(request, article, form_error_message(form), 422)
    data = form.cleaned_data
    span = _span(article, data["span"])
    if span is None:
        return _refused(request, article, GONE, 404)
    try:
        services.span_set_details(
            span=span,
            actor=request.user,
            note=data["note"],
            speaker=data["speaker"],
            speaker_span=data["speaker_span"],
            verdict=data["verdict"] or None,
        )
    except (PermissionDenied, ValidationError) as error:
        return _refused_for(request, article, error)
    return _updated(request, article, selected=span.pk, message="Saved.")


@require_POST
@login_required
@permission_required("annotations.delete_span", raise_exception=True)
@vary_on_headers("HX-Request")
def span_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    form = SpanRefForm(request.POST)
    if not form.is_valid():
        return _refused(request, article, form_error_message(form), 422)
    span = _span(article, form.cleaned_data["span"])
    if span is None:
        return _refused(request, article, GONE, 404)
    snapshot = services.span_snapshot(span)
    try:
        services.span_delete(span=span, actor=request.user)
    except PermissionDenied as error:
        return _refused_for(request, article, error)
    _remember(request, article, {"op": "delete", "span": snapshot})
    change = BodyChange(snapshot["id"], span.start, span.end, (snapshot["id"], span.start, span.end, span.label_id))
    message = f"Deleted {span.label.name} “{services.excerpt(span.text)}”."
    return _updated(request, article, message=message, change=change)


@require_POST
@login_required
@permission_required("annotations.add_span", raise_exception=True)
@vary_on_headers("HX-Request")
def article_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    history = _undo_history(request, article)
    try:
        message = services.span_undo(article=article, actor=request.user, history=history)
    except (PermissionDenied, ValidationError) as error:
        # The entry that could not be reversed is dropped, so the next Ctrl+Z moves on to the one before it.
        _save_undo_history(request, article, history)
        return _refused(request, article, f"Could not undo: {_reason(error)}", 409)
    _save_undo_history(request, article, history)
    return _updated(request, article, message=message or "Nothing to undo on this article.")


@require_POST
@login_required
@permission_required("annotations.add_span", raise_exception=True)
@vary_on_headers("HX-Request")
def article_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Mark the article done, or reopen it; a reviewed article is the reviewers' to reopen."""
    article = _article(pk)
    form = ArticleStatusForm(request.POST)
    if not form.is_valid():
        return _refused(request, article, form_error_message(form), 422)
    if article.status == Article.Status.REVIEWED and not request.user.has_perm("articles.review_article"):
        return _refused(request, article, "This article has been reviewed; only a reviewer can reopen it.", 403)
    article_set_status(article=article, status=form.cleaned_data["status"])
    return _updated(request, article, message=f"Article marked {article.get_status_display().lower()}.")


@require_GET
@login_required
def article_next(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The next open article in the editor's queue (same filters), wrapping around; the queue when none is left."""
    form = QueueFilterForm(request.GET)
    queue = selectors.article_queue(user=request.user, **form.filters())
    following = selectors.next_in_queue(queue=queue, current=pk)
    query = _queue_query(request)
    if following is None:
        messages.info(request, "No open article is left in this queue.")
        return HttpResponseRedirect(reverse("annotations:article-list") + (f"?{query}" if query else ""))
    return HttpResponseRedirect(_workspace_url(Article(pk=following), query))
