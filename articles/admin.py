"""The corpus in the admin: articles and sources, without any knowledge of labels.

These classes are not registered here: ``annotations.admin`` extends them with span counts, the highlighted
preview, curation actions, the import page (which stores spans too) and the body lock, and registers the
extended versions once. The dependency keeps pointing from annotations to articles, never back.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from articles.forms import ArticleAdminForm
from articles.models import Article, Source
from articles.search import search_matches, search_query, with_search_document
from articles.services import article_create, article_update


class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "source", "published_at", "status", "language", "imported_at"]
    list_filter = ["status", "source", "language", ("imported_at", admin.DateFieldListFilter)]
    list_select_related = ["source"]
    # Searched in get_search_results: title and body through the stored full-text vector, a url by substring.
    search_fields = ["title", "url"]
    search_help_text = (
        'Words of the title or body (full-text, English; words match as prefixes, "quoted phrase", -word), '
        "or a piece of the url."
    )
    date_hierarchy = "published_at"
    list_per_page = 50
    readonly_fields = ["imported_at", "body_sha256"]
    fieldsets = [
        (None, {"fields": ["title", "source", "url", "byline", "published_at", "language", "status"]}),
        ("Text", {"fields": ["body"]}),
        ("Provenance", {"classes": ["collapse"], "fields": ["imported_at", "body_sha256", "metadata"]}),
    ]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Each branch has its own index (the stored vector's GIN, the url's trigrams), so PostgreSQL ORs two
        # bitmap index scans instead of reading every row; titles are in the vector (weight A), so no title
        # substring scan is needed.
        query = search_query(term)
        branches = [search_matches(query)] if query is not None else []
        if _looks_like_url(term):
            branches.append(Q(url__icontains=term))
        if not branches:
            return queryset.none(), False
        matches = branches[0] if len(branches) == 1 else branches[0] | branches[1]
        return with_search_document(queryset).filter(matches), False

    def save_model(self, request: HttpRequest, obj: Article, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            article_update(article=Article.objects.get(pk=obj.pk), **fields)
        else:
            created = article_create(**{name: form.cleaned_data[name] for name in form.cleaned_data})
            obj.pk, obj.body, obj.body_sha256 = created.pk, created.body, created.body_sha256


def _looks_like_url(term: str) -> bool:
    """A piece of a url or domain (``b.example``, ``/2026/``): one token with a dot or slash, 3+ characters."""
    return len(term) >= 3 and not any(c.isspace() for c in term) and ("." in term or "/" in term)


class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "article_count"]
    search_fields = ["name", "domain"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description="Articles", ordering="article_count")
    def article_count(self, source: Source) -> int:
        return source.article_count
