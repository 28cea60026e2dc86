"""Passages of an article's tail and their signatures: the pure-text half of boilerplate detection.

No database here. ``passages(body)`` cuts the end of an article into candidate passages (whole paragraphs, and
the first or last sentences of a paragraph, where a footer glued to a story's last paragraph sits), each with
exact code-point offsets. ``signatures(...)`` gives every passage two kinds of keys, both 64-bit integers stable
across processes (stored in PostgreSQL and looked up by index):

- the *exact key*: a hash of its normalised words. Normalising folds case, drops punctuation and whitespace,
  and replaces URLs, e-mail addresses, numbers, month and day names by placeholders, so a footer whose tracking
  link, date or price changed keeps its exact key;
- *band keys*: MinHash over word bigrams, 8 bands of 2 rows. Two passages whose bigram sets have Jaccard
  similarity J share at least one band with probability 1 - (1 - J²)⁸: 0.90 at J = 0.5, 0.99 at J = 0.7. That is
  how a copy with one or two words changed (a product name) is found without comparing it to every passage.

A candidate pair is then confirmed on the real bigram sets (``jaccard``), never on the estimate.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# The end of an article: its last paragraphs. Sponsored footers and calls to action are appended to syndicated
# stories, so only the tail is searched; a passage repeated mid-article (a quote, a shared fact) never is.
TAIL_PARAGRAPHS = 3
# How many leading or trailing sentences of a paragraph form a passage of their own (a footer glued to the end
# of a story's last paragraph, or two footers run together in one paragraph).
MAX_AFFIX_SENTENCES = 4
# Shorter passages are never candidates: "a common short phrase" (“The company declined to comment.”,
# “Shares rose 6 percent in after-hours trading.”) is not boilerplate. Counted in normalised words.
MIN_WORDS = 12
BANDS = 8
ROWS = 2
# Two passages are near-duplicates when their word-bigram sets overlap this much (Jaccard).
JACCARD_MIN = 0.5
SIZE_RATIO_MIN = 0.75

_LINE = re.compile(r"[^\n]+")
# A sentence ends at . ! ? … (and closing quotes or brackets) followed by white space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d").search
_PLACEHOLDERS = {
    **dict.fromkeys(
        "january february march april may june july august september october november december "  # noqa: SIM905
        "jan feb mar apr jun jul aug sep sept oct nov dec".split(),
        "<month>",
    ),
    **dict.fromkeys(
        "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow".split(),  # noqa: SIM905
        "<day>",
    ),
}
# Quotation marks: a passage mostly inside quotes is someone's words, shared by stories about one event.
_QUOTED = re.compile(r"[“\"«„][^“”\"«»„]*[”\"»]")


@dataclass(frozen=True, slots=True)
class Passage:
    """``body[start:end]`` of one candidate passage: sentences ``[first, last)`` of a tail paragraph.

    ``paragraph`` counts back from the article's last paragraph (0 = last); ``words`` are normalised.
    """

    start: int
    end: int
    paragraph: int
    first: int
    last: int
    sentences: int  # how many sentences the paragraph has
    words: tuple[str, ...] = field(repr=False)


@dataclass(slots=True)
class Tail:
    """An article's candidate passages, and per tail paragraph the word-bigram hashes of each sentence."""

    passages: list[Passage]
    paragraph_shingles: dict[int, list[list[int]]]


def normalise_words(text: str) -> list[str]:
    """The words that identify a passage: case-folded, URLs and numbers and dates as placeholders."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # one spelling of "é", full-width digits as digits
    if "://" in text or "www." in text or "@" in text:
        text = _URL.sub(" httplink ", text)
    get = _PLACEHOLDERS.get
    return [
        get(word, word) if word.isalpha() else ("0" if _DIGIT(word) else word)
        for word in _WORD.findall(text.casefold())
    ]


def _sentences(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence ranges in ``body[start:end]`` (one paragraph), trimmed of white space."""
    ranges = []
    position = start
    for match in _SENTENCE_END.finditer(body, start, end):
        ranges.append((position, match.end()))
        position = match.end()
    if position < end:
        ranges.append((position, end))
    trimmed = []
    for a, b in ranges:
        piece = body[a:b]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            trimmed.append((a + left, a + right))
    return trimmed


