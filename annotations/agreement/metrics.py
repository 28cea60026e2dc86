"""Agreement between editors, and of each editor with gold, computed in one streaming pass.

Pure: no database, no Django. Feed ``Agreement.add`` one ``ArticleLayers`` at a time (in any order) and read
``Agreement.report``. Only sufficient statistics are kept (span counts, token confusion matrices per editor pair),
so memory depends on the number of editors and labels, never on the corpus.

Definitions (also in the README, "Agreement"):

- Labels are ids (positive ints); ``O`` (no label) is ``0``. A span is ``(label, start, end, id)``.
- **Pairwise.** Every figure between editors is computed per editor pair over the articles *both* finished, then
  the pairs' figures are averaged (plain mean over the pairs where the figure is defined). Every pair's figures are
  kept in the report too.
- **Exact-span F1**: a span of one editor matches a span of the other with the same label, start and end;
  F1 = 2·matches / (spans of A + spans of B). On layers IOB2 can express it equals seqeval's strict IOB2 F1.
- **Overlap F1**: a span counts as matched when the other editor has a span of the same label sharing at least one
  code point with it; P = matched spans of B / spans of B, R = matched spans of A / spans of A, F1 = 2PR/(P+R)
  (symmetric in A and B; 0 when one side has spans and the other none).
- **Tokens** are the CoNLL export's tokens (``annotations.exports.conll.tokenize``). A token's label in an
  editor's layer is the one the CoNLL export of that layer gives it (``token_tags``): spans not on token
  boundaries are left out, and a span sharing a token with an earlier-starting (or, at the same start, longer)
  span is left out; untagged tokens are ``O``.
- **Cohen's κ** over every token of the shared articles; **Krippendorff's α** (nominal) over the same tokens,
  the two editors as coders. Overall: multi-class (every label plus ``O``); per label: binary (this label or not).
- **Overall F1** is micro: matches and span counts summed over the labels.
- **Gold**: each editor against the gold layer on the articles they finished that have one: exact spans,
  precision = matches / editor's spans, recall = matches / gold spans, F1 = 2·matches / (both).
- **Confusion** (over matched ranges): for every editor pair and every range (start, end) both gave a label,
  identical labels are paired first, then the rest in label order; counts are summed over the pairs. Editors in a
  pair have no order, so the matrix is symmetric: a disagreement PERSON/ORG counts in both of its cells.
- A figure that is undefined (no spans on either side, no tokens, κ or α with no variation) is ``None``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, combinations

# (label id, start, end, span id); the id only orders spans that start and end at the same place.
SpanTuple = tuple[int, int, int, int]

_PENDING_BYTES = 1 << 20  # packed token pairs waiting to be tallied, per editor pair

AGREEMENT_METRICS = ("exact_f1", "overlap_f1", "cohen_kappa", "krippendorff_alpha")
GOLD_METRICS = ("precision", "recall", "f1")


@dataclass(frozen=True, slots=True)
class ArticleLayers:
    """One article's input: its token boundaries, each finished editor's spans, and gold (None: no gold layer)."""

    article_id: int
    token_starts: Sequence[int]
    token_ends: Sequence[int]
    layers: Mapping[int, Sequence[SpanTuple]]  # editor id → spans
    gold: Sequence[SpanTuple] | None = None


def token_tags(
    starts: Sequence[int], ends: Sequence[int], spans: Iterable[SpanTuple], codes: Mapping[int, int]
) -> bytearray:
    """Per token, the code (``codes[label]``, 1–255) of the label the CoNLL export tags it with in one layer;
    0 is ``O``.

    The rule of ``annotations.exports.conll.tag_article``, applied to stored token boundaries so an article is
    not tokenized again on every run (``tests/annotations/agreement`` checks both give the same tags): spans in
    export order (start, longest first, id); one not starting and ending on token boundaries is left out, an
    identical one counts once, one sharing a token with a span already tagged is left out.
    """
    n = len(starts)
    tags = bytearray(n)
    kept: set[tuple[int, int, int]] = set()
    for label, start, end, _ in sorted(spans, key=lambda s: (s[1], -s[2], s[3])):
        first = bisect_left(starts, start)
        last = bisect_left(ends, end)
        if first >= n or starts[first] != start or last >= n or ends[last] != end:
            continue
        key = (label, start, end)
        if key in kept:
            continue
        width = last + 1 - first
        if tags.count(0, first, last + 1) != width:
            continue
        kept.add(key)
        tags[first : last + 1] = bytes((codes[label],)) * width
    return tags


class _Intervals:
    """One label's spans of a layer, sorted by start, with what an overlap test needs precomputed."""

    __slots__ = ("items", "reach", "starts")

    def __init__(self, items: list[tuple[int, int]]):
        self.items = sorted(items)
        self.starts = [start for start, _ in self.items]
        self.reach = list(accumulate((end for _, end in self.items), max))  # furthest end up to here

    def overlapped_by(self, others: _Intervals) -> int:
        """How many of these share a code point with one of ``others``."""
        starts, reach = others.starts, others.reach
        hits = 0
        for start, end in self.items:
            i = bisect_left(starts, end)  # others starting before this one ends
            if i and reach[i - 1] > start:
                hits += 1
        return hits


