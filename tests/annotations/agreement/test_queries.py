"""Agreement read from PostgreSQL: which layers count, the token cache, filters, and the command's output."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from annotations.agreement.metrics import Agreement, ArticleLayers
from annotations.agreement.models import ArticleTokens
from annotations.agreement.queries import Scope, iter_article_layers
from annotations.agreement.report import agreement_compute, scope_articles
from annotations.agreement.services import article_tokens_fill
from annotations.agreement.tokens import TOKENIZER, pack, unpack
from annotations.exports import conll
from tests.annotations.agreement.conftest import BODY, finish, make_editor, span


def reference(desk, labels, label_ids) -> dict:
    """The same figures from the pure accumulator, fed by hand from the fixture's spans."""
    agreement = Agreement(labels=label_ids)
    for article in (desk["first"], desk["second"]):
        tokens = conll.tokenize(article.body)
        layers: dict[int, list] = {}
        for s in article.spans.exclude(annotator__username="rev").order_by("start", "-end", "id"):
            if s.label_id in label_ids:
                layers.setdefault(s.annotator_id, []).append((s.label_id, s.start, s.end, s.pk))
            else:
                layers.setdefault(s.annotator_id, [])
        agreement.add(ArticleLayers(article.pk, [t.start for t in tokens], [t.end for t in tokens], layers))
    names = {desk[n].pk: n for n in ("ana", "bo", "cy")}
    return agreement.report(label_names={label.pk: label.name for label in labels.values()}, editor_names=names)


