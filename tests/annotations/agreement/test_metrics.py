"""Agreement figures against reference implementations, on seeded generated corpora.

References: scikit-learn's ``cohen_kappa_score``, the ``krippendorff`` package (nominal), seqeval 1.2.2's strict IOB2
report; the tokens' labels come from the CoNLL export itself (``conll.tag_article``), never from the code under test.
"""

from __future__ import annotations

import math
import random
import warnings
from itertools import combinations
from types import SimpleNamespace

import krippendorff
import numpy as np
import pytest
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2
from sklearn.metrics import cohen_kappa_score

from annotations.agreement import metrics
from annotations.agreement.metrics import Agreement, ArticleLayers, token_tags
from annotations.exports import conll

LABELS = {1: "PERSON", 2: "ORG", 3: "CLAIM", 4: "SPONSORED"}
CODES = {name: code for code, name in LABELS.items()}
WORDS = [
    "Mara",
    "Okonkwo's",
    "chip",
    "ships",
    "in",
    "May",
    ",",
    "said",
    "Larchfield",
    "👩‍💻",
    "café",
    "e\u0301te\u0301",
    "東京",
    ".",
]


def make_body(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(0, 40))]
    return " ".join(words) or "Empty."


def random_spans(rng: random.Random, body: str, n: int, *, iob: bool, first_id: int) -> list[tuple[int, int, int, int]]:
    """``n`` spans on ``body``. ``iob``: on token boundaries and not sharing tokens; otherwise anything goes
    (overlaps, nesting, same start, offsets inside tokens), as editors make them."""
    tokens = conll.tokenize(body)
    spans: list[tuple[int, int, int, int]] = []
    seen: set[tuple[int, int, int]] = set()
    used: set[int] = set()
    for _ in range(n * 4):
        if len(spans) >= n or not tokens:
            break
        label = rng.choice(list(LABELS))
        first = rng.randrange(len(tokens))
        last = min(len(tokens) - 1, first + rng.choice([0, 0, 1, 2, 5]))
        start, end = tokens[first].start, tokens[last].end
        if iob:
            if used & set(range(first, last + 1)):
                continue
            used.update(range(first, last + 1))
        elif rng.random() < 0.15 and end - start > 1:
            start += 1  # inside a token: the CoNLL export leaves it out
        if (label, start, end) in seen:
            continue
        seen.add((label, start, end))
        spans.append((label, start, end, first_id + len(spans)))
    return spans


def make_corpus(seed: int, *, editors: int, articles: int, iob: bool, finish_rate: float = 0.8, gold: bool = False):
    """Articles with a random subset of editors finished; a reviewer's variant of an editor's layer sometimes."""
    rng = random.Random(seed)
    corpus = []
    next_id = 1
    for article_id in range(1, articles + 1):
        body = make_body(rng)
        base = random_spans(rng, body, rng.randint(0, 8), iob=iob, first_id=next_id)
        next_id += 100
        layers = {}
        for editor in range(1, editors + 1):
            if rng.random() > finish_rate:
                continue
            roll = rng.random()
            if roll < 0.15:
                spans = []  # a finished layer with nothing in it
            elif roll < 0.45:
                spans = list(base)  # agrees exactly
            else:  # edits: drop some, relabel some, add some
                spans = [s for s in base if rng.random() < 0.7]
                spans = [(rng.choice(list(LABELS)), *s[1:]) if rng.random() < 0.2 else s for s in spans]
                extra = random_spans(rng, body, rng.randint(0, 3), iob=False, first_id=next_id)
                next_id += 100
                spans += extra
                if iob:
                    spans = iob_subset(body, spans)
            spans = list({(s[0], s[1], s[2]): s for s in spans}.values())
            layers[editor] = spans
        gold_layer = None
        if gold and rng.random() < 0.7:
            gold_layer = list(base)
        corpus.append((article_id, body, layers, gold_layer))
    return corpus


def iob_subset(body, spans):
    """The spans IOB2 can express for one layer, in the export's own terms (what it keeps)."""
    return [s for s in spans if s[:3] in exported_spans(body, spans)]


def exported_spans(body, spans) -> set[tuple[int, int, int]]:
    tags = conll_tags(body, spans)
    tokens = conll.tokenize(body)
    out = set()
    current = None
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-"):
            current = [CODES[tag[2:]], token.start, token.end]
            out.add(tuple(current))
        elif tag.startswith("I-"):
            out.discard(tuple(current))
            current[2] = token.end
            out.add(tuple(current))
        else:
            current = None
    return out


