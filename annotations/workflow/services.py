"""Editors' slots on articles: claiming one by opening the article, starting it with a first span, and a curator
releasing a stalled one. Each claim locks the article's row, so two editors racing for its last slot queue one
behind the other and the second finds it full: never more than k editors hold an article."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.models import Assignment, Span
from annotations.permissions import Actor, require
from annotations.progress import REVIEWED_REFUSAL, article_progress_update
from annotations.workflow.models import SETTINGS_PK
from annotations.workflow.selectors import editors_needed, holding, slot_holds, takes_slots, workflow_settings
from articles.models import Article
from newsnotes.compiled import compiled
from newsnotes.prepared import prepared_cursor

REVIEW = "articles.review_article"
ANNOTATE = "annotations.add_span"
RELEASE = "annotations.release_assignment"


# How much of a lease may have run before opening the article renews it.
LEASE_SLACK = dt.timedelta(minutes=1)


class SlotsFull(ValidationError):
    """Every slot of the article is held by other editors."""


def _full(article: Article, k: int) -> SlotsFull:
    editors = "editor" if k == 1 else "editors"
    return SlotsFull(
        f"“{article.title}” already has the {k} {editors} it needs; it has been left for them.", code="slots_full"
    )


_SLOT_FIELDS = [field.attname for field in Assignment._meta.concrete_fields]
_SLOT_COLUMNS = [str(field.column) for field in Assignment._meta.concrete_fields]


# Compiled once per process (newsnotes.compiled): every page view claims or renews a slot.
@compiled("article", "editor")
def _slot_locked(*, article: int, editor: int) -> QuerySet:
    slots = Assignment.objects.select_for_update().filter(article_id=article, user_id=editor)
    return slots.order_by("pk").values_list(*_SLOT_FIELDS)[:1]


def _claim(*, article: Article, editor: Actor, now: dt.datetime) -> Assignment:
    """The editor's slot on ``article``, taken or renewed; the caller holds the article's row lock."""
    settings = workflow_settings()
    lease = now + dt.timedelta(minutes=settings.lease_minutes)
    found = _slot_locked().rows(article=article.pk, editor=editor.pk)
    slot = Assignment.from_db(connection.alias, _SLOT_FIELDS, found[0]) if found else None
    if slot is not None and slot_holds(slot, now=now):
        # Renewed when it has run for a minute (LEASE_SLACK): a reload or the next open within it writes nothing
        # (each renewal is an UPDATE and a row of the slot's history).
        if slot.done_at is None and (slot.leased_until is None or slot.leased_until < lease - LEASE_SLACK):
            slot.leased_until = lease
            slot.save(update_fields=["leased_until"])
        return slot
    k = editors_needed(article=article, settings=settings)
    if Assignment.objects.filter(holding(now=now), article=article).exclude(user=editor).count() >= k:
        raise _full(article, k)
    if slot is None:
        return Assignment.objects.create(article=article, user=editor, explicit=False, leased_until=lease)
    slot.leased_until, slot.released_at, slot.released_by = lease, None, None
    slot.save(update_fields=["leased_until", "released_at", "released_by"])
    return slot


# What a claim reads of the article, in the model's column order (``Model.from_db`` takes them so).
_CLAIM_FIELDS = tuple(
    field.attname
    for field in Article._meta.concrete_fields
    if field.attname in {"id", "status", "title", "editors_per_article", "source_id"}
)


@compiled("article")
def _article_locked(*, article: int) -> QuerySet:
    return Article.objects.select_for_update().filter(pk=article).values_list(*_CLAIM_FIELDS)


def slot_claim(*, article: Article, editor: Actor, now: dt.datetime | None = None) -> Assignment | None:
    """``editor`` opens ``article``: take a slot with a lease (or renew the one they hold). None for reviewers and
    curators, who never take one, and for a reviewed article; ``SlotsFull`` when k other editors hold it.

    The usual case, an editor opening an article whose slot they hold with a lease renewed within the last
    minute (``LEASE_SLACK``), is one read and no transaction: it would write nothing, and another editor's claim
    cannot take a slot that holds. Anything else takes the article's lock (``_slot_claim_locked``)."""
    if not takes_slots(editor):
        return None
    now = now or timezone.now()
    held = _slot_held(article_id=article.pk, editor_id=editor.pk, now=now)
    if held is not None:
        return held
    return _slot_claim_locked(article=article, editor=editor, now=now)


