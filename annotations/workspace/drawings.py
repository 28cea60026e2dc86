"""The annotate page's drawings kept in PostgreSQL (``WorkspaceDrawing``), found by the drawing's revision key.

Only the page itself (a GET) reads and stores them; a write's answer draws afresh, since the drawing it shows is
new. Every web process and replica shares the table. An editor's drawing of an article has the key
``"<article>.<article, editor>.<labels>"``: the revisions of migration 0032, which statement-level triggers bump
in the transaction of any change to what the drawing shows. A drawing is stored under the key read *before* the
rows it was drawn from, and found only by the statement that reads the current key (``page_reads``), so a
drawing's rows are never older than its key; they may be newer (a change committed between the two reads), but
then that change's newer revision committed before the drawing did, and no snapshot that sees the drawing sees
its key as current. The key is also the drawing's version (``body_version``), which a page sends with each write:
the write's answer, read in its transaction, compares it with the key just before the write (``PageReads.before``).
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from annotations.models import Label
from annotations.spans.selectors import label_of_row, workspace_spans_send
from annotations.suggestions.decisions import suggestion_rows_of, suggestion_rows_send
from annotations.workflow.models import SETTINGS_PK
from annotations.workflow.selectors import SlotState
from annotations.workspace.rendering import SpanRow
from articles.models import Article, Source
from newsnotes.compiled import compiled, pipelined
from newsnotes.prepared import prepared_cursor

# The suggestion panel is stored with this in place of the request's CSRF token (text from PostgreSQL holds no NUL).
CSRF_MARKER = "\x00csrf\x00"


class Drawing(NamedTuple):
    body: bytes  # the body's markup (rendering.render_body), UTF-8
    spans: bytes  # the side panel's list of spans (rendering.render_span_groups), UTF-8
    body_version: str
    suggestions: bytes = b""  # the suggestion panel (suggestions.presentation), CSRF token as ``CSRF_MARKER``
    span_count: int = 0
    suggestion_count: int = 0


class PageReads(NamedTuple):
    key: str  # the revision key the drawing is (to be) stored under: its version
    before: str  # in a write's transaction, the key just before the write (else the key)
    labels: dict[int, Label]  # every label, inactive ones too, by id
    undo_count: int
    drawing: Drawing | None  # the editor's stored drawing of this revision, if any
    slots: list[SlotState]  # the article's unreleased slots, and the editor's own even if released
    site_k: int | None  # the site-wide editors per article (None: the settings row is not created yet)
    body: str | None  # the article's body, when asked for and there is no current drawing to show instead


# One statement, one snapshot: the revision key, the labels, the editor's undo entries, the article's slots and the
# site-wide k (workflow.selectors.editor_progress) and the drawing of that key; or, with no drawing, the body to
# draw (when the caller has not read it: a write's answer, a page whose drawing is out of date).
# ``before``: each revision as it was before this write first bumped it, where it did (``writer``: migration 0032);
# elsewhere (NULL = NULL when the write has no name: it wrote nothing) the revision itself.
# It starts with SELECT (the revision as a subquery, not a CTE): pghistory prefixes its context to any other
# statement run while a request writes, and a statement with a prefix cannot go in a pipeline (``answer_reads``).
_PAGE_SQL = """
SELECT revision.key, revision.before,
       (SELECT json_agg(label ORDER BY label.id) FROM annotations_label label),
       (SELECT count(*) FROM annotations_undoentry WHERE user_id = %(editor)s AND article_id = %(article)s),
       (SELECT json_agg(json_build_array(
                   user_id, done_at IS NOT NULL, started_at IS NOT NULL, released_at IS NOT NULL))
        FROM annotations_assignment
        WHERE article_id = %(article)s AND (released_at IS NULL OR user_id = %(editor)s)),
       (SELECT editors_per_article FROM annotations_workflowsettings WHERE id = %(settings)s),
       drawing.body, drawing.spans, drawing.suggestions, drawing.span_count, drawing.suggestion_count,
       CASE WHEN %(body)s AND drawing.article_id IS NULL
            THEN (SELECT body FROM articles_article WHERE id = %(article)s) END
FROM (
    SELECT concat_ws('.', coalesce(a.revision, 0), coalesce(e.revision, 0), coalesce(l.revision, 0)) AS key,
           concat_ws('.',
               CASE WHEN a.writer = writer.name THEN a.before ELSE coalesce(a.revision, 0) END,
               CASE WHEN e.writer = writer.name THEN e.before ELSE coalesce(e.revision, 0) END,
               CASE WHEN l.writer = writer.name THEN l.before ELSE coalesce(l.revision, 0) END
           ) AS before
    FROM (SELECT annotations_drawing_writer() AS name) writer
    LEFT JOIN annotations_drawingrevision a ON a.article_id = %(article)s AND a.editor_id = 0
    LEFT JOIN annotations_drawingrevision e ON e.article_id = %(article)s AND e.editor_id = %(editor)s
    LEFT JOIN annotations_drawingrevision l ON l.article_id = 0 AND l.editor_id = 0
) revision
LEFT JOIN annotations_workspacedrawing drawing
    ON drawing.article_id = %(article)s AND drawing.editor_id = %(editor)s AND drawing.key = revision.key
   AND %(drawing)s