_NONE = _Intervals([])


class _Layer:
    """One editor's (or gold's) spans on one article, prepared for comparisons."""

    __slots__ = ("by_label", "exact", "ranges", "tokens")

    def __init__(
        self,
        spans: Sequence[SpanTuple],
        starts: Sequence[int] | None = None,
        ends: Sequence[int] | None = None,
        codes: Mapping[int, int] | None = None,
    ):
        self.exact: set[tuple[int, int, int]] = {(label, start, end) for label, start, end, _ in spans}
        by_label: dict[int, list[tuple[int, int]]] = defaultdict(list)
        ranges: dict[tuple[int, int], list[int]] = defaultdict(list)
        for label, start, end in self.exact:
            by_label[label].append((start, end))
            ranges[(start, end)].append(label)
        self.by_label = {label: _Intervals(intervals) for label, intervals in by_label.items()}
        self.ranges = ranges
        self.tokens = (
            token_tags(starts, ends, spans, codes) if starts is not None and ends is not None and codes else bytearray()
        )


@dataclass
class SpanCounts:
    """Per label: spans of A and of B, exact matches, and spans of A / of B overlapped by the other side."""

    a: Counter = field(default_factory=Counter)
    b: Counter = field(default_factory=Counter)
    exact: Counter = field(default_factory=Counter)
    overlap_a: Counter = field(default_factory=Counter)
    overlap_b: Counter = field(default_factory=Counter)

    def add(self, first: _Layer, second: _Layer) -> None:
        for label in first.by_label.keys() | second.by_label.keys():
            mine = first.by_label.get(label, _NONE)
            theirs = second.by_label.get(label, _NONE)
            self.a[label] += len(mine.items)
            self.b[label] += len(theirs.items)
            if mine.items and theirs.items:
                self.overlap_a[label] += mine.overlapped_by(theirs)
                self.overlap_b[label] += theirs.overlapped_by(mine)
        self.exact.update(label for label, _, _ in first.exact & second.exact)

    def total(self, counter: Counter, label: int | None) -> int:
        return sum(counter.values()) if label is None else counter[label]


@dataclass
class PairStats:
    """Sufficient statistics for one editor pair: span counts, token confusion (A's label, B's label) → tokens,
    label confusion over matched ranges, and the number of shared articles."""

    articles: int = 0
    spans: SpanCounts = field(default_factory=SpanCounts)
    tokens: Counter = field(default_factory=Counter)  # (code of A, code of B) → tokens, when codes reach 16
    packed: Counter = field(default_factory=Counter)  # code of A · 16 + code of B → tokens, below 16 codes
    pending: bytearray = field(default_factory=bytearray)  # packed pairs not yet tallied into ``packed``
    ranges: Counter = field(default_factory=Counter)

    def add(self, first: _Layer, second: _Layer, narrow: bool) -> None:
        self.articles += 1
        self.spans.add(first, second)
        a, b = first.tokens, second.tokens
        if narrow:
            # The hot loop of a run. Codes below 16 fit in half a byte: shifting A's tags by four bits and adding
            # B's puts each token's pair in one byte. O/O tokens (byte 0, most of them) are counted and dropped;
            # the rest wait in ``pending`` and are tallied in C a megabyte at a time (memory stays bounded).
            joint = ((int.from_bytes(a) << 4) | int.from_bytes(b)).to_bytes(len(a))
            self.packed[0] += joint.count(0)
            self.pending += joint.translate(None, b"\0")
            if len(self.pending) >= _PENDING_BYTES:
                self._tally()
        else:
            self.tokens.update(zip(a, b, strict=True))
        mine, theirs = first.ranges, second.ranges
        for where in mine.keys() & theirs.keys():
            a_labels, b_labels = mine[where], theirs[where]
            if len(a_labels) == 1 and a_labels == b_labels:  # the usual case: one label each, the same
                self.ranges[(a_labels[0], a_labels[0])] += 1
                continue
            a_set, b_set = set(a_labels), set(b_labels)
            for label in a_set & b_set:
                self.ranges[(label, label)] += 1
            for pair in zip(sorted(a_set - b_set), sorted(b_set - a_set), strict=False):
                self.ranges[pair] += 1

    def _tally(self) -> None:
        self.packed.update(self.pending)
        self.pending.clear()

    def confusion(self) -> Counter:
        """Tokens by (code of A's label, code of B's label)."""
        self._tally()
        out = Counter(self.tokens)
        for packed, n in self.packed.items():
            out[(packed >> 4, packed & 15)] += n
        return out


