"""The editor's queue (``/``), an article's read-only page, and ``next`` from the annotate page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from annotations.http import HtmxHttpRequest
from annotations.queue import selectors
from annotations.queue.forms import QueueFilterForm, queue_query
from annotations.spans.selectors import labels_active
from annotations.workspace.rendering import stacked_bar
from articles.models import Article


@require_GET
@login_required
@vary_on_headers("HX-Request")
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    queue = selectors.article_queue(user=request.user, **form.filters())
    page = Paginator(queue.values_list("pk", flat=True), 50).get_page(request.GET.get("page"))
    articles = selectors.articles_in_order(annotator=request.user, ids=list(page.object_list))
    labels = list(labels_active())
    rows = [
        (article, [(label, getattr(article, f"count_{label.slug.replace('-', '_')}", 0)) for label in labels])
        for article in articles
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
        "queue_query": queue_query(request),
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
def article_next(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The next open article in the editor's queue (same filters), wrapping around; the queue when none is left."""
    form = QueueFilterForm(request.GET)
    following = selectors.next_in_queue(user=request.user, current=pk, **form.filters())
    query = queue_query(request)
    if following is None:
        messages.info(request, "No open article is left in this queue.")
        return HttpResponseRedirect(reverse("annotations:article-list") + (f"?{query}" if query else ""))
    url = reverse("annotations:article-annotate", args=[following])
    return HttpResponseRedirect(f"{url}?{query}" if query else url)
