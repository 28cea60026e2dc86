"""Full-text search over the corpus as people type: the stored vector (``SearchDocument``) and prefix queries.

``search_query("Corv")`` finds Corvane and ``search_query("chip")`` finds chiplets: every bare word of two or
more characters matches as a prefix of a word in the title or body (after English stemming, as the stored
vector is). Web-search syntax keeps working: ``"exact phrase"`` (words in order, not prefixes), ``-word``
(articles without the word) and ``or`` between two terms.

The query text handed to ``to_tsquery`` is built here from word characters only, each quoted, so nothing a
user types can inject tsquery syntax (``&``, ``|``, ``!``, ``<->``, ``:*``, parentheses, quotes, backslashes
are never copied through).
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery
from django.db.models import Q, QuerySet

from articles.models import SEARCH_CONFIG, SearchDocument

# A phrase in double quotes, or a run of anything else that is not white space, optionally negated by "-".
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")
# Shorter bare words match exactly: a one-letter prefix would match a large part of the vocabulary.
MIN_PREFIX = 2
MAX_TERMS = 32


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _quoted(word: str, *, prefix: bool) -> str:
    # Word characters hold no quote or backslash; the quotes keep the parser from reading anything as syntax.
    return f"'{word}'" + (":*" if prefix and len(word) >= MIN_PREFIX else "")


def tsquery_text(text: str) -> str:
    """The ``to_tsquery`` text for what a user typed (see the module docstring); "" when it holds no word."""
    parts: list[str] = []
    pending_or = False
    for match in _TERM.finditer(text):
        negated = bool(match.group(1) or match.group(3))
        if match.group(2) is not None:  # a phrase
            words = _words(match.group(2))
            term = " <-> ".join(_quoted(word, prefix=False) for word in words)
            if len(words) > 1:
                term = f"({term})"
        else:
            raw = match.group(4)
            if raw.lower() == "or" and not negated and parts:
                pending_or = True
                continue
            words = _words(raw)
            # "state-of-the-art", "e.g.": the pieces of one typed term follow each other.
            term = " <-> ".join(
                _quoted(word, prefix=not negated and i == len(words) - 1) for i, word in enumerate(words)
            )
            if len(words) > 1:
                term = f"({term})"
        if not words:
            continue
        if negated:
            term = f"!{term}"
        if parts and pending_or:
            parts[-1] = f"{parts[-1]} | {term}"
        else:
            parts.append(term)
        pending_or = False
        if len(parts) >= MAX_TERMS:
            break
    return " & ".join(f"({part})" if " | " in part else part for part in parts)


def search_query(text: str) -> SearchQuery | None:
    """A prefix-matching full-text query for ``text``, or None when it holds no word to search for."""
    query = tsquery_text(text)
    if not query:
        return None
    return SearchQuery(query, config=SEARCH_CONFIG, search_type="raw")


def search_matches(query: SearchQuery) -> Q:
    """Articles whose stored vector matches ``query`` (answered by ``article_search_document_gin``).

    Needs ``.alias(search_document=SearchDocument())`` on the queryset (``with_search_document``).
    """
    return Q(search_document=query)


def with_search_document[Articles: QuerySet](articles: Articles) -> Articles:
    """``articles`` with the stored vector available as ``search_document`` to filters (never selected)."""
    return articles.alias(search_document=SearchDocument())
