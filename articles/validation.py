"""What an article's fields may hold, in one place for the importers, the admin form and the database checks.

The database enforces the same rules (``articles.models.Article.Meta.constraints``); these functions let every
door refuse a bad value with a sentence instead of a database error.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

# published_at: PostgreSQL stores years 4713 BC to 294276 AD, but Python's datetime ends at year 9999 and
# starts at year 1, and a value near either end crashes every page that converts it to a local time. Years
# 1000 to 9998 in UTC leave a day's margin for any time zone and hold every real publication date.
PUBLISHED_MIN = dt.datetime(1000, 1, 1, tzinfo=dt.UTC)
PUBLISHED_MAX = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)  # exclusive
PUBLISHED_RANGE_TEXT = "between the years 1000 and 9998 (UTC)"

# Column sizes of Article (and Source.name), checked before the database sees them.
FIELD_LIMITS = {"title": 500, "byline": 300, "source": 200, "url": 2000, "language": 16}

# Metadata nesting: PostgreSQL's jsonb and Python's json both recurse; a few levels are all real metadata uses.
MAX_JSON_DEPTH = 64


def published_at_in_range(moment: dt.datetime) -> bool:
    """Whether an aware datetime lies in the stored range (years 1000-9998 in UTC)."""
    # Compare the local year first: converting year 1 or 9999 to UTC can itself overflow.
    if not 1000 <= moment.year <= 9998:
        return False
    return PUBLISHED_MIN <= moment < PUBLISHED_MAX


def day_in_range(day: dt.date) -> bool:
    """Whether a whole day (a filter's bound) lies inside the stored range."""
    return PUBLISHED_MIN.date() <= day < PUBLISHED_MAX.date()


def json_value_problem(value: Any) -> str | None:
    """Why PostgreSQL's jsonb could not hold ``value``, completing "metadata ...", or None.

    jsonb refuses ``\\u0000`` in strings and keys and has no NaN or Infinity; deep nesting crashes Python's
    json and the database alike. Walked with a stack, not recursion, so any depth is safe to inspect.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str) and "\x00" in key:
                        return "contains a NUL character (\\u0000), which the database cannot store"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "contains a NUL character (\\u0000), which the database cannot store"
        elif isinstance(item, float) and not math.isfinite(item):
            name = "NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity"
            return f"holds {name}, which JSON does not allow"
    return None


# A Unicode BCP-47 locale identifier (UTS #35), which is what browsers' Intl APIs accept:
# language[-script][-region](-variant)*(-singleton(-ext)+)*[-x(-private)+]
_LANGUAGE_TAG = re.compile(
    r"""
    (?P<language>[a-z]{2,3}|[a-z]{5,8})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)
    (?P<extensions>(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*)
    (?P<private>-x(?:-[a-z0-9]{1,8})+)?
    """,
    re.VERBOSE,
)


def language_tag(value: str) -> str | None:
    """``value`` as a canonically cased BCP-47 tag (``en_US`` → ``en-US``, ``zh_hant_tw`` → ``zh-Hant-TW``).

    None when it is not a well-formed tag, or one that browsers refuse (a repeated variant or extension).
    """
    tag = value.strip().replace("_", "-").lower()
    match = _LANGUAGE_TAG.fullmatch(tag)
    if match is None or len(tag) > FIELD_LIMITS["language"]:
        return None
    variants = match["variants"].split("-")[1:]
    singletons = [part for part in match["extensions"].split("-") if len(part) == 1]
    if len(set(variants)) != len(variants) or len(set(singletons)) != len(singletons):
        return None
    parts = [match["language"]]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["variants"] + match["extensions"] + (match["private"] or "")