_HELD_SQL = """
SELECT article.status, settings.lease_minutes, {slot_columns}
FROM articles_article article
LEFT JOIN annotations_assignment slot ON slot.article_id = article.id AND slot.user_id = %(editor)s
LEFT JOIN annotations_workflowsettings settings ON settings.id = %(settings)s
WHERE article.id = %(article)s
ORDER BY slot.id
LIMIT 1
"""


@functools.cache
def _held_sql() -> str:
    """``_HELD_SQL`` with the slot's columns, in the model's order (``Assignment.from_db`` takes them so): once."""
    return _HELD_SQL.format(slot_columns=", ".join(f"slot.{connection.ops.quote_name(name)}" for name in _SLOT_COLUMNS))


def _slot_held(*, article_id: int, editor_id: int, now: dt.datetime) -> Assignment | None:
    """The editor's slot on the article when opening it changes nothing (it holds, and is done or leased for
    longer than a renewal would give less ``LEASE_SLACK``); None when a claim must look under the lock."""
    with prepared_cursor() as cursor:
        cursor.execute(_held_sql(), {"article": article_id, "editor": editor_id, "settings": SETTINGS_PK})
        row = cursor.fetchone()
    if row is None or row[1] is None or row[2] is None:  # no article, no settings row yet, or no slot
        return None
    status, lease_minutes = row[0], row[1]
    if status == Article.Status.REVIEWED:
        return None
    slot = Assignment.from_db(connection.alias, _SLOT_FIELDS, row[2:])
    if not slot_holds(slot, now=now):
        return None
    renewal = now + dt.timedelta(minutes=lease_minutes) - LEASE_SLACK
    if slot.done_at is None and (slot.leased_until is None or slot.leased_until < renewal):
        return None
    return slot


@transaction.atomic
def _slot_claim_locked(*, article: Article, editor: Actor, now: dt.datetime) -> Assignment | None:
    # The lock, and what a claim reads of the article: not its body (tens of kB, on every page view).
    found = _article_locked().rows(article=article.pk)
    if not found:
        raise Article.DoesNotExist("The article was deleted.")
    article = Article.from_db(connection.alias, list(_CLAIM_FIELDS), found[0])
    if article.status == Article.Status.REVIEWED:
        return None
    return _claim(article=article, editor=editor, now=now)


_STARTED_FIELDS = [field.attname for field in Assignment._meta.concrete_fields]


@compiled("article", "editor")
def _started(*, article: int, editor: int) -> QuerySet:
    """The editor's started slot on the article (compiled once per process: it runs with every create)."""
    slots = Assignment.objects.filter(
        article_id=article, user_id=editor, started_at__isnull=False, released_at__isnull=True
    )
    return slots.order_by("pk").values_list(*_STARTED_FIELDS)[:1]


def slot_start(*, article: Article, editor: Actor, now: dt.datetime | None = None) -> Assignment | None:
    """``editor`` makes a span on ``article``: they must hold (or can still take) a slot, which is now started and
    held until they mark it done. Refused on a reviewed article. Reviewers and curators hold no slot (None)."""
    if article.status != Article.Status.REVIEWED and takes_slots(editor):
        started = _started().rows(article=article.pk, editor=editor.pk)
        if started:  # the usual case, every span after the first: one query, no lock, no savepoint
            return Assignment.from_db(connection.alias, _STARTED_FIELDS, started[0])
    return _slot_start_locked(article=article, editor=editor, now=now)


@transaction.atomic
def _slot_start_locked(*, article: Article, editor: Actor, now: dt.datetime | None) -> Assignment | None:
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if locked.status == Article.Status.REVIEWED and not editor.has_perm(REVIEW):
        raise ValidationError(f"{REVIEWED_REFUSAL} New spans are not accepted.", code="reviewed")
    if not takes_slots(editor):
        return None
    now = now or timezone.now()
    slot = _claim(article=locked, editor=editor, now=now)
    if slot.started_at is None:
        slot.started_at = now
        slot.save(update_fields=["started_at"])
    return slot