def tail_paragraphs(body: str, count: int = TAIL_PARAGRAPHS) -> list[tuple[int, int]]:
    """The last ``count`` non-blank lines (paragraphs) of ``body``, trimmed, in text order."""
    found = []
    for match in _LINE.finditer(body):
        text = match.group()
        left = len(text) - len(text.lstrip())
        right = len(text.rstrip())
        if right > left:
            found.append((match.start() + left, match.start() + right))
    return found[-count:]


def tail(body: str) -> Tail:
    """Candidate passages at the end of ``body``: tail paragraphs and their leading and trailing sentences."""
    out: list[Passage] = []
    paragraph_shingles: dict[int, list[list[int]]] = {}
    paragraphs = tail_paragraphs(body)
    for back, (p_start, p_end) in enumerate(reversed(paragraphs)):
        sentences = _sentences(body, p_start, p_end)
        words_of = [normalise_words(body[a:b]) for a, b in sentences]
        n = len(sentences)
        pieces = {(0, n)}
        for k in range(1, min(n - 1, MAX_AFFIX_SENTENCES) + 1):
            pieces.add((0, k))
            pieces.add((n - k, n))
        added = False
        for first, last in sorted(pieces):
            words = [w for i in range(first, last) for w in words_of[i]]
            if len(words) < MIN_WORDS:
                continue
            added = True
            out.append(
                Passage(
                    start=sentences[first][0],
                    end=sentences[last - 1][1],
                    paragraph=back,
                    first=first,
                    last=last,
                    sentences=n,
                    words=tuple(words),
                )
            )
        if added:
            paragraph_shingles[back] = [shingles(words) for words in words_of]
    return Tail(passages=out, paragraph_shingles=paragraph_shingles)


def passages(body: str) -> list[Passage]:
    return tail(body).passages


def mostly_quoted(text: str) -> bool:
    """True when at least half the passage is inside quotation marks (reported speech, not boilerplate)."""
    quoted = sum(len(m.group()) for m in _QUOTED.finditer(text))
    return quoted * 2 >= len(text)


# ---------------------------------------------------------------------------------------------------------------
# Hashing: every value is derived from BLAKE2b of the word (cached) and fixed constants, so keys computed by
# different processes, today and next year, agree.

_MASK = (1 << 64) - 1
_WORD_HASH: dict[str, int] = {}
_RNG = np.random.default_rng(20261129)
_XOR = _RNG.integers(0, 2**63, size=BANDS * ROWS, dtype=np.uint64)
_MUL = _RNG.integers(0, 2**63, size=BANDS * ROWS, dtype=np.uint64) | np.uint64(1)


def _word_hash(word: str) -> int:
    value = _WORD_HASH.get(word)
    if value is None:
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        if len(_WORD_HASH) < 1_000_000:
            _WORD_HASH[word] = value
    return value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def exact_key(words: Sequence[str]) -> int:
    """A signed 64-bit hash of the normalised words (PostgreSQL bigint)."""
    return _signed(int.from_bytes(hashlib.blake2b(" ".join(words).encode(), digest_size=8).digest(), "little"))


def shingles(words: Sequence[str]) -> list[int]:
    """Word-bigram hashes of one sentence (a one-word sentence gives its word)."""
    get = _WORD_HASH.get
    hashes = [get(w) or _word_hash(w) for w in words]
    if len(hashes) == 1:
        return hashes
    return [((x * 0x9E3779B97F4A7C15) ^ y) & _MASK for x, y in itertools.pairwise(hashes)]


def bigram_set(text: str) -> frozenset[int]:
    """The shingle set of a piece of text, as ``jaccard`` compares them."""
    out: set[int] = set()
    for sentence in _SENTENCE_END.split(text):
        out.update(shingles(normalise_words(sentence)))
    return frozenset(out)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def near_duplicates(a: frozenset[int], b: frozenset[int]) -> bool:
    """Same passage give or take a few words: Jaccard ≥ ``JACCARD_MIN`` *and* sizes within ``SIZE_RATIO_MIN``.

    The size test stops chains through containment: a footer and the same footer run together with a short
    call to action overlap by 0.8, as do that pair and the call to action with a longer neighbour, and so on;
    without it every footer of the corpus ends up in one group.
    """
    small, large = sorted((len(a), len(b)))
    return small >= SIZE_RATIO_MIN * large and jaccard(a, b) >= JACCARD_MIN


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wraps around by design)."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


