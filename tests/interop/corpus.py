"""The corpus the interop suite exports: the demo corpus plus hostile texts, labelled by two annotators.

The hostile texts hold emoji with ZWJ and skin tones, combining marks, CJK, a flag, a ``#`` token ("Kaiun #001",
hashtags), text that arrived with CRLF line endings (stored, as always, with ``\\n``) and formula-like cells.
alice and bob label the same articles; some of their spans are identical (two layers, one span each), some
overlap, some come from suggestions or an import. ``build()`` writes it all into the test database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model

import articles
from annotations.models import Label, Span
from articles.models import Article, body_sha256

DEMO_CORPUS = Path(articles.__file__).parent / "demo" / "corpus.jsonl"

EMOJI = (
    "Kaiun #001 sails from To\u0304kyo\u0304: the 👩🏽‍💻 crew of Zoe\u0308 Q\u0301uist and Nø\u0308rd Labs "
    "shipped 🚀 #launch on Friday. 👨‍👩‍👧‍👦 families cheered."
)
CJK = "東京のソニー株式会社は新チップを発表した。\nSony says 🇯🇵 sales rose 5% in 大阪."
CRLF_SOURCE = "Line one by Ada Lovelace.\r\nLine two: Larchfield Systems, again.\r\n\r\nA third line."
CRLF = CRLF_SOURCE.replace("\r\n", "\n")
FORMULA = "=SUM(A1) is what '=HYPERLINK says; @analyst sees -12% margin."

# (text, [(label slug, quoted text, occurrence, annotator, origin, note)])
HOSTILE = [
    (
        EMOJI,
        [
            ("org", "Kaiun #001", 0, "alice", "manual", ""),
            ("person", "Zoe\u0308 Q\u0301uist", 0, "alice", "manual", "combining marks"),
            ("person", "Zoe\u0308 Q\u0301uist", 0, "bob", "manual", ""),
            ("org", "Nø\u0308rd Labs", 0, "bob", "manual", ""),
            ("sponsored", "🚀 #launch", 0, "bob", "suggestion", ""),
            (
                "claim",
                "the 👩🏽‍💻 crew of Zoe\u0308 Q\u0301uist and Nø\u0308rd Labs shipped",
                0,
                "alice",
                "manual",
                "ZWJ",
            ),
            ("org", "👨‍👩‍👧‍👦 families", 0, "bob", "import", ""),
        ],
    ),
    (
        CJK,
        [
            ("org", "ソニー株式会社", 0, "alice", "manual", ""),
            ("org", "Sony", 0, "bob", "manual", ""),
            ("claim", "Sony says 🇯🇵 sales rose 5%", 0, "alice", "manual", ""),
            ("org", "大阪", 0, "bob", "manual", ""),
        ],
    ),
    (
        CRLF,
        [
            ("person", "Ada Lovelace", 0, "alice", "manual", ""),
            ("person", "Ada Lovelace", 0, "bob", "manual", ""),
            ("org", "Larchfield Systems", 0, "bob", "import", ""),
            ("claim", "Ada Lovelace.\nLine two", 0, "alice", "manual", "across a line break"),
        ],
    ),
    (
        FORMULA,
        [
            ("org", "@analyst", 0, "alice", "manual", "'=SUM(A1)"),
            ("claim", "-12% margin", 0, "bob", "manual", "=cmd"),
        ],
    ),
]

NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")


@dataclass(frozen=True)
class Expected:
    """One span as every tool should give it back."""

    pk: int
    article: int
    label: str
    start: int
    end: int
    text: str
    annotator: str
    origin: str


def build() -> list[Expected]:
    """Users alice and bob, the demo corpus and the hostile texts, and their spans; returns every span."""
    User = get_user_model()
    users = {name: User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.org"})[0]
             for name in ("alice", "bob")}  # fmt: skip
    labels = {label.slug: label for label in Label.objects.all()}
    made: list[Span] = []

    def add(article, slug, start, end, who, origin="manual", note=""):
        made.append(
            Span.objects.create(
                article=article,
                label=labels[slug],
                start=start,
                end=end,
                text=article.body[start:end],
                annotator=users[who],
                origin=origin,
                note=note,
            )
        )

    def article(body: str, title: str, **fields) -> Article:
        return Article.objects.create(title=title, body=body, body_sha256=body_sha256(body), **fields)

    for line in DEMO_CORPUS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        item = article(record["body"], record["title"], url=record.get("url"))
        names = list(NAME.finditer(item.body))[:4]
        for n, match in enumerate(names):
            # alice and bob agree on the first name, and label the others in turns.
            add(item, "org" if n % 2 else "person", match.start(), match.end(), "alice" if n % 2 else "bob")
        if names:
            add(item, "person", names[0].start(), names[0].end(), "alice")
        first = re.search(r"[^.!?\n]+[.!?]", item.body)
        if first:
            add(item, "claim", first.start(), first.end(), "alice", note="first sentence")
    for number, (body, spans) in enumerate(HOSTILE, start=1):
        item = article(body, f"Hostile {number}")
        for slug, quoted, occurrence, who, origin, note in spans:
            start = -1
            for _ in range(occurrence + 1):
                start = body.index(quoted, start + 1)
            add(item, slug, start, start + len(quoted), who, origin, note)
    return [
        Expected(s.pk, s.article_id, s.label.name, s.start, s.end, s.text, s.annotator.username, s.origin)
        for s in sorted(made, key=lambda s: (s.article_id, s.start, -s.end, s.pk))
    ]
