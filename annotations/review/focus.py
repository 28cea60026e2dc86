"""What one decision on one conflict needs to know, read in one statement under the article's lock.

Settling a conflict changes that conflict only: its editor spans become decided, gold gains its accepted
version. So a decision reads the conflict's own editor spans (aligned in Python, ``align``, like the page's), the
counters, the page's version digest, and the drawn rows (gold spans, other open conflicts' extents) around the
conflict's stretch of the text; never all the layers into Python. PostgreSQL groups the versions into conflicts
the way ``align`` does (sorted by start, a version joins the running group while it starts before the group's
furthest end) to say which conflict the posted key belongs to, how many there are and which are open, and
where the page's body can be cut; tests/annotations/review/test_review_focus.py holds both to the same answers
on random layers. The same statement brings what the answer is drawn with (labels, review settings, editors'
names), so a decision costs two statements besides its inserts: the lock and this one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from annotations.models import Label
from annotations.review.alignment import Conflict, EditorSpan, align
from annotations.review.rendering import DECIDED_ITEM, EDITOR_ITEM, GOLD_ITEM, SPAN_ITEM, GoldRow, item_hash_sql
from annotations.review.selectors import ReviewSettings
from annotations.workflow.models import SETTINGS_PK, WorkflowSettings
from annotations.workflow.selectors import finished_slots
from articles.models import Article

# What the page draws of a label (``Label`` instances are made of these, unsaved).
LABEL_FIELDS = ("id", "name", "slug", "kind", "color", "hotkey", "description", "ordering", "active")

# ``rendering.item_hash`` of each drawn item, over the same numbers as ``editor_item`` and the others.
_HASHES = {
    "editor_hash": item_hash_sql(str(EDITOR_ITEM), "user_id"),
    "span_hash": item_hash_sql(str(SPAN_ITEM), "id", "annotator_id", "label_id", "start", '"end"'),
    "decided_hash": item_hash_sql(str(DECIDED_ITEM), "id"),
    "gold_hash": item_hash_sql(str(GOLD_ITEM), "id", "start", '"end"', "label_id"),
}


# Params: article id, the key's first span id, then the finished editors', the labels' and the settings' queries'.
# Every row of the article's layers is read by PostgreSQL only; what comes back is one row, with the conflict's
# spans, the rows drawn near it and what the answer is drawn with as JSON.
_FOCUS_SQL = """
WITH p AS (SELECT %s::bigint AS article, %s::bigint AS span),
editors AS (SELECT DISTINCT finished.user_id FROM ({editors}) AS finished),
spans AS (
  SELECT s.id, s.annotator_id, s.label_id, s.start, s."end" FROM annotations_span s, p
  WHERE s.article_id = p.article AND s.annotator_id IN (SELECT user_id FROM editors)
),
decided AS (
  SELECT DISTINCT unnest(d.span_ids) AS id FROM annotations_reviewdecision d, p
  WHERE d.article_id = p.article AND d.undone_at IS NULL
),
gold AS (
  SELECT g.id, g.start, g."end", g.label_id, g.text, g.decision FROM annotations_goldspan g, p
  WHERE g.article_id = p.article
),
versions AS (
  -- An editor has one span per (label, start, end) (span_unique_per_annotator): count(*) counts editors.
  SELECT s.start, s."end", s.label_id, min(s.id) AS least, bool_and(d.id IS NOT NULL) AS decided
  FROM spans s LEFT JOIN decided d ON d.id = s.id
  GROUP BY s.start, s."end", s.label_id
  HAVING count(*) < (SELECT count(*) FROM editors)
),
reaching AS (
  SELECT v.*, max(v."end") OVER (
    ORDER BY v.start, v."end" DESC, v.label_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
  ) AS reach
  FROM versions v
),
grouped AS (
  SELECT r.*, count(*) FILTER (WHERE r.reach IS NULL OR r.start >= r.reach) OVER (
    ORDER BY r.start, r."end" DESC, r.label_id ROWS UNBOUNDED PRECEDING
  ) AS grp
  FROM reaching r
),
conflicts AS (
  SELECT grp, min(start) AS start, max("end") AS "end", min(least) AS ident, bool_and(decided) AS settled
  FROM grouped GROUP BY grp
),
target AS (
  SELECT c.* FROM conflicts c
  WHERE c.grp = (
    SELECT g.grp FROM grouped g
    WHERE (g.start, g."end", g.label_id) = (SELECT s.start, s."end", s.label_id FROM spans s, p WHERE s.id = p.span)
  )
),
drawn AS (
  SELECT g.id AS pk, g.start, g."end", g.label_id FROM gold g
  UNION ALL
  SELECT -c.ident, c.start, c."end", -1 FROM conflicts c
  WHERE NOT c.settled AND c.grp IS DISTINCT FROM (SELECT grp FROM target)
),
cuts AS (
  SELECT
    coalesce(max(CASE WHEN d."end" <= t.start THEN d."end" WHEN d.start <= t.start THEN d.start END), 0) AS lo,
    min(CASE WHEN d.start >= t."end" THEN d.start WHEN d."end" >= t."end" THEN d."end" END) AS hi
  FROM target t LEFT JOIN drawn d ON true
  GROUP BY t.grp
)
SELECT
  (SELECT coalesce(sum({editor_hash}), 0) FROM editors)
    + (SELECT coalesce(sum({span_hash}), 0) FROM spans)
    + (SELECT coalesce(sum({decided_hash}), 0) FROM decided)
    + (SELECT coalesce(sum({gold_hash}), 0) FROM gold),
  (SELECT coalesce(array_agg(user_id ORDER BY user_id), ARRAY[]::bigint[]) FROM editors),
  (SELECT count(*) FROM conflicts),
  (SELECT count(*) FROM conflicts WHERE NOT settled),
  (SELECT count(*) FROM gold),
  cuts.lo,
  cuts.hi,
  (SELECT json_agg(json_build_array(s.id, s.annotator_id, s.label_id, s.start, s."end", s.text, s.note,
                                    s.attributes, d.id IS NOT NULL))
     FROM grouped g JOIN spans member USING (start, "end", label_id)
     JOIN annotations_span s ON s.id = member.id LEFT JOIN decided d ON d.id = s.id
    WHERE g.grp = t.grp AND member.start >= t.start AND member."end" <= t."end"),
  (SELECT json_agg(json_build_array(d.pk, d.start, d."end", d.label_id))
     FROM drawn d WHERE d."end" > cuts.lo AND (cuts.hi IS NULL OR d.start < cuts.hi)),
  (SELECT json_agg(json_build_array(g.id, g.start, g."end", g.label_id, g.text, g.decision))
     FROM (
       (SELECT * FROM gold g WHERE g.start >= t.start AND g.start < t."end")
       UNION
       (SELECT * FROM gold g WHERE g.start >= t."end" ORDER BY g.start, g."end" DESC, g.label_id LIMIT 1)
     ) AS g),
  (SELECT json_agg(row_to_json(label)) FROM ({labels}) AS label),
  (SELECT row_to_json(settings) FROM ({settings}) AS settings),
  (SELECT json_object_agg(u.{user_pk}, u.{username}) FROM {users} u WHERE u.{user_pk} IN (SELECT user_id FROM editors))
