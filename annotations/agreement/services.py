"""Writes for agreement: the token cache."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from annotations.agreement.models import ArticleTokens
from annotations.agreement.tokens import TOKENIZER, tokenize
from articles.models import Article


def articles_without_tokens(*, articles: QuerySet[Article]) -> QuerySet[Article]:
    """``articles`` with no stored tokens for their current body and the current tokenizer."""
    current = ArticleTokens.objects.filter(
        article=OuterRef("pk"), body_sha256=OuterRef("body_sha256"), tokenizer=TOKENIZER
    )
    return articles.filter(~Exists(current))


def article_tokens_fill(
    *, articles: QuerySet[Article], chunk_size: int = 500, on_article: Callable[[int], None] | None = None
) -> int:
    """Tokenize, as the CoNLL export does, every article of ``articles`` whose stored tokens are missing or stale,
    and store them (one transaction per chunk; a concurrent fill of the same article is harmless). Returns how
    many were tokenized."""
    todo = articles_without_tokens(articles=articles).order_by("pk").values_list("pk", "body", "body_sha256")
    done = 0
    batch: list[ArticleTokens] = []

    def flush() -> None:
        with transaction.atomic():
            ArticleTokens.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["article"],
                update_fields=["body_sha256", "tokenizer", "starts", "ends"],
            )
        if on_article:
            on_article(len(batch))
        batch.clear()

    for pk, body, sha in todo.iterator(chunk_size=chunk_size):
        tokens = tokenize(body)
        batch.append(
            ArticleTokens(
                article_id=pk,
                body_sha256=sha,
                tokenizer=TOKENIZER,
                starts=[t.start for t in tokens],
                ends=[t.end for t in tokens],
            )
        )
        done += 1
        if len(batch) >= chunk_size:
            flush()
    if batch:
        flush()
    return done
