"""What the workflow reads: the settings, how many editors an article needs, whose slots count, who has finished."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan as Lt
from django.utils import timezone

from annotations.models import Assignment
from annotations.workflow.models import SETTINGS_PK, WorkflowSettings
from articles.models import Article, Source
from newsnotes.compiled import compiled


def takes_slots(user) -> bool:
    """Editors take slots; reviewers and curators (who can review) never do, whatever else they may do."""
    return user.has_perm("annotations.add_span") and not user.has_perm("articles.review_article")


def sees_every_editor(user) -> bool:
    """Blind labelling: reviewers and curators (``review_span``) see every editor's spans; an editor sees only
    their own while the setting is on (the default), wherever the app shows spans — pages, fragments, admin."""
    if user.has_perm("annotations.review_span"):
        return True
    return not workflow_settings().blind_labelling


def gold_visible(*, article: Article, user) -> bool:
    """The hook for the review room's gold layer: reviewers and curators always; editors once ``article`` is
    reviewed (its gold accepted), never before, so gold cannot hint at what other editors did."""
    return user.has_perm("annotations.review_span") or article.status == Article.Status.REVIEWED


def workflow_settings() -> WorkflowSettings:
    """The one settings row (created with its defaults the first time it is read).

    Read by a statement compiled once per process and run prepared (``newsnotes.compiled``): writes ask for it on
    every request (blind labelling), and ``get_or_create`` built and compiled its query each time."""
    found = _settings_row().rows()
    if not found:
        settings, _ = WorkflowSettings.objects.get_or_create(pk=SETTINGS_PK)
        return settings
    return WorkflowSettings.from_db(connection.alias, _SETTINGS_FIELDS, found[0])


_SETTINGS_FIELDS = [field.attname for field in WorkflowSettings._meta.concrete_fields]


@compiled()
def _settings_row() -> QuerySet:
    return WorkflowSettings.objects.filter(pk=SETTINGS_PK).values_list(*_SETTINGS_FIELDS)


def editors_needed(*, article: Article, settings: WorkflowSettings | None = None, site_k: int | None = None) -> int:
    """k for ``article``: its own override (set at import), else its source's, else the site-wide setting
    (``settings``' or ``site_k``, read by the caller; else read here)."""
    if article.editors_per_article is not None:
        return article.editors_per_article
    if article.source_id is not None:
        # The workspace loads the source with the article (select_related): no query then.
        source = article.source if Article.source.is_cached(article) else None
        k = (
            source.editors_per_article
            if source is not None
            else Source.objects.filter(pk=article.source_id).values_list("editors_per_article", flat=True).first()
        )
        if k is not None:
            return k
    if site_k is not None:
        return site_k
    return (settings or workflow_settings()).editors_per_article


def holding(*, now: dt.datetime | None = None) -> Q:
    """The slots that count toward k: not released, and explicit, started, done or still leased."""
    now = now or timezone.now()
    return Q(released_at__isnull=True) & (
        Q(explicit=True) | Q(started_at__isnull=False) | Q(done_at__isnull=False) | Q(leased_until__gt=now)
    )


def slot_holds(slot: Assignment, *, now: dt.datetime | None = None) -> bool:
    """``holding`` for one slot already loaded (no query)."""
    now = now or timezone.now()
    if slot.released_at is not None:
        return False
    leased = slot.leased_until is not None and slot.leased_until > now
    return slot.explicit or slot.started_at is not None or slot.done_at is not None or leased


def slots_held(*, article: Article, now: dt.datetime | None = None) -> QuerySet[Assignment]:
    return Assignment.objects.filter(holding(now=now), article=article)


def slot_of(*, article: Article, user) -> Assignment | None:
    return Assignment.objects.filter(article=article, user=user).first()


def finished_editor_ids(*, article: Article) -> list[int]:
    """The editors whose layer of ``article`` is finished: their slot is done and not released (ids, ascending)."""
    return list(
        Assignment.objects.filter(article=article, done_at__isnull=False, released_at__isnull=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def finished_slots() -> QuerySet[Assignment]:
    """Every finished editor layer (done, not released), for queries over many articles."""
    return Assignment.objects.filter(done_at__isnull=False, released_at__isnull=True)


@dataclass(frozen=True)
class EditorProgress:
    """One person's progress on one article, as the workspace shows it: their own, not the article's."""

    takes_slot: bool
    key: str  # not_started, in_progress, done, released; "" for reviewers and curators (no slot)
    label: str
    done_count: int
    needed: int

    @property
    def done(self) -> bool:
        return self.key == "done"


_PROGRESS_LABELS = {"not_started": "Not started", "in_progress": "In progress", "done": "Done", "released": "Released"}


class SlotState(NamedTuple):
    """What ``editor_progress`` needs of one slot of the article."""

    user_id: int
    done: bool
    started: bool
    released: bool


def editor_progress(
    *, article: Article, user, slots: list[SlotState] | None = None, site_k: int | None = None
) -> EditorProgress:
    """``user``'s own progress on ``article`` and how many of the editors it needs are done (two queries, or none
    when the caller read ``slots`` (the article's unreleased ones, and the user's even if released) and the
    site-wide k along with other things)."""
    if slots is None:
        rows = Assignment.objects.filter(Q(released_at__isnull=True) | Q(user=user), article=article)
        slots = [
            SlotState(slot.user_id, slot.done_at is not None, slot.started_at is not None, slot.released_at is not None)
            for slot in rows
        ]
    held = [slot for slot in slots if not slot.released]
    done_count = sum(1 for slot in held if slot.done)
    mine = next((slot for slot in slots if slot.user_id == user.pk), None)
    takes_slot = takes_slots(user)
    if not takes_slot:
        key = ""
    elif mine is None:
        key = "not_started"
    elif mine.released:
        key = "released"
    elif mine.done:
        key = "done"
    elif mine.started:
        key = "in_progress"
    else:
        key = "not_started"
    return EditorProgress(
        takes_slot=takes_slot,
        key=key,
        label=_PROGRESS_LABELS.get(key, ""),
        done_count=done_count,
        needed=editors_needed(article=article, site_k=site_k),
    )


def held_by(*, user, now: dt.datetime | None = None) -> QuerySet[Assignment]:
    """``user``'s slots that still hold and are not done: the articles on their plate."""
    return Assignment.objects.filter(holding(now=now), user=user, done_at__isnull=True)


def open_to(*, user, now: dt.datetime | None = None) -> Q:
    """Articles the queue may hand ``user``: not done by them, and either on their plate or with a slot free.

    A filter for ``Article`` querysets, evaluated per candidate row (correlated sub-queries on the assignment
    indexes), so an index walk of the queue stops at the first article it may hand out.
    """
    now = now or timezone.now()
    site_k = WorkflowSettings.objects.filter(pk=SETTINGS_PK).values("editors_per_article")
    default_k = WorkflowSettings._meta.get_field("editors_per_article").default
    # Correlated sub-queries, not joins: the queue's index walk stays a walk and looks these up per row it visits.
    source_k = Source.objects.filter(pk=OuterRef("source_id")).values("editors_per_article")
    k = Coalesce(F("editors_per_article"), Subquery(source_k), Subquery(site_k), Value(default_k))
    others = (
        Assignment.objects.filter(holding(now=now), article=OuterRef("pk"))
        .exclude(user=user)
        .order_by()
        .values("article")
        .annotate(n=Count("*"))
        .values("n")
    )
    mine = Assignment.objects.filter(article=OuterRef("pk"), user=user)
    done = mine.filter(done_at__isnull=False, released_at__isnull=True)
    held = mine.filter(holding(now=now))
    return ~Exists(done) & (Exists(held) | Q(Lt(Coalesce(Subquery(others), Value(0)), k)))


def stalled_slots(*, now: dt.datetime | None = None) -> QuerySet[Assignment]:
    """Slots whose editor made spans but is neither done nor working now (lease run out), oldest lease first: the
    articles a curator may release so another editor can finish them."""
    now = now or timezone.now()
    return (
        Assignment.objects.filter(
            started_at__isnull=False, done_at__isnull=True, released_at__isnull=True, leased_until__lt=now
        )
        .select_related("article", "user")
        .defer("article__body", "article__metadata")
        .order_by("leased_until", "pk")
    )


@dataclass(frozen=True)
class EditorThroughput:
    editor_id: int
    username: str
    today: int
    week: int
    month: int
    total: int
    open: int


def editor_throughput(*, now: dt.datetime | None = None) -> list[EditorThroughput]:
    """Per editor: articles they marked done today, in the last 7 and 30 days and ever, and slots still open
    (held, not done), busiest first. One query."""
    now = now or timezone.now()
    day, week, month = now - dt.timedelta(days=1), now - dt.timedelta(days=7), now - dt.timedelta(days=30)
    finished = Q(done_at__isnull=False, released_at__isnull=True)
    rows = (
        Assignment.objects.values("user_id", "user__username")
        .annotate(
            today=Count("pk", filter=finished & Q(done_at__gte=day)),
            week=Count("pk", filter=finished & Q(done_at__gte=week)),
            month=Count("pk", filter=finished & Q(done_at__gte=month)),
            total=Count("pk", filter=finished),
            open=Count("pk", filter=holding(now=now) & Q(done_at__isnull=True)),
        )
        .order_by("-week", "-total", "user__username")
    )
    return [
        EditorThroughput(r["user_id"], r["user__username"], r["today"], r["week"], r["month"], r["total"], r["open"])
        for r in rows
    ]


def reviewer_progress() -> list[tuple[str, int]]:
    """``(reviewer, articles)``: how many articles each person marked reviewed, from the article history (the
    user the request that made the change recorded), most first. One query."""
    from django.contrib.auth import get_user_model
    from django.db.models import BigIntegerField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast

    from annotations.models import ArticleEvent  # type: ignore[attr-defined]  # pghistory makes it

    User = get_user_model()
    username = User.objects.filter(pk=OuterRef("actor_id")).values(User.USERNAME_FIELD)
    rows = (
        ArticleEvent.objects.filter(status=Article.Status.REVIEWED)
        .annotate(actor_id=Cast(KeyTextTransform("user", "pgh_context__metadata"), BigIntegerField()))
        .filter(actor_id__isnull=False)
        .values("actor_id")
        .annotate(articles=Count("pgh_obj_id", distinct=True), name=Subquery(username))
        .order_by("-articles", "name")
    )
    return [(row["name"] or f"(deleted user #{row['actor_id']})", row["articles"]) for row in rows]


def awaiting_review() -> QuerySet[Article]:
    """Articles whose editors are all done, waiting for a reviewer, oldest first."""
    return (
        Article.objects.filter(status=Article.Status.READY_FOR_REVIEW)
        .select_related("source")
        .defer("body", "metadata")
        .order_by("imported_at", "pk")
    )


# A slot holds (``holding``) when: released_at IS NULL AND (explicit OR started OR done OR leased_until > now).
_OPEN_TO_SQL = """
    NOT EXISTS (SELECT 1 FROM annotations_assignment d WHERE d.article_id = articles_article.id AND d.user_id = %s
                AND d.done_at IS NOT NULL AND d.released_at IS NULL)
    AND (EXISTS (SELECT 1 FROM annotations_assignment h WHERE h.article_id = articles_article.id AND h.user_id = %s
                 AND h.released_at IS NULL
                 AND (h.explicit OR h.started_at IS NOT NULL OR h.done_at IS NOT NULL OR h.leased_until > %s))
         OR (SELECT count(*) FROM annotations_assignment o WHERE o.article_id = articles_article.id
             AND o.user_id <> %s AND o.released_at IS NULL
             AND (o.explicit OR o.started_at IS NOT NULL OR o.done_at IS NOT NULL OR o.leased_until > %s))
            < COALESCE(articles_article.editors_per_article,
                       (SELECT s.editors_per_article FROM articles_source s WHERE s.id = articles_article.source_id),
                       (SELECT w.editors_per_article FROM annotations_workflowsettings w WHERE w.id = %s), %s))
"""


def open_to_sql(*, user, now: dt.datetime | None = None) -> RawSQL:
    """``open_to`` as one SQL condition on ``articles_article``, for queries that repeat it in many parts (``next``
    unions eight index walks): Django compiled the sub-queries of the Q form eight times per call, which cost
    more than running the query. ``tests/annotations/test_queue_next.py`` checks both forms agree."""
    now = now or timezone.now()
    default_k = WorkflowSettings._meta.get_field("editors_per_article").default
    params = [user.pk, user.pk, now, user.pk, now, SETTINGS_PK, default_k]
    return RawSQL(_OPEN_TO_SQL, params, output_field=BooleanField())  # noqa: S611 - constant SQL, values are params