@transaction.atomic
def slot_release(*, slot: Assignment, actor: Actor) -> Assignment:
    """A curator frees ``slot`` for another editor: its editor's spans stay, unfinished, outside agreement and
    review; the history (``AssignmentEvent``) records who released it. A done slot is finished work: refused."""
    require(actor, RELEASE, reason="Only curators release editors' slots.")
    Article.objects.select_for_update().filter(pk=slot.article_id).first()
    slot = Assignment.objects.select_for_update().select_related("article", "user").get(pk=slot.pk)
    if slot.done_at is not None:
        raise ValidationError(
            f"{slot.user.get_username()} has marked “{slot.article.title}” done; finished work is not released.",
            code="done",
        )
    if slot.released_at is None:
        slot.released_at, slot.released_by = timezone.now(), actor
        slot.save(update_fields=["released_at", "released_by"])
        article_progress_update(article=slot.article)
    return slot


def slots_for_imported(*, article_ids: Sequence[int] = (), pairs: Collection[tuple[int, int]] = ()) -> int:
    """The editors of imported spans hold started slots on their articles (done where the file said the article
    was ready for review or reviewed), as if they had labelled them here; reviewers' spans take none. Returns the
    number of slots made. Call inside the import's transaction.

    ``article_ids``: every annotator of a span on these articles (layers added to stored articles). ``pairs``:
    ``(article id, annotator id)`` of the spans an import just wrote on articles it created in the same batch,
    which are all their spans: no need to read them back (an import of 200,000 spans spent 6 s doing so)."""
    if not article_ids and not pairs:
        return 0
    User = get_user_model()
    if article_ids:
        annotators = User.objects.filter(spans__article_id__in=article_ids).distinct()
    else:
        annotators = User.objects.filter(pk__in={user for _, user in pairs})
    editors = [user.pk for user in annotators if takes_slots(user)]
    if not editors:
        return 0
    sql, params = imported_slots_statement(editors=editors, article_ids=article_ids, pairs=pairs)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def imported_slots_statement(
    *, editors: Collection[int], article_ids: Sequence[int] = (), pairs: Collection[tuple[int, int]] = ()
) -> tuple[str, dict[str, Any]]:
    """``slots_for_imported``'s one statement for the whole batch (an import makes thousands), for ``editors``
    (the annotators who take slots: ``takes_slots``); a slot already held is left as it is. The corpus import's
    writer thread runs it after a batch's spans, on its own cursor."""
    now = timezone.now()
    finished = [Article.Status.READY_FOR_REVIEW.value, Article.Status.REVIEWED.value]
    columns = "(article_id, user_id, assigned_at, explicit, leased_until, started_at, done_at)"
    values = (
        "SELECT DISTINCT s.article_id, s.annotator_id, %(now)s, false, %(now)s, %(now)s, "
        "CASE WHEN a.status = ANY(%(finished)s) THEN %(now)s::timestamptz END "
    )
    params: dict[str, Any] = {"now": now, "finished": finished, "editors": list(editors)}
    if article_ids:
        source = f"{Span._meta.db_table} s"
        where = "s.article_id = ANY(%(articles)s)"
        params["articles"] = list(article_ids)
    else:
        source = "unnest(%(article_ids)s::bigint[], %(user_ids)s::integer[]) AS s(article_id, annotator_id)"
        where = "true"
        mine = sorted(pairs)
        params["article_ids"], params["user_ids"] = [a for a, _ in mine], [u for _, u in mine]
    sql = (
        f"INSERT INTO {Assignment._meta.db_table} {columns} {values}"
        f"FROM {source} JOIN {Article._meta.db_table} a ON a.id = s.article_id "
        f"WHERE {where} AND s.annotator_id = ANY(%(editors)s) "
        "ON CONFLICT (article_id, user_id) DO NOTHING"
    )
    return sql, params
