"""The workspace's URLs for one article, from patterns reversed once per process.

The page and every write's answer name a dozen URLs of their article (each form's action, the span editor's,
status, undo). ``{% url %}`` reverses each afresh: 12 of them took 0.31 ms on the 2-core reference machine, of the
page's ~4 ms of CPU. These are reversed once per process and script prefix with a stand-in id, which the article's
id then replaces; the URLs are Django's own, so they follow ``annotations/urls.py``.
"""

from __future__ import annotations

import functools

from django.urls import get_script_prefix, reverse

# A number no URL of these holds otherwise (the ids are the only numbers in them).
_STAND_IN = "2000000001"

# Context name: URL name, and the arguments after the article's id (the span editor's URL takes a span id, which
# the page's script puts in place of its 0).
_URLS: dict[str, tuple[str, tuple[int, ...]]] = {
    "span_detail": ("annotations:span-detail", (0,)),
    "write_check": ("annotations:article-write-check", ()),
    "status": ("annotations:article-status", ()),
    "gold": ("annotations:article-gold", ()),
    "undo": ("annotations:article-undo", ()),
    "span_create": ("annotations:span-create", ()),
    "span_relabel": ("annotations:span-relabel", ()),
    "span_details": ("annotations:span-details", ()),
    "span_delete": ("annotations:span-delete", ()),
    "suggestion_accept": ("annotations:suggestion-accept", ()),
    "suggestion_reject": ("annotations:suggestion-reject", ()),
    "suggestions_accept_label": ("annotations:suggestions-accept-label", ()),
    "next": ("annotations:article-next", ()),
}


@functools.cache
def _patterns(prefix: str) -> dict[str, tuple[str, str]]:
    """Each URL split around its article id, for the script prefix ``prefix`` (``reverse`` includes it)."""
    patterns = {}
    for key, (name, rest) in _URLS.items():
        head, found, tail = reverse(name, args=[int(_STAND_IN), *rest]).partition(_STAND_IN)
        if not found or _STAND_IN in tail:
            raise ValueError(f"{name}: the article's id is not once in its URL")
        patterns[key] = (head, tail)
    return patterns


def workspace_urls(article_id: int) -> dict[str, str]:
    """The workspace's URLs of the article ``article_id``, by context name (``_URLS``)."""
    return {key: f"{head}{article_id:d}{tail}" for key, (head, tail) in _patterns(get_script_prefix()).items()}
