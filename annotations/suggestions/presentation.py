"""The workspace side panel's suggestions: grouped by label, each with accept and reject forms (they work
without JavaScript), and per label an "accept all" form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from annotations.workspace.rendering import excerpt
from articles.models import Article


def render_suggestion_groups(
    article: Article,
    labels: Mapping[int, Any],
    rows: Sequence[tuple],
    request: Any = None,
    *,
    csrf: str = "",
    oob: bool = False,
) -> SafeString:
    """Rows are ``suggestion_rows``: ``(-id, start, end, label_id, "", None)``. ``csrf``: a stand-in for the
    request's CSRF token (a stored drawing's marker, put in place when it is served). Each label's group is
    ``#ws-sug-group-<slug>``; ``oob``: marked for htmx to swap each in place of the page's own."""
    if not rows:
        return mark_safe("")
    accept = reverse("annotations:suggestion-accept", args=[article.pk])
    reject = reverse("annotations:suggestion-reject", args=[article.pk])
    accept_all = reverse("annotations:suggestions-accept-label", args=[article.pk])
    token = csrf or (escape(get_token(request)) if request else "")
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">' if token else ""
    form = f'hx-swap="none" hx-sync="#workspace:queue all">{csrf}'
    parts: list[str] = []
    append = parts.append
    swap = ' hx-swap-oob="true"' if oob else ""

    rank = {pk: (label.ordering, label.name) for pk, label in labels.items()}
    body = article.body
    for label_id, group in groupby(sorted(rows, key=lambda row: (*rank[row[3]], row[1], -row[2])), key=itemgetter(3)):
        items = list(group)
        label = labels[label_id]
        name = escape(label.name)
        append(
            f'<section id="ws-sug-group-{label.slug}" class="span-group sug-group"{swap}>'
            f'<h3><span class="swatch sug label-{label.slug}" aria-hidden="true">'
            f'</span>Suggested {name} <span class="count">{len(items)}</span></h3>'
            f'<form method="post" action="{accept_all}" hx-post="{accept_all}" hx-swap="none" '
            f'hx-sync="#workspace:queue all">{csrf}<input type="hidden" name="label" value="{label_id}">'
            f'<button type="submit" class="sug-accept-all" data-label="{label_id}">Accept all {name}</button></form>'
            '<ol class="span-list">'
        )
        # A row's markup is these pieces around its id and excerpt: joined once per group, not once per row (a
        # create's answer redraws its label's group, hundreds of rows on a long article).
        opened = '<li class="sug-row"><button type="button" class="span-item sug-item" data-span="-'
        shown = f'"><span class="visually-hidden">Suggested {name}: </span>'
        to_accept = (
            f'</button> <form method="post" action="{accept}" hx-post="{accept}" {form}'
            '<input type="hidden" name="suggestion" value="'
        )
        accepting = f'"><button type="submit" class="sug-accept">Accept<span class="visually-hidden"> {name} '
        to_reject = (
            f'</span></button></form> <form method="post" action="{reject}" hx-post="{reject}" {form}'
            '<input type="hidden" name="suggestion" value="'
        )
        rejecting = f'"><button type="submit" class="sug-reject">Reject<span class="visually-hidden"> {name} '
        closed = "</span></button></form></li>"
        for negative, start, end, *_ in items:
            pk = -negative
            text = excerpt(body[start:end])
            if "&" in text or "<" in text or ">" in text:
                text = escape(text, quote=False)
            append(
                f'{opened}{pk}" data-suggestion="{pk}{shown}{text}{to_accept}{pk}{accepting}{text}{to_reject}{pk}'
                f"{rejecting}{text}{closed}"
            )
        append("</ol></section>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text and attribute value above is escaped
