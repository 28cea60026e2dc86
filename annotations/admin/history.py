"""History of spans and articles (django-pghistory events): who did what, when; restoring deleted spans.

Tracked objects get "Span events" / "Article events" buttons on their change pages from pghistory's admin
templates, because these admins subclass its ``EventModelAdmin``.

Event rows copy foreign keys without constraints: the article, label or editor an old event names may be gone.
Names are therefore looked up with subqueries (blank when the row is gone) rather than joins, which would drop
such events from the list.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BigIntegerField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpRequest
from pghistory.admin import EventModelAdmin
from pghistory.admin.core import BackFilter, LabelFilter, ObjFilter

from annotations.admin.confirm import confirmation_page, confirmed
from annotations.curation.services import span_restore
from annotations.models import ArticleEvent, Label, SpanEvent
from articles.models import Article


def _username(column: str) -> Subquery:
    User = get_user_model()
    return Subquery(User.objects.filter(pk=OuterRef(column)).values(User.USERNAME_FIELD)[:1])


def _with_actor(queryset: QuerySet) -> QuerySet:
    """``actor``: the user the pghistory middleware recorded for the request that made the event."""
    return queryset.annotate(
        actor_id=Cast(KeyTextTransform("user", "pgh_context__metadata"), BigIntegerField())
    ).annotate(actor=_username("actor_id"))


# pghistory's tracker labels, as a curator reads them.
EVENT_KINDS = {"insert": "created", "update": "changed", "delete": "deleted"}


class EventKindFilter(LabelFilter):
    """pghistory's "label" filter, which means the kind of event, not one of our span labels."""

    title = "event kind"

    def lookups(self, request, model_admin):
        return [(value, EVENT_KINDS.get(value, value)) for value, _ in super().lookups(request, model_admin)]


class HistoryAdmin(EventModelAdmin):
    list_filter = [EventKindFilter, ObjFilter, BackFilter]

    @admin.display(description="When", ordering="pgh_created_at")
    def when(self, event) -> object:
        return event.pgh_created_at

    @admin.display(description="Event", ordering="pgh_label")
    def kind(self, event) -> str:
        return EVENT_KINDS.get(event.pgh_label, event.pgh_label)


@admin.register(SpanEvent)
class SpanEventAdmin(HistoryAdmin):
    list_display = ["when", "kind", "who", "span_id", "label_name", "text", "editor", "article_title"]
    search_fields = ["text", "note"]
    actions = ["restore"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpanEvent]:
        events = (
            super()
            .get_queryset(request)
            .annotate(
                label_name=Subquery(Label.objects.filter(pk=OuterRef("label_id")).values("name")[:1]),
                editor=_username("annotator_id"),
                article_title=Subquery(Article.objects.filter(pk=OuterRef("article_id")).values("title")[:1]),
            )
        )
        return _with_actor(events)

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        # "Deleted spans of this article" links here with ?article=<id>.
        return lookup in {"article", "article__id__exact"} or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Who", ordering="actor")
    def who(self, event: SpanEvent) -> str:
        return event.actor or "—"

    @admin.display(description="Span", ordering="pgh_obj_id")
    def span_id(self, event: SpanEvent) -> int:
        return event.pgh_obj_id

    @admin.display(description="Label", ordering="label_name")
    def label_name(self, event: SpanEvent) -> str:
        return event.label_name or f"(deleted label #{event.label_id})"

    @admin.display(description="Editor", ordering="editor")
    def editor(self, event: SpanEvent) -> str:
        return event.editor or f"(deleted user #{event.annotator_id})"

    @admin.display(description="Article", ordering="article_title")
    def article_title(self, event: SpanEvent) -> str:
        return event.article_title or f"(deleted article #{event.article_id})"

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("annotations.add_span")

    @admin.action(description="Restore the deleted spans of the selected events", permissions=["restore"])
    def restore(self, request: HttpRequest, queryset: QuerySet[SpanEvent]):
        deletes = queryset.filter(pgh_label="delete")
        if not confirmed(request):
            return confirmation_page(
                self, request, queryset, action="restore", title="Restore deleted spans",
                lines=[
                    f"{deletes.count()} of the selected events are deletions: their spans come back with their "
                    "old id, label, editor, note and attributes, if the text still matches and no identical "
                    "span exists now. Other events are skipped."
                ],
                button="Restore",
            )  # fmt: skip
        restored, problems = 0, []
        for event in deletes:
            try:
                span_restore(event=event, actor=request.user)
                restored += 1
            except (ValidationError, PermissionDenied) as err:
                text = "; ".join(err.messages) if isinstance(err, ValidationError) else str(err)
                problems.append(f"span {event.pgh_obj_id}: {text}")
        if restored:
            self.message_user(request, f"Restored {restored} span(s).", messages.SUCCESS)
        for problem in problems:
            self.message_user(request, f"Not restored — {problem}", messages.ERROR)
        if not restored and not problems:
            self.message_user(request, "None of the selected events is a deletion.", messages.WARNING)
        return None


@admin.register(ArticleEvent)
class ArticleEventAdmin(HistoryAdmin):
    list_display = ["when", "kind", "who", "article_id", "title", "status", "body_sha256"]
    search_fields = ["title", "url"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArticleEvent]:
        return _with_actor(super().get_queryset(request))

    @admin.display(description="Who", ordering="actor")
    def who(self, event: ArticleEvent) -> str:
        return event.actor or "—"

    @admin.display(description="Article", ordering="pgh_obj_id")
    def article_id(self, event: ArticleEvent) -> int:
        return event.pgh_obj_id
