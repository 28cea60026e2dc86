"""Sentences users read: short excerpts of span text and counted nouns."""

from __future__ import annotations


def excerpt(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counted(n: int, noun: str) -> str:
    """``1 article``, ``3 articles``."""
    return f"{n} {noun}{'s' if n != 1 else ''}"