@dataclass
class GoldStats:
    """One editor against gold: per label, the editor's spans, gold spans, exact matches; articles compared."""

    articles: int = 0
    spans: SpanCounts = field(default_factory=SpanCounts)


def f1_exact(counts: SpanCounts, label: int | None) -> float | None:
    a, b = counts.total(counts.a, label), counts.total(counts.b, label)
    if a + b == 0:
        return None
    return 2 * counts.total(counts.exact, label) / (a + b)


def f1_overlap(counts: SpanCounts, label: int | None) -> float | None:
    a, b = counts.total(counts.a, label), counts.total(counts.b, label)
    if a + b == 0:
        return None
    recall = counts.total(counts.overlap_a, label) / a if a else 0.0
    precision = counts.total(counts.overlap_b, label) / b if b else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _binary(confusion: Mapping[tuple[int, int], int], label: int) -> dict[tuple[int, int], int]:
    """Collapse a confusion matrix to "this label (1) or not (0)"."""
    out: Counter = Counter()
    for (a, b), n in confusion.items():
        out[(int(a == label), int(b == label))] += n
    return out


def cohen_kappa(confusion: Mapping[tuple[int, int], int]) -> float | None:
    """Cohen's κ from a confusion matrix {(A's value, B's value): count}; None without items or variation."""
    n = sum(confusion.values())
    if n == 0:
        return None
    rows: Counter = Counter()
    cols: Counter = Counter()
    agreed = 0
    for (a, b), count in confusion.items():
        rows[a] += count
        cols[b] += count
        if a == b:
            agreed += count
    expected = sum(rows[v] * cols[v] for v in rows) / n
    if expected == n:
        return None
    return (agreed - expected) / (n - expected)


def krippendorff_alpha(coincidences: Mapping[tuple[int, int], float]) -> float | None:
    """Nominal α from a coincidence matrix {(c, k): o_ck}; None with fewer than two pairable values or one value."""
    totals: defaultdict[int, float] = defaultdict(float)
    for (c, _), o in coincidences.items():
        totals[c] += o
    n = sum(totals.values())
    if n <= 1:
        return None
    expected = n * n - sum(t * t for t in totals.values())  # Σ_{c≠k} n_c·n_k
    if expected <= 0:
        return None
    observed = sum(o for (c, k), o in coincidences.items() if c != k)
    return 1 - (n - 1) * observed / expected


def pair_coincidences(confusion: Mapping[tuple[int, int], int]) -> Counter:
    """Two coders: every unit holds two values, so each contributes once as (a, b) and once as (b, a)."""
    out: Counter = Counter()
    for (a, b), n in confusion.items():
        out[(a, b)] += n
        out[(b, a)] += n
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