FROM (SELECT 1) AS one LEFT JOIN target t ON true LEFT JOIN cuts ON true
"""


@dataclass(frozen=True)
class FocusSpan:
    """An editor span of the conflict, with what its gold span takes over (note, attributes)."""

    span: EditorSpan
    note: str
    attributes: dict[str, Any]
    decided: bool


@dataclass(frozen=True)
class Focus:
    """The review of one article as one decision on one conflict finds it.

    ``conflict`` is the conflict the key's first span belongs to (None when that span is in none now); the
    caller compares its key with the posted one. ``digest`` is ``rendering.layers_digest`` of the whole review;
    ``window`` the stretch of the page's body, between two cut points of its drawing, that holds the conflict;
    ``drawn`` the rows the body draws there besides the conflict (gold spans, other open conflicts, as
    ``drawn_rows``); ``gold`` the gold rows starting inside the conflict's extent and the first one after it."""

    editor_ids: list[int]
    digest: int
    conflicts: int
    open: int
    gold_count: int
    conflict: Conflict | None
    spans: dict[int, FocusSpan]
    window: tuple[int, int]
    drawn: list[tuple[int, int, int, int]]
    gold: list[GoldRow]
    labels: dict[int, Label]
    settings: ReviewSettings | None  # None: the settings row is not created yet
    usernames: dict[int, str]

    @property
    def decided(self) -> set[int]:
        """Those of the conflict's spans a live decision names already."""
        return {pk for pk, span in self.spans.items() if span.decided}


