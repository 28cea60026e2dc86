"""The annotate page: parse with a form, call services and selectors, render.

Actions answer htmx with out-of-band fragments (body, side panel, toolbar) and a request without htmx with a
redirect back to the page, so the forms also work without JavaScript. Refusals are 4xx responses whose message
htmx swaps into the page's error region (``HX-Retarget``), and nothing is stored.
"""

from __future__ import annotations

import functools
import secrets
from bisect import bisect_left
from collections.abc import Callable, Sequence
from html import escape
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from annotations import keymap
from annotations.http import HtmxHttpRequest, form_error_message, refusal_reason, refusal_status
from annotations.models import WORKSPACE_COMMAND_KEYS, Label, Span
from annotations.presentation import excerpt
from annotations.progress import Transition, article_status_change
from annotations.queue.forms import queue_position, queue_query
from annotations.spans import claims
from annotations.spans import services as spans
from annotations.spans.selectors import workspace_spans
from annotations.suggestions.presentation import (
    render_suggestion_changes,
    render_suggestion_groups,
    suggestion_group_id,
)
from annotations.suggestions.propagation import suggestions_propagate_span_ids
from annotations.workflow.selectors import editor_progress, sees_every_editor, takes_slots
from annotations.workflow.services import SlotsFull, slot_claim
from annotations.workspace import drawings, idempotency, undo
from annotations.workspace.forms import (
    ArticleStatusForm,
    SpanCreateForm,
    SpanDetailsForm,
    SpanRefForm,
    SpanRelabelForm,
)
from annotations.workspace.links import workspace_urls
from annotations.workspace.rendering import (
    END,
    LABEL,
    PK,
    START,
    SpanRow,
    WorkspaceSpan,
    change_window,
    change_windows,
    labels_stylesheet,
    render_body,
    render_span_changes,
    render_span_groups,
    render_windows,
    span_group_id,
)
from articles.models import Article

WORKSPACE = "annotations/article_annotate.html"
# Workspace shortcuts win over a label that a curator gave the same key; the palette says so.
RESERVED_KEYS = WORKSPACE_COMMAND_KEYS
# A change whose redrawn stretch would be longer than this share of the body redraws the whole body instead.
MAX_WINDOW_SHARE = 0.5
CHANGED_ELSEWHERE = "The text was changed elsewhere (another tab or editor); it now shows what is stored."
NOT_SAVED = "Your change was not saved; nothing was changed. Try again."
GONE = "That span no longer exists: it was deleted, perhaps in another tab. The page now shows what is stored."


# The context's long stretches of markup, put into the answer after the template has run (see ``render``).
LONG_PARTS = ("body_html", "span_groups", "suggestion_groups")