def conll_tags(body: str, spans) -> list[str]:
    """IOB2 tags of one layer, by the CoNLL export's own function."""
    article = SimpleNamespace(pk=1, body=body)
    ordered = sorted(spans, key=lambda s: (s[1], -s[2], s[3]))
    objects = [
        SimpleNamespace(pk=i, label=LABELS[label], label_id=label, start=a, end=b, annotator="ed")
        for label, a, b, i in ordered
    ]
    lines = conll.tag_article(article, objects, lambda message: None).split("\n")
    return [line.rsplit(" ", 1)[1] for line in lines if line]


def plain(tag: str) -> int:
    return 0 if tag == "O" else CODES[tag[2:]]


def run(corpus, labels=tuple(LABELS)) -> dict:
    agreement = Agreement(labels=list(labels))
    for article_id, body, layers, gold in corpus:
        tokens = conll.tokenize(body)
        agreement.add(ArticleLayers(article_id, [t.start for t in tokens], [t.end for t in tokens], layers, gold))
    names = {e: f"editor{e}" for e in range(1, 10)}
    return agreement.report(label_names=LABELS, editor_names=names).as_json()


def undefined_to_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def kappa_reference(a: list[int], b: list[int]) -> float | None:
    if not a:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return undefined_to_none(cohen_kappa_score(a, b))


def alpha_reference(a: list[int], b: list[int]) -> float | None:
    try:
        return float(krippendorff.alpha(reliability_data=np.array([a, b]), level_of_measurement="nominal"))
    except ValueError:  # "There has to be more than one value in the domain."
        return None


def mean(values):
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def approx(value):
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)


def shared(corpus, a, b):
    return [(body, layers[a], layers[b]) for _, body, layers, _ in corpus if a in layers and b in layers]


def pairs_of(corpus):
    editors = sorted({e for _, _, layers, _ in corpus for e in layers})
    return list(combinations(editors, 2))


SEEDS = [1, 2, 3, 7, 11, 2026]


@pytest.mark.parametrize("seed", SEEDS)
def test_token_labels_are_the_conll_exports_tags(seed):
    rng = random.Random(seed)
    for _ in range(200):
        body = make_body(rng)
        spans = random_spans(rng, body, rng.randint(0, 12), iob=False, first_id=1)
        tokens = conll.tokenize(body)
        ours = token_tags([t.start for t in tokens], [t.end for t in tokens], spans, {code: code for code in LABELS})
        expected = [plain(tag) for tag in conll_tags(body, spans)]
        assert list(ours) == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_kappa_and_alpha_equal_sklearn_and_krippendorff(seed):
    corpus = make_corpus(seed, editors=4, articles=40, iob=False)
    result = run(corpus)
    assert len(result["pairs"]) == len(pairs_of(corpus)) >= 3
    per_pair = {}
    for a, b in pairs_of(corpus):
        seq_a, seq_b = [], []
        for body, spans_a, spans_b in shared(corpus, a, b):
            seq_a += [plain(t) for t in conll_tags(body, spans_a)]
            seq_b += [plain(t) for t in conll_tags(body, spans_b)]
        figures = {"overall": (kappa_reference(seq_a, seq_b), alpha_reference(seq_a, seq_b))}
        for code, name in LABELS.items():
            bin_a = [int(x == code) for x in seq_a]
            bin_b = [int(x == code) for x in seq_b]
            figures[name] = (kappa_reference(bin_a, bin_b), alpha_reference(bin_a, bin_b))
        per_pair[(f"editor{a}", f"editor{b}")] = figures
    for pair in result["pairs"]:
        expected = per_pair[tuple(pair["editors"])]
        assert pair["overall"]["cohen_kappa"] == approx(expected["overall"][0])
        assert pair["overall"]["krippendorff_alpha"] == approx(expected["overall"][1])
        for name in LABELS.values():
            assert pair["labels"][name]["cohen_kappa"] == approx(expected[name][0]), name
            assert pair["labels"][name]["krippendorff_alpha"] == approx(expected[name][1]), name
    for scope, key in [("overall", None), *[(name, name) for name in LABELS.values()]]:
        got = result["overall"] if key is None else result["labels"][key]
        assert got["cohen_kappa"] == approx(mean(f[scope][0] for f in per_pair.values()))
        assert got["krippendorff_alpha"] == approx(mean(f[scope][1] for f in per_pair.values()))


