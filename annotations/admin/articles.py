"""Articles and sources as curators see them: span counts, the highlighted text, curation actions, web import.

The corpus admin (``articles.admin``) knows nothing of spans and registers nothing, so this module subclasses
its classes and registers the subclasses: span columns, filters, inline, preview, actions, the body lock and the
import page (which stores spans too, through ``corpus_import``) all need ``annotations``, and ``articles`` must
not import it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from annotations.admin.confirm import confirmation_page, confirmed
from annotations.admin.imports import ImportPageMixin
from annotations.curation.selectors import articles_span_summary
from annotations.curation.services import articles_delete, assignment_create
from annotations.exports.spans_csv import stream_spans_csv
from annotations.models import Label, Span
from annotations.presentation import counted
from annotations.progress import Transition, article_status_change
from annotations.spans.selectors import body_lock_reason, spans_for_article
from annotations.workflow.selectors import sees_every_editor
from annotations.workspace.rendering import render_body
from articles.admin import ArticleAdmin, LanguageFilter, SourceAdmin
from articles.models import Article, Source


class HasLabelFilter(admin.SimpleListFilter):
    title = "has label"
    parameter_name = "has_label"

    def lookups(self, request, model_admin):
        return list(Label.objects.values_list("slug", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Exists(Span.objects.filter(article=OuterRef("pk"), label__slug=self.value())))
        return queryset


class AnnotatorFilter(admin.SimpleListFilter):
    title = "annotator"
    parameter_name = "annotator"

    def lookups(self, request, model_admin):
        User = get_user_model()
        editors = User.objects.filter(Exists(Span.objects.filter(annotator=OuterRef("pk")))).order_by(
            User.USERNAME_FIELD
        )
        return [(str(user.pk), user.get_username()) for user in editors]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(Exists(Span.objects.filter(article=OuterRef("pk"), annotator_id=self.value())))
        return queryset


class SpanInline(admin.TabularInline):
    model = Span
    fields = ["label", "text", "start", "end", "annotator", "origin", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "spans (every editor's)"

    def get_queryset(self, request):
        spans = super().get_queryset(request).select_related("label", "annotator").order_by("start", "-end")
        # Blind labelling: a staff editor sees only their own spans here too.
        return spans if sees_every_editor(request.user) else spans.filter(annotator=request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _label_column(label: Label):
    attribute = f"count_{label.slug.replace('-', '_')}"

    def column(article: Article) -> int:
        return getattr(article, attribute, 0)

    column.short_description = label.name
    column.admin_order_field = attribute
    # The changelist names its cells' classes after this: column-count_<slug>, which admin_curation.css sizes.
    column.__name__ = attribute
    return column


def _span_count(*, distinct: str | None = None, **filters) -> Coalesce:
    """How many spans of the article in ``OuterRef("pk")`` match ``filters`` (or how many ``distinct`` values they
    have): a subquery per row, answered by the spans' article index."""
    counted = (
        Span.objects.filter(article=OuterRef("pk"), **filters)
        .order_by()
        .values("article")
        .annotate(n=Count(distinct, distinct=True) if distinct else Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def annotators() -> QuerySet:
    """Active users who may annotate: the people articles can be assigned to."""
    User = get_user_model()
    permission = Permission.objects.filter(content_type__app_label="annotations", codename="add_span")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__permissions__in=permission) | Q(user_permissions__in=permission) | Q(is_superuser=True))
        .distinct()
        .order_by(User.USERNAME_FIELD)
    )


class AssignForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        queryset=annotators(),
        widget=forms.CheckboxSelectMultiple,
        label="Assign to",
        help_text="Each article goes to the top of each chosen editor's queue.",
    )