@functools.cache
def _statement() -> tuple[str, tuple[Any, ...]]:
    """The focus statement with the ORM's queries in it, compiled once per process (compiling them on every
    decision cost more than running them). Their parameters: the finished-editors query takes the article's id
    (checked here) and nothing else; the labels' and settings' queries' are constants."""
    sentinel = -7
    queries = {
        "editors": finished_slots().filter(article_id=sentinel).values("user_id"),
        "labels": Label.objects.order_by("ordering", "name").values(*LABEL_FIELDS),
        "settings": WorkflowSettings.objects.filter(pk=SETTINGS_PK).values(
            "anonymous_review", "merge_strategy", "majority_threshold"
        ),
    }
    parts, constants = {}, []
    for name, query in queries.items():
        sql, params = query.query.sql_with_params()
        parts[name] = sql
        if name == "editors":
            if list(params) != [sentinel]:
                raise ImproperlyConfigured(f"The finished editors' query takes other parameters: {params!r}")
        else:
            constants += params
    User = get_user_model()
    names = {
        "users": connection.ops.quote_name(User._meta.db_table),
        "user_pk": connection.ops.quote_name(str(getattr(User._meta.pk, "column", "id"))),
        "username": connection.ops.quote_name(
            str(getattr(User._meta.get_field(User.USERNAME_FIELD), "column", User.USERNAME_FIELD))
        ),
    }
    return _FOCUS_SQL.format(**parts, **names, **_HASHES), tuple(constants)


def review_focus(*, article: Article, span_id: int, length: int) -> Focus:
    """The review of ``article`` around the conflict holding editor span ``span_id`` (``length``: the body's)."""
    statement, constants = _statement()
    params = [article.pk, span_id, article.pk, *constants]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    digest, editor_ids, conflicts, open_count, gold_count, lo, hi, members, drawn, gold, labels, settings, users = row
    spans = {
        pk: FocusSpan(EditorSpan(pk, annotator, label, start, end, text), note, attributes or {}, decided)
        for pk, annotator, label, start, end, text, note, attributes, decided in members or []
    }
    conflict = None
    if spans:
        ordered = sorted((s.span for s in spans.values()), key=lambda s: (s.start, s.end, s.label_id, s.annotator_id))
        found = align(ordered, editor_ids=editor_ids, decided={pk for pk, s in spans.items() if s.decided})
        conflict = found.conflicts[0] if len(found.conflicts) == 1 and not found.agreed else None
    return Focus(
        editor_ids=list(editor_ids),
        digest=int(digest) % 2**64,
        conflicts=conflicts,
        open=open_count,
        gold_count=gold_count,
        conflict=conflict,
        spans=spans,
        window=(lo or 0, length if hi is None else min(hi, length)),
        drawn=[(pk, start, end, label) for pk, start, end, label in drawn or []],
        gold=sorted((GoldRow(*g) for g in gold or []), key=lambda g: (g.start, -g.end, g.label_id)),
        labels={row["id"]: Label(**row) for row in labels or []},
        settings=None
        if settings is None
        else ReviewSettings(settings["anonymous_review"], settings["merge_strategy"], settings["majority_threshold"]),
        usernames={int(pk): name for pk, name in (users or {}).items()},
    )
