"""Writes for agreement: the token cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from annotations.agreement.models import ArticleTokens
from annotations.agreement.tokens import TOKENIZER, boundaries, pack
from articles.models import Article

# (article id, its body_sha256, token starts, token ends)
TokenRow = tuple[int, str, list[int], list[int]]


def articles_without_tokens(*, articles: QuerySet[Article]) -> QuerySet[Article]:
    """``articles`` with no stored tokens for their current body and the current tokenizer."""
    current = ArticleTokens.objects.filter(
        article=OuterRef("pk"), body_sha256=OuterRef("body_sha256"), tokenizer=TOKENIZER
    )
    return articles.filter(~Exists(current))


@transaction.atomic
def article_tokens_store(*, rows: list[TokenRow]) -> None:
    """Store (or replace) the token boundaries of each article in ``rows``; a concurrent store of the same
    article is harmless (last one wins, and both hold the same boundaries)."""
    ArticleTokens.objects.bulk_create(
        [
            ArticleTokens(article_id=pk, body_sha256=sha, tokenizer=TOKENIZER, starts=pack(starts), ends=pack(ends))
            for pk, sha, starts, ends in rows
        ],
        update_conflicts=True,
        unique_fields=["article"],
        update_fields=["body_sha256", "tokenizer", "starts", "ends"],
    )


@contextmanager
def article_tokens_writer(
    *, batch_size: int = 500, on_stored: Callable[[int], None] | None = None
) -> Iterator[Callable[[TokenRow], None]]:
    """A function that queues one article's boundaries for storage, written ``batch_size`` at a time and when the
    block ends (so an agreement run stores what it tokenized on the way, in flat memory)."""
    batch: list[TokenRow] = []

    def flush() -> None:
        if batch:
            article_tokens_store(rows=batch)
            if on_stored:
                on_stored(len(batch))
            batch.clear()

    def add(row: TokenRow) -> None:
        batch.append(row)
        if len(batch) >= batch_size:
            flush()

    yield add
    flush()


def article_tokens_fill(*, articles: QuerySet[Article], chunk_size: int = 500) -> int:
    """Tokenize and store every article of ``articles`` whose stored boundaries are missing or stale (ahead of a
    run, e.g. after an import); returns how many."""
    todo = articles_without_tokens(articles=articles).order_by("pk").values_list("pk", "body", "body_sha256")
    done = 0
    with article_tokens_writer(batch_size=chunk_size) as store:
        for pk, body, sha in todo.iterator(chunk_size=chunk_size):
            store((pk, sha, *boundaries(body)))
            done += 1
    return done
