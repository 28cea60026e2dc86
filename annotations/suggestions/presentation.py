"""The workspace side panel's suggestions: grouped by label, each with accept and reject forms (they work
without JavaScript), and per label an "accept all" form."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence, Set
from html import escape
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

from annotations.workspace.links import workspace_urls
from annotations.workspace.rendering import count_badge, excerpt, out_of_band_group, out_of_band_list
from articles.models import Article

# The page's one form that every suggestion's Accept and Reject submit (templates/annotations/article_annotate.html).
DECIDE = "ws-sug-decide"


def suggestion_group_id(label: Any) -> str:
    """The id of ``label``'s group in the side panel's suggestions (the answers place and delete groups by it)."""
    return f"ws-sug-group-{label.slug}"


def render_suggestion_groups(
    article: Article,
    labels: Mapping[int, Any],
    rows: Sequence[tuple],
    request: Any = None,
    *,
    csrf: str = "",
) -> SafeString:
    """Rows are ``suggestion_rows``: ``(-id, start, end, label_id, "", None)``. ``csrf``: a stand-in for the
    request's CSRF token (a stored drawing's marker, put in place when it is served). Each label's group is
    ``#ws-sug-group-<slug>``, its count ``#ws-sug-count-<slug>``, its list ``#ws-sug-list-<slug>`` and each item
    ``#ws-sug-item-<id>`` (``render_suggestion_changes`` inserts and removes items by these)."""
    if not rows:
        return mark_safe("")
    items = _Items(article, request, csrf)
    parts: list[str] = []
    append = parts.append
    rank = {pk: (label.ordering, label.name) for pk, label in labels.items()}
    for label_id, group in groupby(sorted(rows, key=lambda row: (*rank[row[3]], row[1], -row[2])), key=itemgetter(3)):
        members = list(group)
        label = labels[label_id]
        name = escape(label.name)
        append(
            f'<section id="{suggestion_group_id(label)}" class="span-group sug-group">'
            f'<h3><span class="swatch sug label-{label.slug}" aria-hidden="true">'
            f"</span>Suggested {name} {count_badge(f'ws-sug-count-{label.slug}', len(members))}</h3>"
            f'<form method="post" action="{items.accept_all}" hx-post="{items.accept_all}" hx-swap="none" '
            f'hx-sync="#workspace:queue all">{items.csrf}<input type="hidden" name="label" value="{label_id}">'
            f'<button type="submit" class="sug-accept-all" data-label="{label_id}">Accept all {name}</button></form>'
            f'<ol class="span-list" id="ws-sug-list-{label.slug}" hx-swap="none" hx-sync="#workspace:queue all">'
        )
        append(items.of(label, members))
        append("</ol></section>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text and attribute value above is escaped


def render_suggestion_changes(
    article: Article,
    label: Any,
    rows: Sequence[tuple],
    added: Set[int],
    removed: Sequence[int],
    request: Any,
    anchor: str = "",
) -> SafeString:
    """What a write's answer sends of ``label``'s group of suggestions when the page shows it before and after: the
    items of the suggestions it made or showed again (``added``: their negative ids) inserted out of band where
    they belong, the items of those it hid (``removed``, negative ids) deleted, and the group's count. ``rows``:
    the label's suggestion rows after the write. The page's group then is the one ``render_suggestion_groups``
    draws, and the answer holds a few items, not the group's hundreds. A group the write empties goes; one it
    starts comes whole, where ``anchor`` says (``rendering.out_of_band_group``)."""
    if not rows or anchor:
        return out_of_band_group(
            suggestion_group_id(label),
            anchor,
            lambda: render_suggestion_groups(article, {label.pk: label}, rows, request),
        )
    items = _Items(article, request, "")
    ordered = sorted(rows, key=lambda row: (row[1], -row[2]))
    changes = out_of_band_list(
        ordered,
        added,
        removed,
        item_id=lambda pk: f"ws-sug-item-{-pk}",
        list_id=f"ws-sug-list-{label.slug}",
        items=lambda run: items.of(label, run),
    )
    return mark_safe(changes + count_badge(f"ws-sug-count-{label.slug}", len(ordered), oob=True))  # noqa: S308 -- _Items escapes every text


class _Items:
    """The items of suggestions, each with its Accept and Reject; and the groups' "accept all" forms' token."""

    def __init__(self, article: Article, request: Any, csrf: str) -> None:
        self.body = article.body
        urls = workspace_urls(article.pk)
        self.accept, self.reject = urls["suggestion_accept"], urls["suggestion_reject"]
        self.accept_all = urls["suggestions_accept_label"]
        self._request, self._csrf = request, csrf

    @functools.cached_property
    def csrf(self) -> str:
        """The token's hidden input, made only for a whole group (its "accept all" form): items need none."""
        token = self._csrf or (escape(get_token(self._request)) if self._request else "")
        return f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">' if token else ""

    def of(self, label: Any, rows: Sequence[tuple]) -> str:
        """The items of ``rows``, all of ``label``, in the order given. Each one's Accept and Reject submit the
        page's one form ``#ws-sug-decide`` (its CSRF token) with the suggestion's id as the button's value, to the
        button's own action: without JavaScript as a form post, with htmx as a post in the background (the list
        gives the buttons its ``hx-swap`` and ``hx-sync``). Forms of their own, each with a token, took ~400 of
        an item's ~900 bytes: bench/annotate.py's page with 1,520 suggestions went 2,385 → 1,780 KiB."""
        name = escape(label.name)
        accept, reject = self.accept, self.reject
        # A row's markup is these pieces around its id and excerpt: joined once per group, not once per row (a
        # long article's group holds hundreds of rows).
        opened = '<li class="sug-row" id="ws-sug-item-'
        button = '"><button type="button" class="span-item sug-item" data-span="-'
        shown = f'"><span class="visually-hidden">Suggested {name}: </span>'
        to_accept = f'</button> <button class="sug-accept" form="{DECIDE}" formaction="{accept}" hx-post="{accept}"'
        value = ' name="suggestion" value="'
        accepted = f'">Accept<span class="visually-hidden"> {name} '
        to_reject = (
            f'</span></button> <button class="sug-reject" form="{DECIDE}" formaction="{reject}" hx-post="{reject}"'
        )
        rejected = f'">Reject<span class="visually-hidden"> {name} '
        closed = "</span></button></li>"
        body = self.body
        parts: list[str] = []
        append = parts.append
        for negative, start, end, *_ in rows:
            pk = -negative
            text = excerpt(body[start:end])
            if "&" in text or "<" in text or ">" in text:
                text = escape(text, quote=False)
            append(
                f'{opened}{pk}{button}{pk}" data-suggestion="{pk}{shown}{text}{to_accept}{value}{pk}{accepted}'
                f"{text}{to_reject}{value}{pk}{rejected}{text}{closed}"
            )
        return "".join(parts)
