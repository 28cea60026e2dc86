"""The annotate page's drawings kept in PostgreSQL (``WorkspaceDrawing``): read one back by its key, or store one.

Only the page itself (a GET) reads and stores them; a write's answer draws afresh, since the drawing it shows is
new. Every web process and replica shares the table, and a drawing is found only under the key of the rows it
was drawn from (``rendering.drawing_key``), so no process ever serves a drawing of rows it did not read.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils import timezone

from annotations.workspace.models import WorkspaceDrawing


class Drawing(NamedTuple):
    body: bytes  # the body's markup (rendering.render_body), UTF-8
    spans: bytes  # the side panel's list of spans (rendering.render_span_groups), UTF-8
    body_version: str


def drawing_find(*, article_id: int, editor_id: int, key: str) -> Drawing | None:
    """The drawing stored under ``key`` for this editor and article, or None."""
    row = (
        WorkspaceDrawing.objects.filter(article_id=article_id, editor_id=editor_id, key=key)
        .values_list("body", "spans", "body_version")
        .first()
    )
    return Drawing(bytes(row[0]), bytes(row[1]), row[2]) if row is not None else None


def drawing_store(*, article_id: int, editor_id: int, key: str, drawing: Drawing) -> None:
    """Keep ``drawing`` as this editor's drawing of the article, replacing the one before (one statement)."""
    WorkspaceDrawing.objects.bulk_create(
        [
            WorkspaceDrawing(
                article_id=article_id,
                editor_id=editor_id,
                key=key,
                body=drawing.body,
                spans=drawing.spans,
                body_version=drawing.body_version,
                drawn_at=timezone.now(),
            )
        ],
        update_conflicts=True,
        unique_fields=["article", "editor"],
        update_fields=["key", "body", "spans", "body_version", "drawn_at"],
    )
