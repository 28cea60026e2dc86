"""``conll``: CoNLL-2003-style IOB2, for training sequence taggers.

One token per line as ``TOKEN -X- -X- TAG`` (the POS and chunk columns are placeholders, as on the
``-DOCSTART- -X- -X- O`` line that opens each article); a blank line ends a sentence. Articles come in id order.

Tokenizer (``tokenize``): a token is a run of word characters (letters, marks, digits, connector punctuation,
joiners) or else one grapheme cluster that is neither word nor space (``,``, ``"``, ``👩‍💻``). ``Okonkwo's``
is three tokens: ``Okonkwo``, ``'``, ``s``.

Sentences end at a line break and after ``.``, ``!``, ``?`` or ``…`` followed by a space (closing quotes and
brackets stay with their sentence), but never inside a span being exported.

IOB2 gives each token one tag, so a span is exported only if it starts and ends on token boundaries and shares
no token with an earlier-starting (or, at the same start, longer) span. The file holds tokens and tags only
(other tools read any line as a token, ``#`` included): what it cannot hold goes to ``on_dropped``, one
message each, which the CLI prints: ``left out: …`` for a span left out, ``written once: …`` for a span
identical (label, start, end) to one by another annotator, and one ``note: …`` naming the annotators when
several share the file. Annotators are not told apart in IOB2: their spans share one tag layer per article.
Export one annotator (``--annotator``) or one label (``--layer``) for a layer without overlaps.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import regex

from annotations.exports.common import chunked
from annotations.exports.query import ExportFilters, iter_articles

TOKEN = regex.compile(r"\w+|(?:(?![\w\s])\X)")
TERMINATORS = {".", "!", "?", "…"}
CLOSERS = {'"', "'", "”", "’", ")", "]", "}", "»"}
DOCSTART = "-DOCSTART- -X- -X- O\n"


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def sentence_breaks(text: str, tokens: list[Token], covered: set[int]) -> set[int]:
    """Indexes of tokens after which a sentence ends; ``covered`` holds tokens inside a span (not before its last)."""

    def ends_sentence(i: int) -> bool:
        while tokens[i].text in CLOSERS and i > 0 and tokens[i - 1].end == tokens[i].start:
            i -= 1
        return tokens[i].text in TERMINATORS

    breaks = set()
    for i in range(len(tokens) - 1):
        if i in covered:
            continue
        gap = text[tokens[i].end : tokens[i + 1].start]
        if "\n" in gap or (gap and ends_sentence(i)):
            breaks.add(i)
    return breaks


def tag_article(article, spans, report: Callable[[str], None]) -> str:
    """The IOB2 lines of one article (without the DOCSTART line)."""
    body = article.body
    tokens = tokenize(body)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    tags = ["O"] * len(tokens)
    owner: list = [None] * len(tokens)
    covered: set[int] = set()
    kept: dict[tuple, Any] = {}
    for span in spans:
        first = bisect_left(starts, span.start)
        last = bisect_left(ends, span.end)
        where = f"span {span.pk} {span.label} {span.start}-{span.end} (article {article.pk})"
        if first >= len(tokens) or starts[first] != span.start or last >= len(tokens) or ends[last] != span.end:
            report(f"left out: {where}: does not start and end on token boundaries")
            continue
        key = (span.label_id, span.start, span.end)
        if key in kept:
            twin = kept[key]
            report(f"written once: {where} by {span.annotator} is identical to span {twin.pk} by {twin.annotator}")
            continue
        clash = next((owner[i] for i in range(first, last + 1) if owner[i] is not None), None)
        if clash is not None:
            report(f"left out: {where}: overlaps span {clash.pk} {clash.label} {clash.start}-{clash.end}")
            continue
        kept[key] = span
        tag = span.label.replace(" ", "_")
        for i in range(first, last + 1):
            owner[i] = span
            tags[i] = ("B-" if i == first else "I-") + tag
        covered.update(range(first, last))
    breaks = sentence_breaks(body, tokens, covered)
    lines = []
    for i, token in enumerate(tokens):
        lines.append(f"{token.text} -X- -X- {tags[i]}\n")
        if i in breaks:
            lines.append("\n")
    return "".join(lines) + "\n"


def write(
    filters: ExportFilters,
    *,
    on_rows: Callable[[int], None] | None = None,
    on_dropped: Callable[[str], None] | None = None,
) -> Iterator[bytes]:
    def pieces():
        dropped: list[str] = []
        annotators: set[str] = set()
        for article in iter_articles(filters):
            annotators.update(span.annotator for span in article.spans)
            yield DOCSTART + "\n" + tag_article(article, article.spans, dropped.append)
            if on_rows:
                on_rows(1)
        if len(annotators) > 1:
            dropped.append(
                f"note: spans by {len(annotators)} annotators ({', '.join(sorted(annotators))}) share one tag layer "
                "per article; export one with --annotator NAME"
            )
        for message in dropped:
            if on_dropped:
                on_dropped(message)

    return chunked(pieces())


def read(text: str, bodies: list[str]) -> list[list[tuple[str, int, int]]]:
    """Spans ``(label, start, end)`` per article from a CoNLL export, given the articles' texts in export order.

    Tokens are matched against ``tokenize(body)``, so tags map back to exact code-point offsets. Every line
    but ``-DOCSTART-`` and blank ones is a token, ``#`` included (a hashtag, "Kaiun #001").
    """
    documents: list[list[str]] = []
    for line in text.split("\n"):
        if line.startswith("-DOCSTART-"):
            documents.append([])
        elif line and documents:
            documents[-1].append(line)
    if len(documents) != len(bodies):
        raise ValueError(f"{len(documents)} documents in the file, {len(bodies)} texts given")
    result = []
    for number, (lines, body) in enumerate(zip(documents, bodies, strict=True), start=1):
        tokens = tokenize(body)
        if len(tokens) != len(lines):
            raise ValueError(f"document {number}: {len(lines)} token lines, the text has {len(tokens)} tokens")
        spans: list[tuple[str, int, int]] = []
        current: list | None = None
        for token, line in zip(tokens, lines, strict=True):
            word, _, _, tag = line.rsplit(" ", 3)
            if word != token.text:
                raise ValueError(f"document {number}: token {word!r} does not match the text ({token.text!r})")
            if tag.startswith("B-") or (tag.startswith("I-") and (current is None or current[0] != tag[2:])):
                current = [tag[2:], token.start, token.end]
                spans.append(current)  # type: ignore[arg-type]
            elif tag.startswith("I-"):
                current[2] = token.end  # type: ignore[index]
            else:
                current = None
        result.append([tuple(s) for s in spans])
    return result