class Agreement:
    """Streaming accumulator: ``add`` each article, then ``report``."""

    def __init__(self, *, labels: Sequence[int]):
        self.labels = list(labels)
        if len(self.labels) > 255:
            raise ValueError("agreement handles up to 255 labels at once (a token's label is one byte)")
        self.codes = {label: code for code, label in enumerate(self.labels, start=1)}
        self.narrow = len(self.labels) < 16
        self.articles = 0
        self.editors: set[int] = set()
        self.pairs: dict[tuple[int, int], PairStats] = defaultdict(PairStats)
        self.gold: dict[int, GoldStats] = defaultdict(GoldStats)

    def add(self, article: ArticleLayers) -> None:
        if not article.layers:
            return
        self.articles += 1
        codes = self.codes
        starts, ends = article.token_starts, article.token_ends
        layers = {
            editor: _Layer([s for s in spans if s[0] in codes], starts, ends, codes)
            for editor, spans in article.layers.items()
        }
        editors = sorted(layers)
        self.editors.update(editors)
        for a, b in combinations(editors, 2):
            self.pairs[(a, b)].add(layers[a], layers[b], self.narrow)
        if article.gold is not None:
            gold = _Layer([s for s in article.gold if s[0] in codes])
            for editor in editors:
                stats = self.gold[editor]
                stats.articles += 1
                stats.spans.add(layers[editor], gold)

    def report(self, *, label_names: Mapping[int, str], editor_names: Mapping[int, str]) -> Report:
        """Figures with names; editors and pairs in name order, labels in the order given to the constructor."""
        editors = sorted(self.editors, key=lambda e: editor_names[e])
        order = {e: i for i, e in enumerate(editors)}
        pairs = []
        for (a, b), stats in sorted(self.pairs.items(), key=lambda item: sorted(order[e] for e in item[0])):
            swap = order[a] > order[b]
            figures = _pair_figures(stats, self.labels, self.codes)
            first, second = (b, a) if swap else (a, b)
            pairs.append(PairReport(editor_names[first], editor_names[second], stats.articles, figures))
        scopes: list[int | None] = [*self.labels, None]
        average = {
            scope: {metric: _mean(p.figures[scope][metric] for p in pairs) for metric in AGREEMENT_METRICS}
            for scope in scopes
        }
        gold = {scope: {editor_names[e]: _gold_figures(self.gold.get(e), scope) for e in editors} for scope in scopes}
        confusion: Counter = Counter()
        for stats in self.pairs.values():
            confusion.update(stats.ranges)
        return Report(
            articles=self.articles,
            editors=[editor_names[e] for e in editors],
            labels=[label_names[label] for label in self.labels],
            average={_name(scope, label_names): figures for scope, figures in average.items()},
            gold={_name(scope, label_names): figures for scope, figures in gold.items()},
            pairs=[p.named(label_names) for p in pairs],
            confusion=[
                [confusion[(a, b)] + (confusion[(b, a)] if a != b else 0) for b in self.labels] for a in self.labels
            ],
        )


def _name(scope: int | None, label_names: Mapping[int, str]) -> str | None:
    return None if scope is None else label_names[scope]


def _pair_figures(stats: PairStats, labels: Sequence[int], codes: Mapping[int, int]) -> dict[int | None, dict]:
    """κ and α are symmetric in the two editors, so the pair's order does not matter here."""
    figures: dict[int | None, dict] = {}
    multi = stats.confusion()
    for scope in [*labels, None]:
        confusion = multi if scope is None else _binary(multi, codes[scope])
        figures[scope] = {
            "exact_f1": f1_exact(stats.spans, scope),
            "overlap_f1": f1_overlap(stats.spans, scope),
            "cohen_kappa": cohen_kappa(confusion),
            "krippendorff_alpha": krippendorff_alpha(pair_coincidences(confusion)),
        }
    return figures


def _gold_figures(stats: GoldStats | None, scope: int | None) -> dict[str, float | None]:
    if stats is None:
        return dict.fromkeys(GOLD_METRICS)
    counts = stats.spans
    mine, gold = counts.total(counts.a, scope), counts.total(counts.b, scope)
    matched = counts.total(counts.exact, scope)
    return {
        "precision": matched / mine if mine else None,
        "recall": matched / gold if gold else None,
        "f1": 2 * matched / (mine + gold) if mine + gold else None,
    }


@dataclass
class PairReport:
    first: str
    second: str
    articles: int
    figures: dict  # label id or None (overall) → metric → value

    def named(self, label_names: Mapping[int, str]) -> PairReport:
        return PairReport(
            self.first,
            self.second,
            self.articles,
            {_name(scope, label_names): values for scope, values in self.figures.items()},
        )


@dataclass
class Report:
    """Named figures: ``average``/``gold`` map a label name, or None for overall, to metric → value."""

    articles: int
    editors: list[str]
    labels: list[str]
    average: dict[str | None, dict[str, float | None]]
    gold: dict[str | None, dict[str, dict[str, float | None]]]
    pairs: list[PairReport]
    # Symmetric, in ``labels`` order: [a][b] = matched ranges where one editor of a pair said a and the other b.
    confusion: list[list[int]]

    def as_json(self) -> dict:
        """The ``manage.py agreement --format json`` object."""

        def scope(name: str | None) -> dict:
            return {**self.average[name], "gold": self.gold[name]}

        return {
            "articles": self.articles,
            "editors": self.editors,
            "labels": {name: scope(name) for name in self.labels},
            "overall": scope(None),
            "pairs": [
                {
                    "editors": [p.first, p.second],
                    "articles": p.articles,
                    "labels": {name: p.figures[name] for name in self.labels},
                    "overall": p.figures[None],
                }
                for p in self.pairs
            ],
            "confusion": {"labels": self.labels, "counts": self.confusion},
        }
