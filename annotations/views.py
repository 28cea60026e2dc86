from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from annotations import selectors
from annotations.models import Label
from articles.models import Article


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@login_required
@vary_on_headers("HX-Request")
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    articles = selectors.articles_with_span_counts().order_by("-published_at", "-id")
    page = Paginator(articles, 50).get_page(request.GET.get("page"))
    labels = list(selectors.labels_active())
    rows = [
        (article, [(label, getattr(article, f"count_{label.slug.replace('-', '_')}", 0)) for label in labels])
        for article in page.object_list
    ]
    template = "annotations/article_list.html"
    if request.htmx:
        template += "#article-table"
    return render(request, template, {"page": page, "rows": rows, "labels": labels})


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
    css = "\n".join(f".label-{slug} {{ --label-color: {color}; }}" for slug, color in labels)
    response = HttpResponse(css + "\n", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response