@admin.register(Article)
class CurationArticleAdmin(ImportPageMixin, ArticleAdmin):
    inlines = [SpanInline]
    actions = ["mark_reviewed", "reopen", "assign", "export_spans_csv", "delete_with_spans"]

    # --- changelist -------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        # Per-row counts as correlated subqueries, not a join and GROUP BY: PostgreSQL computes them for the 50
        # rows of the page only (LIMIT above an index scan in the list's order), and the queries the changelist
        # derives from this queryset (date hierarchy, the language filter, the capped count) drop them and read
        # articles alone. A GROUP BY over the join aggregated every matching article first: 1 s a page at 100,000.
        counts = {
            f"count_{slug.replace('-', '_')}": _span_count(label_id=pk)
            for slug, pk in Label.objects.values_list("slug", "pk")
        }
        return (
            super()
            .get_queryset(request)
            .defer("body", "metadata")
            .annotate(**counts, editor_count=_span_count(distinct="annotator"))
        )

    def get_list_display(self, request: HttpRequest):
        if not sees_every_editor(request.user):  # counts over every editor's spans would break blind labelling
            return ["title", "source", "published", "status"]
        labels = [_label_column(label) for label in Label.objects.all()]
        return ["title", "source", "published", "status", *labels, "editors"]

    def get_list_filter(self, request: HttpRequest):
        return [
            "status",
            "source",
            ("language", LanguageFilter),
            HasLabelFilter,
            AnnotatorFilter,
            ("imported_at", admin.DateFieldListFilter),
        ]

    @admin.display(description="Published", ordering="published_at")
    def published(self, article: Article) -> str:
        """The day, in ISO form: "May 14, 2026, 7:55 p.m." took a fifth of the table at 1440 px."""
        return article.published_at.date().isoformat() if article.published_at else "–"

    @admin.display(description="Editors", ordering="editor_count")
    def editors(self, article: Article) -> int:
        return article.editor_count

    # --- change page ------------------------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Article | None = None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and sees_every_editor(request.user):
            fieldsets.insert(2, ("Spans in the text", {"fields": ["highlighted_text"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None):
        locked = obj is not None and body_lock_reason(article=obj)
        return [*super().get_readonly_fields(request, obj), "highlighted_text", *(["body"] if locked else [])]

    def get_form(self, request: HttpRequest, obj: Article | None = None, change: bool = False, **kwargs):
        # A read-only field shows its help text from the form's Meta: say why the text cannot be edited.
        reason = body_lock_reason(article=obj) if obj is not None else None
        if reason:
            kwargs["help_texts"] = {**kwargs.get("help_texts", {}), "body": reason}
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="Text with every editor's spans")
    def highlighted_text(self, article: Article) -> str:
        spans = list(spans_for_article(article=article))
        labels = {label.pk: label for label in Label.objects.all()}
        counts: dict[int, int] = {}
        for span in spans:
            counts[span.label_id] = counts.get(span.label_id, 0) + 1
        legend = format_html_join(
            "",
            '<li><span class="swatch label-{}"></span>{} <span class="quiet">{}</span></li>',
            (
                (labels[pk].slug, labels[pk].name, n)
                for pk, n in sorted(counts.items(), key=lambda c: labels[c[0]].ordering)
            ),
        )
        editors = sorted({span.annotator.get_username() for span in spans})
        deleted = reverse("admin:annotations_spanevent_changelist") + f"?label=delete&article={article.pk}"
        return format_html(
            '<div class="nn-preview"><ul class="nn-legend">{}</ul><p class="quiet">{}</p>'
            '<div class="nn-text">{}</div><p><a href="{}">Deleted spans of this article</a></p></div>',
            legend,
            f"{len(spans)} span(s) by {', '.join(editors)}" if spans else "No spans yet.",
            render_body(article.body, spans, labels),
            deleted,
        )

    @property
    def media(self):
        return super().media + forms.Media(css={"all": [reverse("annotations:labels-css"), "css/admin_curation.css"]})

    # --- deletion goes through the service, with a summary instead of thousands of span rows --------------

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs, request: HttpRequest):
        articles = Article.objects.filter(pk__in=[obj.pk for obj in objs])
        summary = articles_span_summary(articles=articles)
        perms_needed = set() if self.has_delete_permission(request) else {"article"}
        lines = [str(obj) for obj in objs] + _summary_lines(summary)
        model_count = {"articles": len(objs), "spans": summary["spans"], "assignments": summary["assignments"]}
        return lines, model_count, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        articles_delete(articles=Article.objects.filter(pk=obj.pk), actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        articles_delete(articles=queryset, actor=request.user)

    # --- actions ----------------------------------------------------------------------------------------

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("articles.review_article")

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("annotations.add_assignment")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("annotations.export_spans")

    @admin.action(description="Mark selected articles reviewed", permissions=["review"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Article]):
        return self._change_status(
            request,
            queryset,
            transition=Transition.REVIEWED,
            action="mark_reviewed",
            title="Mark articles reviewed",
            lines=["The selected articles get the status “Reviewed”. Their spans are not changed."],
            button="Yes, mark them reviewed",
            done="Marked {articles} reviewed.",
        )

    @admin.action(description="Reopen selected articles", permissions=["review"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Article]):
        return self._change_status(
            request,
            queryset,
            transition=Transition.SEND_BACK,
            action="reopen",
            title="Reopen articles",
            lines=[
                "The selected articles go back to work: their status follows from their editors' slots again "
                "(“Ready for review” when enough editors are done, “In annotation” when work has started, "
                "“New” otherwise). Their spans and the editors' slots are not changed."
            ],
            button="Yes, reopen them",
            done="Reopened {articles}.",
        )

    def _change_status(
        self,
        request: HttpRequest,
        queryset: QuerySet[Article],
        *,
        transition: Transition,
        action: str,
        title: str,
        lines: list[str],
        button: str,
        done: str,
    ):
        """A status action: its confirmation page, then ``transition`` for each article (``done`` is the message,
        ``{articles}`` the count)."""
        if not confirmed(request):
            return confirmation_page(self, request, queryset, action=action, title=title, lines=lines, button=button)
        for article in queryset:
            article_status_change(article=article, actor=request.user, transition=transition)
        self.message_user(request, done.format(articles=counted(len(queryset), "article")), messages.SUCCESS)
        return None

    @admin.action(description="Assign selected articles to editors…", permissions=["assign"])
    def assign(self, request: HttpRequest, queryset: QuerySet[Article]):
        form = AssignForm(request.POST if confirmed(request) else None)
        if not confirmed(request) or not form.is_valid():
            return confirmation_page(
                self,
                request,
                queryset,
                action="assign",
                title="Assign articles to editors",
                lines=[
                    "Each chosen editor gets every selected article at the top of their queue. "
                    "Articles already assigned to an editor stay assigned once."
                ],
                button="Assign",
                form=form,
            )
        created = 0
        try:
            for user in form.cleaned_data["users"]:
                for article in queryset:
                    created += assignment_create(article=article, user=user, assigned_by=request.user)
        except ValidationError as err:
            self.message_user(request, " ".join(err.messages), messages.ERROR)
            return None
        names = ", ".join(user.get_username() for user in form.cleaned_data["users"])
        self.message_user(
            request, f"Made {created} new assignment(s) of {counted(len(queryset), 'article')} to {names}."
        )
        return None

    @admin.action(description="Export spans of selected articles as CSV", permissions=["export"])
    def export_spans_csv(self, request: HttpRequest, queryset: QuerySet[Article]):
        ids = list(queryset.values_list("pk", flat=True))
        spans = Span.objects.filter(article_id__in=ids)
        if not confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="export_spans_csv",
                title="Export spans as CSV",
                lines=[
                    f"Downloads one CSV file with the {spans.count()} span(s) of the selected articles, "
                    "one row per span (every editor's), in the research export's columns.",
                ],
                button="Download CSV",
            )
        response = StreamingHttpResponse(stream_spans_csv(spans), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="newsnotes-spans-{stamp}.csv"'
        return response

    @admin.action(description="Delete selected articles and their spans…", permissions=["delete"])
    def delete_with_spans(self, request: HttpRequest, queryset: QuerySet[Article]):
        if not confirmed(request):
            summary = articles_span_summary(articles=queryset)
            return confirmation_page(
                self,
                request,
                queryset,
                action="delete_with_spans",
                title="Delete articles",
                lines=[
                    f"Deletes {counted(queryset.count(), 'article')}.",
                    *_summary_lines(summary),
                    "Deleted spans stay in the history and can be restored while their article exists; "
                    "the articles themselves cannot be brought back.",
                ],
                button="Yes, delete them",
                danger=True,
            )
        deleted = articles_delete(articles=queryset, actor=request.user)
        self.message_user(
            request,
            f"Deleted {counted(deleted.articles, 'article')}, {deleted.spans} span(s) "
            f"and {deleted.assignments} assignment(s).",
            messages.SUCCESS,
        )
        return None


def _summary_lines(summary: dict[str, int]) -> list[str]:
    return [
        f"With them go {summary['spans']} span(s) by {summary['editors']} editor(s) "
        f"and {summary['assignments']} assignment(s)."
    ]


@admin.register(Source)
class CurationSourceAdmin(SourceAdmin):
    list_display = ["name", "domain", "article_count", "span_count"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        # Articles are counted distinct: the join to spans repeats each article once per span.
        return (
            Source.objects.all()
            .annotate(article_count=Count("articles", distinct=True), span_count=Count("articles__spans"))
            .order_by(*Source._meta.ordering)
        )

    @admin.display(description="Spans", ordering="span_count")
    def span_count(self, source: Source) -> int:
        return source.span_count