"""


def page_reads(*, article_id: int, editor_id: int, stored: bool = True, body: bool = False) -> PageReads:
    """What the page needs besides the article and the editor's slot, with the drawing when one is current
    (``stored``: look for one; a write's answer draws afresh), else the article's body if ``body``."""
    with prepared_cursor() as cursor:
        _page_reads_send(cursor, article_id=article_id, editor_id=editor_id, stored=stored, body=body)
        return _page_reads_of(cursor.fetchone())


class AnswerReads(NamedTuple):
    reads: PageReads
    spans: list[SpanRow]
    suggested: list[SpanRow]
    at_place: list[SpanRow]  # with ``place``: the suggestions there the editor may see, labelled there or not


def answer_reads(*, article_id: int, editor_id: int, body: bool, place: tuple[int, int] | None = None) -> AnswerReads:
    """What a write's answer draws from: ``page_reads`` (no stored drawing), the editor's spans
    (``spans.selectors.workspace_spans``) and the suggestions shown to them (``suggestions.decisions``), the
    statements sent together in one round trip (``compiled.pipelined``), in this order: the rows are never older
    than the revision key, as the drawing protocol above asks.

    With ``place`` (a changed span's), also the suggestions there, read before the places the editor labelled are
    left out (``suggestion_rows_of``): one per label (the lowest id the editor may see and has not answered), as a
    page draws them where the editor has no span of that label. A span created or relabelled there hides the one of
    its label; one deleted or relabelled shows the one of its old label again."""
    reads, spans, suggested = pipelined(
        partial(_page_reads_send, article_id=article_id, editor_id=editor_id, stored=False, body=body),
        partial(workspace_spans_send, article_id=article_id, annotator_id=editor_id),
        partial(suggestion_rows_send, article_id=article_id, editor_id=editor_id),
    )
    at_place: list[SpanRow] = []
    if place is not None:
        at_place = suggestion_rows_of([row for row in suggested if row[1:3] == place])
    return AnswerReads(_page_reads_of(reads[0]), spans, suggestion_rows_of(suggested, spans), at_place)


def drawn_rows(*, article_id: int, editor_id: int) -> tuple[list[SpanRow], list[SpanRow]]:
    """The editor's spans and the suggestions shown to them, the two statements in one round trip: what a page
    whose drawing is out of date draws from."""
    spans, suggested = pipelined(
        partial(workspace_spans_send, article_id=article_id, annotator_id=editor_id),
        partial(suggestion_rows_send, article_id=article_id, editor_id=editor_id),
    )
    return spans, suggestion_rows_of(suggested, spans)


def _page_reads_send(cursor: Any, *, article_id: int, editor_id: int, stored: bool, body: bool) -> None:
    params = {"article": article_id, "editor": editor_id, "drawing": stored, "settings": SETTINGS_PK, "body": body}
    cursor.execute(_PAGE_SQL, params)


def _page_reads_of(row: tuple[Any, ...]) -> PageReads:
    key, before, labels, undo_count, slots, site_k, drawn, spans, suggestions, span_count, suggestion_count = row[:11]
    drawing = None
    if drawn is not None:
        drawing = Drawing(bytes(drawn), bytes(spans), key, bytes(suggestions), span_count, suggestion_count)
    return PageReads(
        key,
        before,
        {label.pk: label for label in map(label_of_row, labels or [])},
        undo_count,
        drawing,
        [SlotState(*slot) for slot in slots or []],
        site_k,
        row[11],
    )


# Keep the drawing as this editor's, replacing theirs; other editors' drawings of an older revision of the article
# or of the labels (the key's first and last parts) would never be served again, so they go.
_STORE_SQL = """
WITH pruned AS (
    DELETE FROM annotations_workspacedrawing
    WHERE article_id = %(article)s AND editor_id <> %(editor)s
      AND (split_part(key, '.', 1) <> split_part(%(key)s, '.', 1)
           OR split_part(key, '.', 3) <> split_part(%(key)s, '.', 3))
)
INSERT INTO annotations_workspacedrawing
    (article_id, editor_id, key, body, spans, suggestions, span_count, suggestion_count, drawn_at)
VALUES (%(article)s, %(editor)s, %(key)s, %(body)s, %(spans)s, %(suggestions)s, %(span_count)s,
        %(suggestion_count)s, %(now)s)
ON CONFLICT (article_id, editor_id) DO UPDATE SET
    key = EXCLUDED.key, body = EXCLUDED.body, spans = EXCLUDED.spans, suggestions = EXCLUDED.suggestions,
    span_count = EXCLUDED.span_count, suggestion_count = EXCLUDED.suggestion_count, drawn_at = EXCLUDED.drawn_at
"""


def drawing_store(*, article_id: int, editor_id: int, key: str, drawing: Drawing) -> None:
    """Keep ``drawing`` as this editor's drawing of the article under ``key`` (one statement)."""
    with connection.cursor() as cursor:
        fields = drawing._asdict()
        del fields["body_version"]  # the key
        cursor.execute(
            _STORE_SQL, {"article": article_id, "editor": editor_id, "key": key, "now": timezone.now(), **fields}
        )


# Every workspace request reads its article without the body (the body comes with ``page_reads`` when it is drawn).
_ARTICLE_FIELDS = [field.attname for field in Article._meta.concrete_fields if field.attname != "body"]
_SOURCE_FIELDS = [field.attname for field in Source._meta.concrete_fields]


@compiled("article")
def _article_without_body(*, article: int) -> QuerySet:
    columns = _ARTICLE_FIELDS + [f"source__{name}" for name in _SOURCE_FIELDS]
    return Article.objects.filter(pk=article).values_list(*columns)


def article_without_body(pk: int) -> Article | None:
    """The article with its source (one LEFT JOIN, set as its cached relation) and its body deferred, by a
    statement compiled once per process; None if there is none."""
    found = _article_without_body().rows(article=pk)
    if not found:
        return None
    row = found[0]
    article = Article.from_db(connection.alias, _ARTICLE_FIELDS, row[: len(_ARTICLE_FIELDS)])
    source = None
    if article.source_id is not None:
        source = Source.from_db(connection.alias, _SOURCE_FIELDS, row[len(_ARTICLE_FIELDS) :])
    article._state.fields_cache["source"] = source
    return article