def seqeval_report(true_layers, pred_layers) -> dict:
    """seqeval strict IOB2 over paired articles ``(body, spans)``; one sequence per article."""
    y_true = [conll_tags(body, spans) for body, spans in true_layers]
    y_pred = [conll_tags(body, spans) for body, spans in pred_layers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_exact_span_f1_equals_seqeval_strict_iob2(seed):
    corpus = make_corpus(seed, editors=3, articles=40, iob=True)
    result = run(corpus)
    per_pair = {}
    for a, b in pairs_of(corpus):
        rows = shared(corpus, a, b)
        report = seqeval_report([(body, sa) for body, sa, _ in rows], [(body, sb) for body, _, sb in rows])
        per_pair[(f"editor{a}", f"editor{b}")] = report
    for pair in result["pairs"]:
        report = per_pair[tuple(pair["editors"])]
        for name in LABELS.values():
            expected = report[name]["f1-score"] if name in report else None
            assert pair["labels"][name]["exact_f1"] == approx(expected), name
        micro = report["micro avg"]["f1-score"] if any(name in report for name in LABELS.values()) else None
        assert pair["overall"]["exact_f1"] == approx(micro)
    for name in LABELS.values():
        expected = mean(r[name]["f1-score"] if name in r else None for r in per_pair.values())
        assert result["labels"][name]["exact_f1"] == approx(expected)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_editor_against_gold_equals_seqeval(seed):
    corpus = make_corpus(seed, editors=3, articles=40, iob=True, gold=True)
    result = run(corpus)
    for editor in sorted({e for _, _, layers, _ in corpus for e in layers}):
        rows = [
            (body, layers[editor], gold) for _, body, layers, gold in corpus if editor in layers and gold is not None
        ]
        report = seqeval_report([(body, g) for body, _, g in rows], [(body, s) for body, s, _ in rows])
        name = f"editor{editor}"
        for label in LABELS.values():
            got = result["labels"][label]["gold"][name]
            made = sum(s[0] == CODES[label] for _, spans, _ in rows for s in spans)
            wanted = sum(s[0] == CODES[label] for _, _, gold in rows for s in gold)
            if label not in report:
                assert made == wanted == 0 and got == {"precision": None, "recall": None, "f1": None}
                continue
            assert got["f1"] == approx(report[label]["f1-score"])
            assert got["precision"] == (approx(report[label]["precision"]) if made else None)
            assert got["recall"] == (approx(report[label]["recall"]) if wanted else None)
        overall = result["overall"]["gold"][name]
        assert overall["f1"] == approx(report["micro avg"]["f1-score"] if report else None)


def test_overlap_f1_known_answers():
    body = "Mara Okonkwo of Larchfield Systems said the chip ships in May ."
    tokens = conll.tokenize(body)
    starts, ends = [t.start for t in tokens], [t.end for t in tokens]
    person, org = 1, 2
    a = [(person, 0, 12, 1), (org, 16, 34, 2), (person, 40, 48, 3)]  # Mara Okonkwo; Larchfield Systems; the chip
    b = [(person, 5, 12, 4), (org, 16, 26, 5), (org, 35, 39, 6)]  # Okonkwo; Larchfield; said
    agreement = Agreement(labels=[person, org])
    agreement.add(ArticleLayers(1, starts, ends, {1: a, 2: b}))
    result = agreement.report(label_names={1: "PERSON", 2: "ORG"}, editor_names={1: "a", 2: "b"}).as_json()
    # PERSON: A's Mara Okonkwo meets B's Okonkwo (R = 1/2), B's one span is met (P = 1): F1 = 2/3.
    assert result["labels"]["PERSON"]["overlap_f1"] == pytest.approx(2 / 3)
    # ORG: A's one span met (R = 1), B: Larchfield met, said not (P = 1/2): F1 = 2/3.
    assert result["labels"]["ORG"]["overlap_f1"] == pytest.approx(2 / 3)
    # Overall micro: R = 2/3 of A's spans met, P = 2/3 of B's: F1 = 2/3. No span is identical: exact F1 = 0.
    assert result["overall"]["overlap_f1"] == pytest.approx(2 / 3)
    assert result["overall"]["exact_f1"] == 0
    assert result["confusion"] == {"labels": ["PERSON", "ORG"], "counts": [[0, 0], [0, 0]]}


def test_confusion_over_matched_ranges():
    starts, ends = [0, 5, 10], [4, 9, 14]
    a = [(1, 0, 4, 1), (2, 5, 9, 2), (1, 10, 14, 3)]
    b = [(1, 0, 4, 4), (1, 5, 9, 5)]  # the last range only A made: not matched, not counted
    agreement = Agreement(labels=[1, 2])
    agreement.add(ArticleLayers(1, starts, ends, {7: a, 3: b}))
    result = agreement.report(label_names={1: "PERSON", 2: "ORG"}, editor_names={7: "zed", 3: "amy"}).as_json()
    assert result["editors"] == ["amy", "zed"]
    assert result["confusion"]["counts"] == [[1, 1], [1, 0]]
    assert result["pairs"][0]["editors"] == ["amy", "zed"]


def test_no_spans_anywhere_gives_undefined_agreement():
    corpus = [(1, "Nothing to see here.", {1: [], 2: []}, None)]
    result = run(corpus)
    assert result["articles"] == 1
    for key in ("exact_f1", "overlap_f1", "cohen_kappa", "krippendorff_alpha"):
        assert result["overall"][key] is None
        assert result["labels"]["PERSON"][key] is None
    # The references agree: no variation, κ is NaN and α refuses.
    seq = [0, 0, 0, 0, 0]
    assert kappa_reference(seq, seq) is None and alpha_reference(seq, seq) is None


def test_one_editor_has_no_pairs():
    corpus = make_corpus(5, editors=1, articles=10, iob=False, finish_rate=1.0, gold=True)
    result = run(corpus)
    assert result["editors"] == ["editor1"] and result["pairs"] == []
    assert all(result["overall"][key] is None for key in ("exact_f1", "overlap_f1", "cohen_kappa"))
    assert result["overall"]["gold"]["editor1"]["f1"] is not None


def test_perfect_agreement():
    corpus = make_corpus(9, editors=3, articles=20, iob=False, finish_rate=1.0)
    corpus = [
        (i, body, dict.fromkeys(layers, layers[min(layers)]) if layers else {}, None) for i, body, layers, _ in corpus
    ]
    result = run(corpus)
    assert result["overall"]["exact_f1"] == 1
    assert result["overall"]["overlap_f1"] == 1
    assert result["overall"]["cohen_kappa"] == pytest.approx(1)
    assert result["overall"]["krippendorff_alpha"] == pytest.approx(1)


def test_gold_null_without_gold_layer_and_zero_precision_on_empty_gold():
    body = "Mara Okonkwo said ."
    tokens = conll.tokenize(body)
    starts, ends = [t.start for t in tokens], [t.end for t in tokens]
    agreement = Agreement(labels=[1])
    agreement.add(ArticleLayers(1, starts, ends, {1: [(1, 0, 12, 1)]}, gold=None))
    names = {"label_names": {1: "PERSON"}, "editor_names": {1: "ed"}}
    assert agreement.report(**names).as_json()["overall"]["gold"] == {
        "ed": {"precision": None, "recall": None, "f1": None}
    }
    agreement.add(ArticleLayers(2, starts, ends, {1: [(1, 0, 12, 2)]}, gold=[]))
    gold = agreement.report(**names).as_json()["overall"]["gold"]["ed"]
    assert gold == {"precision": 0.0, "recall": None, "f1": 0.0}


def test_pairs_are_averaged_only_where_defined():
    starts, ends = [0, 5], [4, 9]
    agreement = Agreement(labels=[1])
    # Pair (1, 2) shares article 1 with spans; pair (1, 3) and (2, 3) share article 2 where nobody labelled anything.
    agreement.add(ArticleLayers(1, starts, ends, {1: [(1, 0, 4, 1)], 2: [(1, 0, 4, 2), (1, 5, 9, 3)]}))
    agreement.add(ArticleLayers(2, starts, ends, {1: [], 2: [], 3: []}))
    result = agreement.report(label_names={1: "PERSON"}, editor_names={1: "a", 2: "b", 3: "c"}).as_json()
    by_pair = {tuple(p["editors"]): p for p in result["pairs"]}
    assert by_pair[("a", "b")]["overall"]["exact_f1"] == pytest.approx(2 / 3)
    assert by_pair[("a", "c")]["overall"]["exact_f1"] is None
    assert by_pair[("a", "b")]["articles"] == 2 and by_pair[("b", "c")]["articles"] == 1
    assert result["overall"]["exact_f1"] == pytest.approx(2 / 3)


def test_sixteen_labels_or_more_give_the_same_figures():
    """Below 16 labels token pairs are tallied packed in a byte; from 16 on, as pairs. Both must agree."""
    corpus = make_corpus(4, editors=3, articles=30, iob=False)
    narrow = run(corpus)
    unused = {100 + n: f"UNUSED{n}" for n in range(14)}
    wide = Agreement(labels=[*LABELS, *unused])
    assert not wide.narrow
    for article_id, body, layers, gold in corpus:
        tokens = conll.tokenize(body)
        wide.add(ArticleLayers(article_id, [t.start for t in tokens], [t.end for t in tokens], layers, gold))
    result = wide.report(
        label_names={**LABELS, **unused}, editor_names={e: f"editor{e}" for e in range(1, 10)}
    ).as_json()
    for name in LABELS.values():
        assert result["labels"][name] == narrow["labels"][name]
    for key in ("cohen_kappa", "krippendorff_alpha", "exact_f1"):
        assert result["overall"][key] == approx(narrow["overall"][key])


def test_token_pairs_tallied_in_batches_give_the_same_figures(monkeypatch):
    """Packed token pairs wait in a buffer tallied a megabyte at a time; tally after every few bytes instead."""
    corpus = make_corpus(6, editors=3, articles=30, iob=False)
    whole = run(corpus)
    monkeypatch.setattr(metrics, "_PENDING_BYTES", 8)
    assert run(corpus) == whole