def render(
    request: HttpRequest, template_name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """``django.shortcuts.render``, but the long parts of the page (the body, the lists) never go through the
    template: each nesting level of a template joins its children's strings, so a part of a few hundred kB was
    copied once per level (a dozen times, widened to four bytes a character when the text holds an emoji). The
    template gets a marker per part instead, and the answer is joined once, as UTF-8 bytes.
    """
    context = dict(context or {})
    token = secrets.token_hex(8)  # unguessable: no text of the page can contain a marker by accident or design
    parts: dict[str, bytes] = {}
    for name in LONG_PARTS:
        value = context.get(name)
        # bytes: markup already encoded (a stored drawing, drawings.py); SafeString: markup just drawn.
        if isinstance(value, bytes) or (isinstance(value, SafeString) and value):
            marker = f"\x00{token}:{name}\x00"
            parts[marker] = value if isinstance(value, bytes) else value.encode()
            context[name] = mark_safe(marker)  # noqa: S308 -- a marker, replaced below by the escaped markup
    html = render_to_string(template_name, context, request)
    if not parts:
        return HttpResponse(html, status=status)
    chunks: list[bytes] = []
    for index, piece in enumerate(html.split(f"\x00{token}:")):
        if index:
            name, piece = piece.split("\x00", 1)
            chunks.append(parts[f"\x00{token}:{name}\x00"])
        chunks.append(piece.encode())
    return HttpResponse(b"".join(chunks), status=status)


class BodyChange(NamedTuple):
    """One span created, deleted or relabelled: its extent, and its row before the change (None if it was new);
    ``added``: ids of suggestions it made (a create suggests its text elsewhere), as drawn (negative). The
    suggestions it hid or showed again at its place are read with the answer (``drawings.answer_reads``), but for
    ``accepted``: the suggestions spans were accepted from (negative ids), which their decisions hide from those
    reads; ``also``: the other spans a write made with ``span`` (accepting every suggestion of a label), ``gone``
    the rows of those it took away with it, as they were (undoing that).
    Or, with ``decided`` (a label), one suggestion rejected or its rejection undone: ``span`` is its id as drawn
    (negative), ``before`` its row when the page showed it (a rejection), None when it shows again (the undo).
    """

    span: int
    start: int
    end: int
    before: SpanRow | None
    added: frozenset[int] = frozenset()
    accepted: frozenset[int] = frozenset()
    decided: int | None = None
    also: frozenset[int] = frozenset()
    gone: tuple[SpanRow, ...] = ()


class Refused(Exception):
    """Stop a workspace action with a 4xx and a sentence the editor reads; nothing has been stored."""

    def __init__(self, message: str, status: int, *, stale: bool = False) -> None:
        super().__init__(message)
        self.message, self.status, self.stale = message, status, stale


@require_GET
@login_required
def labels_css(request: HttpRequest) -> HttpResponse:
    """Label colours as a stylesheet: the strict CSP forbids inline styles, and curators pick the colours."""
    labels = Label.objects.order_by("pk").values_list("slug", "color")
    response = HttpResponse(labels_stylesheet(labels), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _undo_store(request: HttpRequest, article: Article) -> undo.DatabaseUndoStore:
    if request.user.pk is None:  # every workspace view is behind login_required
        raise PermissionDenied("Log in to edit.")
    return undo.DatabaseUndoStore(user_id=request.user.pk, article_id=article.pk)


def _workspace_url(article: Article, query: str = "") -> str:
    url = reverse("annotations:article-annotate", args=[article.pk])
    return f"{url}?{query}" if query else url


def _workspace_spans(request: HttpRequest, article: Article) -> tuple[dict[int, Label], list[SpanRow]]:
    # Inactive labels too: spans made before a label was retired keep their colour and name.
    labels = {label.pk: label for label in Label.objects.all()}
    return labels, list(workspace_spans(article=article, annotator=request.user))


def _span_editor_context(
    article: Article,
    labels: dict[int, Label],
    rows: list[SpanRow],
    selected: int | None,
    found: SpanRow | None = None,
) -> dict[str, Any]:
    """The selected span for its editor; a claim's also with its attributes and the spans that may be its speaker.
    ``found``: the selected span's row when the caller has it (a write's changed span), sparing a scan."""
    if found is not None and found[PK] == selected:
        row: SpanRow | None = found
    else:
        row = next((row for row in rows if row[PK] == selected), None)
    span = WorkspaceSpan.from_row(row, body=article.body, labels=labels) if row else None
    speakers = []
    if span is not None and span.label.kind == Label.Kind.CLAIM:
        span.attributes = Span.objects.filter(pk=span.pk).values_list("attributes", flat=True).first() or {}
        speakers = [
            WorkspaceSpan.from_row(row, body=article.body, labels=labels)
            for row in rows
            if labels[row[LABEL]].kind in claims.SPEAKER_KINDS
        ]
    return {
        "article": article,
        "selected": span,
        "speakers": speakers,
        "verdicts": claims.CLAIM_VERDICTS,
        "urls": workspace_urls(article.pk),
    }


def _changed_rows(rows: list[SpanRow], suggested: list[SpanRow], change: BodyChange) -> list[SpanRow]:
    """The rows of ``change``'s span (none if it is gone), of the suggestions it made and of its other spans, as
    drawn now.

    The span's by bisection: the editor's rows come ordered by start (``workspace_spans``). The suggestions'
    by a scan of the suggestion rows only, and only when the change made some (most creates make none); the
    other spans' likewise."""
    found: list[SpanRow] = []
    at = bisect_left(rows, change.start, key=itemgetter(START))
    while at < len(rows) and rows[at][START] == change.start:
        if rows[at][PK] == change.span:
            found.append(rows[at])
            break
        at += 1
    if change.added:
        found += [row for row in suggested if row[PK] in change.added]
    if change.also:
        found += [row for row in rows if row[PK] in change.also]
    return found


def _body_patch(
    length: int, drawn: list[SpanRow], change: BodyChange, changed: list[SpanRow]
) -> list[tuple[int, int]] | None:
    """The stretches of the body to redraw after ``change`` (the span's, and those of the suggestions it made:
    ``changed``), or None to redraw it all. Only for a page that holds exactly the body as it was before this
    change (the caller checks its ``body_version``): a page that missed a change (another tab, a curator renaming
    a label) gets the whole body again."""
    if not change.added and not change.also and not change.gone:
        lo, hi = change_window(drawn, changed=change.span, start=change.start, end=change.end, length=length)
        windows = [(lo, hi)]
    else:
        more = change.added | change.also
        places = [(change.start, change.end)] + [(row[START], row[END]) for row in changed if row[PK] in more]
        places += [(row[START], row[END]) for row in change.gone]
        ids = {change.span, *more, *(row[PK] for row in change.gone)}
        windows = change_windows(drawn, changed=ids, places=places, length=length)
    return windows if sum(hi - lo for lo, hi in windows) <= length * MAX_WINDOW_SHARE else None


def _draw(
    request: HttpRequest,
    article: Article,
    labels: dict[int, Label],
    rows: list[SpanRow],
    suggested: list[SpanRow],
    patch: list[tuple[int, int]] | None = None,
    csrf: str = "",
    only: PanelPart | None = None,
    *,
    version: str,
) -> drawings.Drawing:
    """The body (or the stretches ``patch`` of it), the list of spans and the suggestion panel, drawn.

    ``only``: just the new item of one label's list (and the suggestion items that changed), to be put in out of
    band. ``version``: the drawing's key (``drawings.page_reads``).
    """
    drawn = rows + suggested
    if only is not None:
        spans = mark_safe(  # noqa: S308 -- render_span_changes escapes every text
            "".join(
                render_span_changes(article.body, part.label, part.rows, part.added, part.removed, part.anchor)
                for part in only.spans
            )
        )
    else:
        # A stable sort by label keeps the editor's order (start, then longest first) within each label
        # (``render_span_groups``' order: label ordering and name, then start, longest first), comparing a label's
        # place rather than four fields.
        rank = {pk: (label.ordering, label.name, pk) for pk, label in labels.items()}
        ordered = sorted(rows, key=lambda row: rank[row[LABEL]])
        groups = [(labels[pk], list(items)) for pk, items in groupby(ordered, key=itemgetter(LABEL))]
        spans = render_span_groups(article.body, groups)
    return drawings.Drawing(
        (
            render_body(article.body, drawn, labels)
            if patch is None
            else render_windows(article.body, drawn, labels, patch)
        ).encode(),
        spans.encode(),
        version,
        _draw_suggestions(request, article, labels, suggested, csrf, only),
        len(rows),
        len(suggested),
    )


def _draw_suggestions(
    request: HttpRequest,
    article: Article,
    labels: dict[int, Label],
    suggested: list[SpanRow],
    csrf: str,
    only: PanelPart | None,
) -> bytes:
    if only is None or only.suggestions_whole:
        return render_suggestion_groups(article, labels, suggested, request, csrf=csrf).encode()
    return "".join(
        render_suggestion_changes(article, part.label, part.rows, part.added, part.removed, request, part.anchor)
        for part in only.suggestions
    ).encode()


class ListChange(NamedTuple):
    """One label's list in the side panel (of spans, or of suggestions), as a write changed it."""

    label: Label
    rows: Sequence[SpanRow]  # the label's rows after the write (none: its group goes)
    added: frozenset[int]  # ids of the rows whose items the write adds
    removed: tuple[int, ...]  # ids of the items it takes away
    # A group new to the page, put in whole: "afterend:#<the group before it>", or "beforebegin:#<the one after>".
    anchor: str = ""


class PanelPart(NamedTuple):
    """What a write's answer sends of the side panel when the page can splice every list it changed: the items it
    adds (each inserted before the item that follows it) and takes away, the lists' counts, and the groups it
    starts or empties (``render_span_changes``, ``render_suggestion_changes``)."""

    spans: tuple[ListChange, ...]
    suggestions: tuple[ListChange, ...]
    # The page's first group of suggestions, or its last gone: the suggestions' part of the panel, whole (its
    # heading and hint come and go with its groups), the spans' lists as ``spans`` says.
    suggestions_whole: bool = False


def _list_changes(
    labels: dict[int, Label],
    rows: Sequence[SpanRow],
    changes: dict[int, tuple[set[int], list[int]]],
    group_id: Callable[[Label], str],
) -> tuple[ListChange, ...] | None:
    """The lists of one kind (``rows``: all of them after the write, in the lists' order) that ``changes`` (label:
    the ids added and removed) touch. A group the page did not show gets its place beside one it shows and keeps
    (the groups' order: ``_draw``); None when there is none: the page had no group of this kind before, or has none
    after (the panel's hint or "No spans yet" come and go with them), so that part of the panel is sent whole."""
    rank = {pk: (label.ordering, label.name, pk) for pk, label in labels.items()}
    lists: list[tuple[ListChange, bool]] = []  # each list, and whether the page showed it before
    for label, (added, removed) in changes.items():
        members = [row for row in rows if row[LABEL] == label]
        shown = len(members) - len(added) + len(removed) > 0
        if members or shown:  # (neither before nor after: nothing to send)
            lists.append((ListChange(labels[label], members, frozenset(added), tuple(removed)), shown))
    started = {change.label.pk for change, shown in lists if not shown}
    kept = sorted({row[LABEL] for row in rows} - started, key=rank.__getitem__)
    if not kept:
        return None
    placed = []
    for change, shown in lists:
        if change.rows and not shown:
            earlier = [pk for pk in kept if rank[pk] < rank[change.label.pk]]
            anchor = f"afterend:#{group_id(labels[earlier[-1]])}" if earlier else ""
            change = change._replace(anchor=anchor or f"beforebegin:#{group_id(labels[kept[0]])}")
        placed.append(change)
    return tuple(placed)


def _panel_part(
    labels: dict[int, Label],
    rows: list[SpanRow],
    suggested: list[SpanRow],
    change: BodyChange | None,
    patch: list[tuple[int, int]] | None,
    changed: list[SpanRow],
    at_place: list[SpanRow],
    kept: int | None = None,
    *,
    in_step: bool,
) -> PanelPart | None:
    """What of the side panel a write changed, when that is all the answer needs to send, on a page that can splice
    it in (``in_step``: it holds the drawing just before; its text may still be redrawn whole, ``patch`` None, when
    the stretches are long): one span created, relabelled or deleted (an undo of one of those too), a label's
    suggestions accepted at once, or one suggestion rejected (or its rejection undone). Otherwise None: the whole
    panel.

    The span's item leaves its old label's list and joins its new one's. The suggestions of its new label at its
    place are no longer shown, the one of its old label is shown again (``at_place``: the suggestions there,
    labelled or not), and those a create propagated join their list. ``changed``: ``_changed_rows``.

    ``kept``: the span whose note, speaker or verdict a write changed, on a page that keeps its text (``patch`` is
    empty): its item is replaced (taken away and put back where it is). Without it, such a write changed nothing
    the lists show."""
    if kept is None and patch == [] and change is None:
        return PanelPart((), ())  # nothing the lists show changed (the editor's progress)
    if kept is not None and patch == [] and change is None:
        row = next((row for row in rows if row[PK] == kept), None)
        items = None if row is None else _list_changes(labels, rows, {row[LABEL]: ({kept}, [kept])}, span_group_id)
        return None if items is None else PanelPart(items, ())
    if change is None or not in_step:
        return None
    suggestion_order = sorted(suggested, key=lambda item: (item[START], -item[END]))
    if change.decided is not None:
        # A decision answers every suggestion of its label and place (``decisions``): after a rejection none of
        # them shows there, and the rejected one's item leaves its list; after its undo, the one drawn there (if
        # the editor has not labelled the place that way meanwhile) joins it.
        place = (change.start, change.end, change.decided)
        there = {item[PK] for item in suggested if item[START : LABEL + 1] == place}
        hidden = [change.span] if change.before is not None else []
        decided = _list_changes(labels, suggestion_order, {change.decided: (there, hidden)}, suggestion_group_id)
        return PanelPart((), (), suggestions_whole=True) if decided is None else PanelPart((), decided)
    row = next((row for row in changed if row[PK] == change.span), None)
    old = None if change.before is None else change.before[LABEL]
    new = None if row is None else row[LABEL]
    if old == new:
        return PanelPart((), ()) if row is not None else None
    spans: dict[int, tuple[set[int], list[int]]] = {}
    shown: dict[int, tuple[set[int], list[int]]] = {}
    if old is not None:
        # The span and those that went with it: their items go, their places' suggestions of their label show again.
        for pk, start, end, label in ((change.span, change.start, change.end, old), *change.gone):
            spans.setdefault(label, (set(), []))[1].append(pk)
            for item in suggested:
                if item[START : LABEL + 1] == (start, end, label):
                    shown.setdefault(label, (set(), []))[0].add(item[PK])
    if new is not None:
        spans.setdefault(new, (set(), []))[0].update({change.span, *change.also})
        for item in at_place:
            if item[LABEL] == new:
                shown.setdefault(new, (set(), []))[1].append(item[PK])
        if change.accepted:
            shown.setdefault(new, (set(), []))[1].extend(sorted(change.accepted))
        for item in suggested:
            if item[PK] in change.added:
                shown.setdefault(item[LABEL], (set(), []))[0].add(item[PK])
    span_lists = _list_changes(labels, rows, spans, span_group_id)
    if span_lists is None:
        return None
    suggestion_lists = _list_changes(labels, suggestion_order, shown, suggestion_group_id) if shown else ()
    if suggestion_lists is None:
        return PanelPart(span_lists, (), suggestions_whole=True)
    return PanelPart(span_lists, suggestion_lists)


def _workspace_context(
    request: HttpRequest,
    article: Article,
    *,
    selected: int | None = None,
    error: str = "",
    message: str = "",
    change: BodyChange | None = None,
    undo_count: int | None = None,
    stored: bool = False,
    text_kept: bool = False,
    answer: drawings.AnswerReads | None = None,
) -> dict[str, Any]:
    """Everything the page (or a write's answer) shows. ``stored``: the whole page, whose body and lists are read
    from the editor's stored drawing of the article's current revision (drawings.py), and stored if there is none:
    then neither the spans nor the suggestions are read at all. ``text_kept``: the write changed nothing the text
    shows (a note, a claim's speaker or verdict), so a page that holds the current drawing of the text keeps it
    and gets none. ``answer``: a write's ``_answer_reads``, made in its transaction."""
    editor_id = _undo_store(request, article).user_id
    rows: list[SpanRow] = []
    changed: list[SpanRow] = []  # the rows a write's change drew (``_changed_rows``)
    suggested: list[SpanRow] = []
    if stored:
        # The body comes with the reads when the article was loaded without it and there is no drawing to show.
        unread = "body" in article.get_deferred_fields()
        reads = drawings.page_reads(article_id=article.pk, editor_id=editor_id, body=unread)
    else:  # a write's answer: drawn afresh from the spans and suggestions read with the rest in one round trip
        reads, rows, suggested, at_place = answer or _answer_reads(request, article, change)
    if reads.body is not None:
        article.body = reads.body
    labels, drawing, patch, only = reads.labels, reads.drawing, None, None
    if drawing is None or not stored:
        if stored:  # a page whose drawing is out of date
            # Suggestions are drawn in the text beside the editor's spans (negative ids), never counted among them.
            rows, suggested = drawings.drawn_rows(article_id=article.pk, editor_id=editor_id)
        drawn = rows + suggested
        changed = _changed_rows(rows, suggested, change) if change is not None else []
        # Whether the page that posted held another drawing of the text than the one just before this change: its
        # version is the key it was drawn at, and ``reads.before`` the key just before this write (read in its
        # transaction, the revisions it bumped are locked: nothing else changed them since).
        missed = (change is not None or text_kept) and request.POST.get("body_version") != reads.before
        if change is not None and not missed:
            patch = _body_patch(len(article.body), drawn, change, changed)
        if text_kept and change is None and not missed:
            patch = []  # no stretch to redraw: the page's text stays as it is
        # A relabel or delete on a page that missed changes (another tab, another editor) says so where the eye is.
        # (Not a create: the suggestions it propagates change the drawing by design.)
        if missed and change is not None and change.before is not None and "body_version" in request.POST:
            message = " ".join(filter(None, [message, CHANGED_ELSEWHERE]))
        if stored:
            drawing = _draw(request, article, labels, rows, suggested, csrf=drawings.CSRF_MARKER, version=reads.key)
            drawings.drawing_store(article_id=article.pk, editor_id=editor_id, key=reads.key, drawing=drawing)
        else:
            kept = selected if text_kept else None
            only = _panel_part(labels, rows, suggested, change, patch, changed, at_place, kept, in_step=not missed)
            drawing = _draw(request, article, labels, rows, suggested, patch, only=only, version=reads.key)
    suggestion_groups = drawing.suggestions
    if drawings.CSRF_MARKER.encode() in suggestion_groups:
        suggestion_groups = suggestion_groups.replace(
            drawings.CSRF_MARKER.encode(), escape(get_token(request)).encode()
        )
    palette_items, palette_keys = _palette(labels)
    query = queue_query(request)
    position = queue_position(request)  # "Article 12 of 340 in your queue": read from the link, nothing counted
    editor = _span_editor_context(article, labels, rows, selected, changed[0] if changed else None)
    return {
        **editor,
        "body_html": drawing.body,
        "body_patch": patch,
        "body_kept": patch == [],
        "body_windows": " ".join(f"{lo} {hi}" for lo, hi in patch) if patch and len(patch) > 1 else "",
        "body_version": drawing.body_version,
        "suggestion_groups": suggestion_groups,
        "suggestion_count": drawing.suggestion_count,
        "palette_items": palette_items,
        "palette_keys": palette_keys,
        "keymap_rows": keymap.help_rows(keymap.WORKSPACE),
        "keymap_bindings": keymap.bindings_script(keymap.WORKSPACE, "ws-keys"),
        "span_groups": drawing.spans,
        "panel_parts": only is not None,  # the answer sends the selection, the count and one group, not the panel
        "panel_suggestions": only is not None and bool(only.suggestions),
        "panel_suggestions_whole": only is not None and only.suggestions_whole,
        "span_count": drawing.span_count,
        "progress": editor_progress(article=article, user=request.user, slots=reads.slots, site_k=reads.site_k),
        "undo_count": reads.undo_count if undo_count is None else undo_count,
        "error": error,
        "message": message,
        "queue_query": query,
        "queue_url": reverse("annotations:article-list") + (f"?{query}" if query else ""),
        "next_url": editor["urls"]["next"]
        + (f"?{next_query}" if (next_query := queue_query(request, position=position)) else ""),
        "queue_position": position,
    }


# The palette's markup by the state of the active labels: their fields, in order. (Not by the labels' revision
# number, which a rolled-back change can leave to the next one with other content.)
_PALETTES: dict[tuple[tuple[Any, ...], ...], tuple[SafeString, SafeString]] = {}


def _palette(labels: dict[int, Label]) -> tuple[SafeString, SafeString]:
    """The palette's items and its keys' rows in the ? dialog, drawn once per process for each state of the
    labels: the loops over them were a quarter of the page's template time."""
    palette = [label for label in labels.values() if label.active]
    key = tuple((label.pk, label.slug, label.name, label.hotkey, label.description) for label in palette)
    drawn = _PALETTES.get(key)
    if drawn is None:
        for label in palette:
            label.hotkey_reserved = label.hotkey.lower() in RESERVED_KEYS
        context = {"palette": palette}
        drawn = (
            render_to_string(f"{WORKSPACE}#palette-items", context),
            render_to_string(f"{WORKSPACE}#palette-keys", context),
        )
        if len(_PALETTES) >= 32:  # labels change rarely: a bound, not a policy
            _PALETTES.clear()
        _PALETTES[key] = drawn
    return drawn


def _answer_reads(request: HttpRequest, article: Article, change: BodyChange | None) -> drawings.AnswerReads:
    """What a write's answer is drawn from (``drawings.answer_reads``), read in one round trip. In the write's
    transaction, its key just before the write (``PageReads.before``) tells whether the page held that drawing."""
    return drawings.answer_reads(
        article_id=article.pk,
        editor_id=_undo_store(request, article).user_id,
        body="body" in article.get_deferred_fields(),
        place=None if change is None else (change.start, change.end),
    )


def _article(pk: int, *, body: bool = True) -> Article:
    """The article with its source; ``body=False``: without the body, read only if it is drawn (a page whose
    stored drawing is current never needs it)."""
    if body:
        return get_object_or_404(Article.objects.select_related("source"), pk=pk)
    article = drawings.article_without_body(pk)
    if article is None:
        raise Http404("No article with that id.")
    return article


def _updated(
    request: HtmxHttpRequest,
    article: Article,
    *,
    selected: int | None = None,
    message: str = "",
    change: BodyChange | None = None,
    undo_count: int | None = None,
    text_kept: bool = False,
    answer: drawings.AnswerReads | None = None,
) -> HttpResponse:
    """After a change: htmx gets every region that may have changed, out of band; a plain form post a redirect.

    With ``change`` (one span's) the body is sent as just the stretch that changed, when the page can splice it;
    with ``text_kept`` not at all, when the page holds it as it is.
    """
    if request.htmx:
        context = _workspace_context(
            request,
            article,
            selected=selected,
            message=message,
            change=change,
            undo_count=undo_count,
            text_kept=text_kept,
            answer=answer,
        )
        return render(request, f"{WORKSPACE}#workspace-update", context)
    if message:
        messages.info(request, message)
    return HttpResponseRedirect(_workspace_url(article, queue_query(request)))


def _refused(
    request: HtmxHttpRequest, article: Article, message: str, status: int, *, stale: bool = False
) -> HttpResponse:
    """A 4xx whose message shows in the page: htmx swaps it into the error region, a plain post re-renders.

    ``stale``: the page acted on something that has changed since it was drawn (a span deleted in another tab),
    so the answer also redraws the text and side panel in place, out of band, to show what is stored.
    """
    if request.htmx and stale:
        context = _workspace_context(request, article, error=message)
        response = render(request, f"{WORKSPACE}#workspace-update", context, status=status)
        return reswap(retarget(response, "#ws-error"), "none")
    if request.htmx:
        response = render(request, f"{WORKSPACE}#ws-error", {"error": message}, status=status)
        return reswap(retarget(response, "#ws-error"), "outerHTML")
    return render(request, WORKSPACE, _workspace_context(request, article, error=message), status=status)


class Done(NamedTuple):
    """What a workspace write did, for the decorator to answer with (and to store under its idempotency key)."""

    message: str = ""
    selected: int | None = None
    change: BodyChange | None = None
    status: int = 200  # 4xx: refused, but what it did stands (an undo entry dropped as no longer reversible)
    undo_count: int | None = None  # the editor's undo entries after the change, when the write counted them
    text_kept: bool = False  # nothing the text shows changed (a note, Done): a page holding the text keeps it


Action = Callable[[HtmxHttpRequest, Article], Done]


def _answer(
    request: HtmxHttpRequest, article: Article, done: Done, reads: drawings.AnswerReads | None = None
) -> HttpResponse:
    if done.status >= 400:
        return _refused(request, article, done.message, done.status)
    return _updated(
        request,
        article,
        selected=done.selected,
        message=done.message,
        change=done.change,
        undo_count=done.undo_count,
        text_kept=done.text_kept,
        answer=reads,
    )


def workspace_post(permission: str) -> Callable[[Action], Callable[..., HttpResponse]]:
    """What every workspace post shares: POST only, logged in with ``permission``, varying on htmx; the article
    loaded; the write and its undo entry in one transaction, once per ``Idempotency-Key`` (a retry is answered
    with the first outcome); and any refusal (a form, a vanished span, a service's rule) answered as the page's
    message, with nothing stored."""

    def decorate(view: Action) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HtmxHttpRequest, pk: int) -> HttpResponse:
            # Without its body: a create reads it under the article's lock anyway (spans.services), and an
            # answer that draws nothing of the text never needs it.
            article = _article(pk, body=False)
            reads = None
            try:
                key = idempotency.request_key(request)
                with transaction.atomic():
                    first = None
                    if key is not None:
                        asked = idempotency.fingerprint(request)
                        first = idempotency.write_claim(user_id=request.user.pk, key=key, request=asked)
                    if first is None:
                        done = view(request, article)
                        if key is not None:
                            outcome = idempotency.Outcome(done.status, done.message, done.selected)
                            idempotency.write_settle(user_id=request.user.pk, key=key, outcome=outcome)
                        if done.status < 400 and request.htmx:
                            # Read in the write's transaction: the drawing's revisions as the write left them and
                            # as they were just before it (drawings.page_reads), the ones it bumped locked by it,
                            # so the answer knows whether the page held the drawing just before. Drawn after the
                            # commit, with the write's locks released.
                            reads = _answer_reads(request, article, done.change)
            except idempotency.BadKey as error:
                return _refused(request, article, str(error), 400)
            except Refused as refusal:
                return _refused(request, article, refusal.message, refusal.status, stale=refusal.stale)
            except (PermissionDenied, ValidationError) as error:
                return _refused(request, article, refusal_reason(error), refusal_status(error))
            if first is not None:
                # The page redraws everything: it may have missed this change's first answer.
                response = _answer(request, article, Done(first.message, first.selected, status=first.status))
                response["Idempotent-Replay"] = "true"
                return response
            return _answer(request, article, done, reads)

        guarded = permission_required(permission, raise_exception=True)(vary_on_headers("HX-Request")(wrapper))
        return require_POST(login_required(guarded))

    return decorate


def _cleaned(form: Form) -> dict[str, Any]:
    if not form.is_valid():
        raise Refused(form_error_message(form), 422)
    return form.cleaned_data


def _span(request: HtmxHttpRequest, article: Article, span_id: int) -> Span:
    """The span the post names, its row locked for the write (``spans.span_of_article_locked``); another editor's
    is "gone" to a blind editor, so its existence does not leak."""
    mine = None if sees_every_editor(request.user) else request.user.pk
    span = spans.span_of_article_locked(article_id=article.pk, span_id=span_id, annotator_id=mine)
    if span is None:
        raise Refused(GONE, 404, stale=True)
    return span


@require_GET
@login_required
@permission_required("annotations.add_span", raise_exception=True)
def article_annotate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    article = _article(pk, body=False)
    try:
        slot_claim(article=article, editor=request.user)
    except SlotsFull as full:
        # Another editor took the last slot (perhaps a moment ago): move on to the next article of the queue.
        messages.info(request, f"{full.message} Here is your next article.")
        query = queue_query(request, position=queue_position(request))
        following = reverse("annotations:article-next", args=[article.pk])
        return HttpResponseRedirect(f"{following}?{query}" if query else following)
    return render(request, WORKSPACE, _workspace_context(request, article, stored=True))


@require_GET
@login_required
@permission_required("annotations.add_span", raise_exception=True)
@vary_on_headers("HX-Request")
def span_detail(request: HtmxHttpRequest, pk: int, span_pk: int) -> HttpResponse:
    """The selected span's editor (note; speaker and verdict for claims), loaded when an editor selects a span."""
    article = _article(pk)
    labels, rows = _workspace_spans(request, article)
    context = _span_editor_context(article, labels, rows, span_pk)
    if context["selected"] is None:
        return _refused(request, article, GONE, 404, stale=True)
    return render(request, f"{WORKSPACE}#span-editor", context)


@require_GET
@login_required
@permission_required("annotations.add_span", raise_exception=True)
@vary_on_headers("HX-Request")
def article_write_check(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """After the page lost a write's answer (network error, timeout, 5xx): was it saved? The page is redrawn
    from what is stored, with a sentence saying which. A write still running is waited for; one never saved is
    retired, so a late copy of it is not applied behind the page's back."""
    article = _article(pk)
    try:
        key = idempotency.request_key(request)
    except idempotency.BadKey as error:
        return _refused(request, article, str(error), 400)
    if key is None:
        return _refused(request, article, f"Send the {idempotency.HEADER} of the change to check.", 400)
    outcome = idempotency.write_outcome(user_id=request.user.pk, key=key)
    if outcome is None:
        context = _workspace_context(request, article, error=NOT_SAVED)
    elif outcome.status >= 400:
        context = _workspace_context(request, article, error=f"The server had refused it: {outcome.message}")
    else:
        saved = f"Your change was saved: {outcome.message}" if outcome.message else "Your change was saved."
        context = _workspace_context(request, article, selected=outcome.selected, message=saved)
    response = render(request, f"{WORKSPACE}#workspace-update", context)
    response["Write-Saved"] = "yes" if outcome is not None and outcome.status < 400 else "no"
    return response


@workspace_post("annotations.add_span")
def span_create(request: HtmxHttpRequest, article: Article) -> Done:
    data = _cleaned(SpanCreateForm(request.POST))
    span, created = spans.span_label_in_workspace(
        article=article,
        label=data["label"],
        start=data["start"],
        end=data["end"],
        text=data["text"],
        annotator=request.user,
    )
    if not created:
        # Already there (made earlier, in another tab, or this request's retry): not this request's to undo.
        return Done(f"You already have {span.label.name} on “{excerpt(span.text)}”: it is selected.", span.pk)
    history = _undo_store(request, article)
    undo.undo_record(history, undo.Created(span=span.pk, label=span.label_id))
    # New suggestions elsewhere in the text change the drawing beyond this span: the body version then differs
    # and the whole body is redrawn. At most MAX_PER_CREATE of them, in one statement (propagation.py).
    suggested = suggestions_propagate_span_ids(span=span, body=article.body)
    # The place changed, even when it was suggested (its suggestion is no longer drawn: the answer reads which),
    # and the places it suggested: a page that names its drawing gets just the stretches around them.
    message = f"Labelled “{excerpt(span.text)}” {span.label.name}."
    change = BodyChange(span.pk, span.start, span.end, None, frozenset(-pk for pk in suggested))
    return Done(message, span.pk, change, undo_count=history.count())


@workspace_post("annotations.change_span")
def span_relabel(request: HtmxHttpRequest, article: Article) -> Done:
    data = _cleaned(SpanRelabelForm(request.POST))
    span = _span(request, article, data["span"])
    previous = span.label
    # In the post's own transaction, on the row ``_span`` locked: no savepoint, no second read.
    span = spans.span_change(span, actor=request.user, label=data["label"])
    history = _undo_store(request, article)
    if span.label_id != previous.pk:
        entry = undo.Relabelled(span=span.pk, label=span.label_id, previous=previous.pk, previous_name=previous.name)
        undo.undo_record(history, entry)
    change = BodyChange(span.pk, span.start, span.end, (span.pk, span.start, span.end, previous.pk))
    if span.label_id == previous.pk:
        message = f"“{excerpt(span.text)}” is already {span.label.name}."
    else:
        message = f"Relabelled “{excerpt(span.text)}” {previous.name} → {span.label.name}."
    return Done(message, span.pk, change, undo_count=history.counted)


@workspace_post("annotations.change_span")
def span_details(request: HtmxHttpRequest, article: Article) -> Done:
    data = _cleaned(SpanDetailsForm(request.POST))
    span = _span(request, article, data["span"])
    claims.span_details_change(
        span,
        actor=request.user,
        note=data["note"],
        speaker=data["speaker"],
        speaker_span=data["speaker_span"],
        verdict=data["verdict"] or None,
    )
    # Notes, speakers and verdicts show in the side panel and the span editor, not in the text.
    return Done("Saved.", selected=span.pk, text_kept=True)


@workspace_post("annotations.delete_span")
def span_delete(request: HtmxHttpRequest, article: Article) -> Done:
    span = _span(request, article, _cleaned(SpanRefForm(request.POST))["span"])
    # Claims that name this span as their speaker: warn once; the page sends confirm=<id> on the second try.
    dependents = Span.objects.filter(
        article=article, label__kind=Label.Kind.CLAIM, attributes__speaker_span=span.pk
    ).count()
    if dependents and request.POST.get("confirm") != str(span.pk):
        who = "A claim names" if dependents == 1 else f"{dependents} claims name"
        raise Refused(
            f"{who} “{excerpt(span.text)}” as its speaker. Delete again to delete it anyway: "
            "claims keep the speaker's name, and Undo links the span again.",
            409,
        )
    snapshot = spans.SpanSnapshot.of(span)
    spans.span_remove(span, actor=request.user)  # in the post's own transaction, on the row ``_span`` locked
    history = _undo_store(request, article)
    undo.undo_record(history, undo.Deleted(snapshot))
    change = BodyChange(span.pk, span.start, span.end, (span.pk, span.start, span.end, span.label_id))
    return Done(f"Deleted {span.label.name} “{excerpt(span.text)}”.", change=change, undo_count=history.count())


@workspace_post("annotations.add_span")
def article_undo(request: HtmxHttpRequest, article: Article) -> Done:
    done = undo.undo_last(article=article, actor=request.user, store=_undo_store(request, article))
    change = None
    if (place := done.place) is not None:  # one span's place changed: the answer can redraw just that stretch
        before = None if place.label_before is None else (place.span, place.start, place.end, place.label_before)
        gone = tuple((other.span, other.start, other.end, other.label_before) for other in done.others)
        change = BodyChange(place.span, place.start, place.end, before, decided=place.suggested, gone=gone)
    return Done(done.message, change=change, status=409 if done.refused else 200)


@workspace_post("annotations.add_span")
def article_status(request: HtmxHttpRequest, article: Article) -> Done:
    """Mark the article done, or reopen it; a reviewed article is the reviewers' to reopen."""
    form = ArticleStatusForm(request.POST)
    _cleaned(form)
    transition = form.transition()
    before = article.status
    article = article_status_change(article=article, actor=request.user, transition=transition)
    # Neither the text nor the lists show progress, but for the suggestions shared once an article is reviewed:
    # a page that holds them keeps them unless the article enters or leaves review.
    unchanged = Article.Status.REVIEWED not in (before, article.status)
    if transition == Transition.DONE:
        return Done("Your work on this article is marked done.", text_kept=unchanged)
    if takes_slots(request.user):
        return Done("Your work on this article is reopened.", text_kept=unchanged)
    return Done(f"Article sent back: {article.get_status_display().lower()}.", text_kept=unchanged)
