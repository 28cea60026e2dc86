"""The editor's queue (``/``), an article's read-only page, and ``next`` from the annotate page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_safe
from django.views.decorators.vary import vary_on_headers

from annotations.http import HtmxHttpRequest
from annotations.models import Label, Span
from annotations.presentation import excerpt
from annotations.queue import selectors
from annotations.queue.forms import QueueFilterForm, queue_position, queue_query
from annotations.queue.rendering import render_rows
from annotations.workspace.rendering import render_body, stacked_bar
from articles.models import Article


@require_safe  # HEAD too: monitors and link checkers ask for / with HEAD
@login_required
@vary_on_headers("HX-Request")
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    page = selectors.queue_page(user=request.user, number=_page_number(request), **form.filters())
    labels = selectors.active_labels()
    rows = selectors.queue_rows(annotator=request.user, ids=page.ids, labels=labels)
    can_annotate = request.user.has_perm("annotations.add_span")
    can_review = request.user.has_perm("annotations.review_gold")
    query = queue_query(request)
    # The article opens at its place in the queue ("Article 12 of 340"), written into its link.
    opens = _url_for_each("annotations:article-annotate" if can_annotate else "annotations:article-detail")
    if can_annotate:
        carried = f"{query}&" if query else ""
        of = urlencode({"of": page.total.param})

        def href(pk: int, place: int) -> str:
            return f"{opens(pk)}?{carried}at={page.offset + place}&{of}"
    else:

        def href(pk: int, place: int) -> str:
            return opens(pk)

    rows_html = render_rows(
        rows,
        labels=labels,
        href=href,
        review_href=_url_for_each("annotations:article-review") if can_review else None,
        counts=can_annotate,
    )
    template = "annotations/article_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#article-table"
    context = {
        "page": page,
        # (row, [(label, count), ...]): what the table shows, for tests and for any template that extends this one.
        "rows": [(row, list(zip(labels, row.counts, strict=True))) for row in rows],
        "rows_html": rows_html,
        "labels": labels,
        # The bar only when its parts are exact; beyond the cap the legend says "1,000+" per status.
        "progress": stacked_bar((key, name, tally.value) for key, name, tally in page.statuses)
        if page.total.exact
        else None,
        "form": form,
        "queue_query": query,
        "can_annotate": can_annotate,
        "can_review": can_review,
    }
    return render(request, template, context)


def _url_for_each(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many ``pk``, at the cost of one ``reverse`` (~0.1 ms each)."""
    marker = "2147483647"
    before, found, after = reverse(name, args=[int(marker)]).partition(marker)
    if not found or marker in after:
        raise ValueError(f"{name}'s URL does not hold its one argument once")
    return lambda pk: f"{before}{pk}{after}"


def _page_number(request: HtmxHttpRequest) -> int:
    """The ``page`` asked for; anything but a positive number is the first page (as Paginator.get_page did)."""
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


@require_GET
@login_required
def article_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The article read-only, with every editor's spans drawn in it and listed in reading order (researchers)."""
    article = get_object_or_404(Article.objects.select_related("source"), pk=pk)
    labels = {label.pk: label for label in Label.objects.all()}
    username = f"annotator__{get_user_model().USERNAME_FIELD}"
    spans = list(
        Span.objects.filter(article=article)
        .order_by("start", "-end", "pk")
        .values_list("pk", "start", "end", "label_id", username)
    )
    listed = [
        (labels[label_id], excerpt(article.body[start:end]), annotator, start, end)
        for _, start, end, label_id, annotator in spans
    ]
    context = {
        "article": article,
        "body_html": render_body(article.body, [row[:4] for row in spans], labels),
        "spans": listed,
    }
    return render(request, "annotations/article_detail.html", context)


@require_GET
@login_required
def article_next(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The next open article in the editor's queue (same filters), wrapping around; the queue when none is left."""
    form = QueueFilterForm(request.GET)
    following = selectors.next_in_queue(user=request.user, current=pk, **form.filters())
    query = queue_query(request)
    if following is None:
        messages.info(request, "No open article is left in this queue.")
        return HttpResponseRedirect(reverse("annotations:article-list") + (f"?{query}" if query else ""))
    position = queue_position(request)
    if position is not None:  # "Article 13 of 340": one further along the queue
        query = queue_query(request, position=position.following())
    url = reverse("annotations:article-annotate", args=[following])
    return HttpResponseRedirect(f"{url}?{query}" if query else url)
