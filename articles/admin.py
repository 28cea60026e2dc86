"""The corpus in the admin: articles and sources, without any knowledge of labels.

These classes are not registered here: ``annotations.admin`` extends them with span counts, the highlighted
preview, curation actions, the import page (which stores spans too) and the body lock, and registers the
extended versions once. The dependency keeps pointing from annotations to articles, never back.
"""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import Col
from django.http import HttpRequest
from django.utils.functional import cached_property

from articles.forms import ArticleAdminForm
from articles.models import Article, Source
from articles.search import search_matches, search_query, with_search_document
from articles.services import article_create, article_update


class CappedCountPaginator(Paginator):
    """A pager that counts at most ``cap + 1`` rows: "1,000+ articles" and 21 pages rather than a ``count(*)``
    that visits every match of a common word (each a heap row: 42,000 at 100k articles).

    The list shows ``capped`` as "1,000+" (templates/admin/articles/article/pagination.html and the search
    form); narrowing the search or a filter brings the exact count back.
    """

    cap = 1000

    @cached_property
    def count(self) -> int:
        return _rows_only(cast(QuerySet, self.object_list)).order_by().values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def _rows_only(articles: QuerySet) -> QuerySet:
    """``articles``' filters without its annotations: the same rows, none of the joins and GROUP BY that per-row
    counts add (annotations.admin counts spans per article), which a count of matches would otherwise pay for
    each match. Filters that reach another table keep the queryset as it is."""
    query = articles.query
    expressions = [
        part for leaf in query.where.leaves() for part in (leaf.flatten() if hasattr(leaf, "flatten") else [leaf])
    ]
    columns = {expression.alias for expression in expressions if isinstance(expression, Col)}
    if query.where.contains_aggregate or not columns <= {query.base_table}:
        return articles
    rows = articles.model._default_manager.all()
    rows.query.where = query.where.clone()
    return rows


# Each language once, in order, by skipping through article_language_idx: one index probe per language
# (a "loose index scan"), where DISTINCT read every article.
_LANGUAGES_SQL = """
WITH RECURSIVE found(language) AS (
    (SELECT language FROM articles_article ORDER BY language LIMIT 1)
    UNION ALL
    SELECT (SELECT a.language FROM articles_article a WHERE a.language > found.language ORDER BY a.language LIMIT 1)
    FROM found WHERE found.language IS NOT NULL
)
SELECT language FROM found WHERE language IS NOT NULL
"""


class LanguageFilter(admin.AllValuesFieldListFilter):
    """Django's list of every value (same parameter, same choices), read by ``_LANGUAGES_SQL`` instead of a
    ``SELECT DISTINCT`` over the whole table on every page of the list (``language`` is never NULL)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        with connection.cursor() as cursor:
            cursor.execute(_LANGUAGES_SQL)
            # Django only iterates it (choices()); a list of the values serves as its queryset did.
            self.lookup_choices = [language for (language,) in cursor.fetchall()]  # type: ignore[assignment]


class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    paginator = CappedCountPaginator
    # "N results (M total)" would count the whole table on every search; "(Show all)" links to it instead.
    show_full_result_count = False
    list_display = ["title", "source", "published_at", "status", "language", "imported_at"]
    list_filter = ["status", "source", ("language", LanguageFilter), ("imported_at", admin.DateFieldListFilter)]
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