_EMPTY = np.uint64(_MASK)


def _sentence_minima(shingle_lists: Sequence[Sequence[int]]) -> np.ndarray:
    """``len(shingle_lists) × (BANDS·ROWS)`` MinHash values; a sentence without words gets the neutral maximum."""
    out = np.full((len(shingle_lists), BANDS * ROWS), _EMPTY, dtype=np.uint64)
    lengths = np.fromiter((len(s) for s in shingle_lists), dtype=np.int64, count=len(shingle_lists))
    filled = np.flatnonzero(lengths)
    if not len(filled):
        return out
    flat = np.fromiter((h for s in shingle_lists for h in s), dtype=np.uint64, count=int(lengths.sum()))
    # x -> (x xor a) * b (b odd) permutes the 64-bit integers: one permutation per MinHash row. The shingle
    # hashes are already mixed, so no finaliser is needed here (it cost a third of the whole-corpus rebuild).
    with np.errstate(over="ignore"):
        permuted = (flat[:, None] ^ _XOR[None, :]) * _MUL[None, :]
    offsets = np.concatenate(([0], np.cumsum(lengths[filled])[:-1]))
    out[filled] = np.minimum.reduceat(permuted, offsets, axis=0)
    return out


def _band_keys(minima: np.ndarray) -> np.ndarray:
    rows = minima.reshape(len(minima), BANDS, ROWS)
    keys = np.full((len(minima), BANDS), np.uint64(0x51ED270B27D3E1F1), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(ROWS):
            keys = _mix(keys ^ rows[:, :, r])
        keys = _mix(keys ^ np.arange(1, BANDS + 1, dtype=np.uint64)[None, :])
    return keys.view(np.int64)


@dataclass(frozen=True, slots=True)
class Signed:
    passage: Passage
    exact: int
    bands: tuple[int, ...]

    @property
    def keys(self) -> list[int]:
        return [self.exact, *self.bands]


def signatures(tails: Sequence[Tail]) -> list[list[Signed]]:
    """Exact and band keys of every passage of every tail, with one vectorised MinHash for the whole batch.

    A passage is a run of whole sentences starting or ending its paragraph, and the MinHash of a union of
    sets is the elementwise minimum of theirs: so MinHash is computed once per sentence, and each paragraph's
    running minima from the front and from the back give every prefix and suffix passage.
    """
    sentence_lists: list[list[int]] = []
    where: list[dict[int, int]] = []
    for item in tails:
        positions = {}
        for back, lists in item.paragraph_shingles.items():
            positions[back] = len(sentence_lists)
            sentence_lists.extend(lists)
        where.append(positions)
    minima = _sentence_minima(sentence_lists)
    passage_minima = []
    for item, positions in zip(tails, where, strict=True):
        runs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for p in item.passages:
            if p.paragraph not in runs:
                n = p.sentences
                rows = minima[positions[p.paragraph] : positions[p.paragraph] + n]
                runs[p.paragraph] = (np.minimum.accumulate(rows), np.minimum.accumulate(rows[::-1])[::-1])
            forward, backward = runs[p.paragraph]
            passage_minima.append(forward[p.last - 1] if p.first == 0 else backward[p.first])
    keys = _band_keys(np.array(passage_minima, dtype=np.uint64).reshape(-1, BANDS * ROWS))
    out: list[list[Signed]] = []
    index = 0
    for item in tails:
        signed = []
        for p in item.passages:
            signed.append(Signed(passage=p, exact=exact_key(p.words), bands=tuple(keys[index].tolist())))
            index += 1
        out.append(signed)
    return out


def copy_rows(batch: Sequence[tuple[int, str]]) -> tuple[str, int]:
    """PostgreSQL COPY text for the passages of ``(article id, body)`` pairs, and how many there are.

    Pure and picklable, so the whole-corpus rebuild can run it in worker processes.
    """
    tails = [tail(body) for _, body in batch]
    lines = []
    for (article_id, _), signed in zip(batch, signatures(tails), strict=True):
        for s in signed:
            p = s.passage
            bands = ",".join(map(str, s.bands))
            lines.append(f"{article_id}\t{p.start}\t{p.end}\t{p.paragraph}\t{s.exact}\t{{{bands}}}\n")
    return "".join(lines), len(lines)
