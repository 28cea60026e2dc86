"""The corpus in the admin: articles and sources, without any knowledge of labels.

These classes are not registered here: ``annotations.admin`` extends them with span counts, the highlighted
preview, curation actions, the import page (which stores spans too) and the body lock, and registers the
extended versions once. The dependency keeps pointing from annotations to articles, never back.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from articles.forms import ArticleAdminForm
from articles.models import SEARCH_CONFIG, Article, Source, search_vector
from articles.services import article_create, article_update


class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "source", "published_at", "status", "language", "imported_at"]
    list_filter = ["status", "source", "language", ("imported_at", admin.DateFieldListFilter)]
    list_select_related = ["source"]
    # title and url by substring; the body through the full-text index (see get_search_results).
    search_fields = ["title", "url"]
    search_help_text = "Title or url containing the words, or body text matching them (full-text, English)."
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
        # alias(), not annotate(): the vector is matched against the GIN index, never computed into the SELECT.
        query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
        matches = Q(title__icontains=term) | Q(url__icontains=term) | Q(document=query)
        return queryset.alias(document=search_vector()).filter(matches), False

    def save_model(self, request: HttpRequest, obj: Article, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            article_update(article=Article.objects.get(pk=obj.pk), **fields)
        else:
            created = article_create(**{name: form.cleaned_data[name] for name in form.cleaned_data})
            obj.pk, obj.body, obj.body_sha256 = created.pk, created.body, created.body_sha256


class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "article_count"]
    search_fields = ["name", "domain"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description="Articles", ordering="article_count")
    def article_count(self, source: Source) -> int:
        return source.article_count