def run_json(*args) -> dict:
    out = io.StringIO()
    call_command("agreement", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_command_json_has_the_documented_shape_and_the_accumulators_numbers(desk, labels):
    result = run_json()
    ordered = [label.pk for label in sorted(labels.values(), key=lambda label: (label.ordering, label.name))]
    expected = reference(desk, labels, ordered).as_json()
    assert result == json.loads(json.dumps(expected))
    assert result["articles"] == 2
    assert result["editors"] == ["ana", "bo", "cy"]
    assert set(result["labels"]) == {"PERSON", "ORG", "CLAIM", "SPONSORED"}
    assert set(result["overall"]) == {"exact_f1", "overlap_f1", "cohen_kappa", "krippendorff_alpha", "gold"}
    # ana × bo share both articles: PERSON 0-12 identical, ORG 16-34 vs 16-26, and 0-4 PERSON vs ORG.
    pair = next(p for p in result["pairs"] if p["editors"] == ["ana", "bo"])
    assert pair["articles"] == 2
    assert pair["overall"]["exact_f1"] == pytest.approx(2 * 1 / (3 + 3))
    # cy finished only the second article: its pairs have one article each.
    assert {tuple(p["editors"]): p["articles"] for p in result["pairs"]} == {
        ("ana", "bo"): 2,
        ("ana", "cy"): 1,
        ("bo", "cy"): 1,
    }
    assert result["overall"]["gold"] == {
        e: {"precision": None, "recall": None, "f1": None} for e in ("ana", "bo", "cy")
    }
    # The matched range 0-4 on the second article: ana and cy say PERSON, bo says ORG (twice PERSON/ORG).
    confusion = dict(zip(result["confusion"]["labels"], result["confusion"]["counts"], strict=True))
    assert confusion["PERSON"][:2] == [2, 2]


def test_label_filter_keeps_finished_layers_without_that_label(desk, labels):
    result = run_json("--label", "org")
    assert list(result["labels"]) == ["ORG"]
    expected = reference(desk, labels, [labels["org"].pk]).as_json()
    assert result == json.loads(json.dumps(expected))
    # cy made no ORG span, but finished the second article: an empty ORG layer that disagrees with bo's.
    pair = next(p for p in result["pairs"] if p["editors"] == ["bo", "cy"])
    assert pair["overall"]["exact_f1"] == 0


def test_source_filter(desk):
    result = run_json("--source", "wire.example")
    assert result["articles"] == 1
    assert result["editors"] == ["ana", "bo"]


def test_unknown_label_or_source_is_an_error_naming_what_exists(desk):
    with pytest.raises(CommandError, match="unknown label 'nope'; known: CLAIM, ORG, PERSON, SPONSORED"):
        run_json("--label", "nope")
    with pytest.raises(CommandError, match="unknown source 'nowhere'"):
        run_json("--source", "nowhere")


def test_csv_layout(desk):
    out = io.StringIO()
    call_command("agreement", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["scope", "editor_a", "editor_b", "label", "label_b", "metric", "value"]
    assert rows[0] == {
        "scope": "articles",
        "editor_a": "",
        "editor_b": "",
        "label": "",
        "label_b": "",
        "metric": "articles",
        "value": "2",
    }
    result = run_json()
    for row in rows:
        if row["scope"] == "average":
            scope = result["overall"] if row["label"] == "overall" else result["labels"][row["label"]]
            value = scope[row["metric"]]
            assert row["value"] == ("" if value is None else repr(value))
    assert {r["scope"] for r in rows} == {"articles", "average", "pair", "gold", "confusion"}


def test_table_output_is_readable(desk):
    out = io.StringIO()
    call_command("agreement", stdout=out)
    text = out.getvalue()
    assert "Articles with a finished layer: 2" in text
    assert "ana × bo (2 articles)" in text


def test_tokens_are_stored_once_and_refilled_when_stale(desk):
    tokenized: list[int] = []
    agreement_compute(Scope(), on_tokenized=tokenized.append)
    assert tokenized == [2]  # the unfinished article is never tokenized
    stored = ArticleTokens.objects.get(article=desk["first"])
    tokens = conll.tokenize(BODY)
    assert list(unpack(stored.starts)) == [t.start for t in tokens]
    assert list(unpack(stored.ends)) == [t.end for t in tokens]
    assert bytes(stored.starts)[:8] == b"\0\0\0\0\0\0\0\5"  # big-endian 0, 5, as int4send writes them
    assert stored.tokenizer == TOKENIZER and stored.body_sha256 == desk["first"].body_sha256
    assert ArticleTokens.objects.count() == 2
    # A second run reads them: nothing is tokenized again, and the figures are the same.
    first = agreement_compute(Scope()).as_json()
    tokenized.clear()
    assert agreement_compute(Scope(), on_tokenized=tokenized.append).as_json() == first
    assert tokenized == []
    # Stale rows (another tokenizer; boundaries of another body) are never read: tokenized again and replaced.
    ArticleTokens.objects.filter(article=desk["first"]).update(tokenizer="old", starts=pack([0]), ends=pack([4]))
    ArticleTokens.objects.filter(article=desk["second"]).update(body_sha256="0" * 64, starts=pack([0]), ends=pack([1]))
    assert agreement_compute(Scope(), on_tokenized=tokenized.append).as_json() == first
    assert tokenized == [2]
    assert list(unpack(ArticleTokens.objects.get(article=desk["first"]).starts)) == [t.start for t in tokens]
    assert ArticleTokens.objects.get(article=desk["second"]).body_sha256 == desk["second"].body_sha256


def test_fill_ahead_of_a_run(desk):
    assert article_tokens_fill(articles=scope_articles(Scope())) == 2
    assert article_tokens_fill(articles=scope_articles(Scope())) == 0
    tokenized: list[int] = []
    agreement_compute(Scope(), on_tokenized=tokenized.append)
    assert tokenized == []


def test_stream_yields_each_finished_layer_with_its_spans(desk, labels):
    articles = list(iter_article_layers(Scope()))
    assert [a.article_id for a in articles] == [desk["first"].pk, desk["second"].pk]
    first = articles[0]
    assert set(first.layers) == {desk["ana"].pk, desk["bo"].pk}
    assert sorted(s[:3] for s in first.layers[desk["ana"].pk]) == [
        (labels["person"].pk, 0, 12),
        (labels["org"].pk, 16, 34),
    ]
    assert list(first.token_starts) == [t.start for t in conll.tokenize(BODY)]
    assert first.gold is None


def test_token_rows_must_pair_starts_and_ends(desk):
    agreement_compute(Scope())
    with (
        pytest.raises(IntegrityError, match="articletokens_same_length"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE annotations_articletokens SET starts = int4send(0) || int4send(5), ends = int4send(4) "
            "WHERE article_id = %s",
            [desk["first"].pk],
        )


def test_token_rows_hold_whole_integers(desk):
    agreement_compute(Scope())
    with (
        pytest.raises(IntegrityError, match="articletokens_whole_integers"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE annotations_articletokens SET starts = '\\x000000', ends = '\\x000004' WHERE article_id = %s",
            [desk["first"].pk],
        )


def test_csv_defuses_names_a_spreadsheet_would_run(desk, labels):
    """Usernames may start with @, + or -; in the CSV such a name gets a leading quote unless --raw."""
    plotter = make_editor("@plotter")
    span(desk["first"], plotter, labels["person"], 0, 12)
    finish(desk["first"], plotter)
    out = io.StringIO()
    call_command("agreement", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert "'@plotter" in {r["editor_a"] for r in rows} | {r["editor_b"] for r in rows}
    assert "@plotter" not in {r["editor_a"] for r in rows} | {r["editor_b"] for r in rows}
    raw = io.StringIO()
    call_command("agreement", "--format", "csv", "--raw", stdout=raw)
    assert "@plotter" in {r["editor_a"] for r in csv.DictReader(io.StringIO(raw.getvalue()))}
