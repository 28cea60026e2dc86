"""``manage.py export_spans``: formats, filters by name, the summary line, and no half-written files."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from annotations import exports
from annotations.exports import ExportFilters
from tests.annotations.export_fixtures import build_corpus, export_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(db):
    return build_corpus()


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_spans", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("key", ["csv", "articles-csv", "jsonl", "label-studio", "conll", "w3c", "brat"])
def test_writes_each_format_to_a_file(tmp_path, corpus, key):
    target = tmp_path / f"out.{key}"
    out, _ = run("--format", key, "-o", target)
    if key == "brat":
        assert target.read_bytes()[:2] == b"PK"
    else:
        assert target.read_bytes() == export_bytes(key)
    unit = {"csv": "6 spans", "w3c": "6 spans"}.get(key, "3 articles")
    assert out.startswith(f"wrote {unit} ({exports.FORMATS[key].title}) to {target}")
    assert not (tmp_path / f"out.{key}.partial").exists()


def test_csv_is_the_default_and_goes_to_standard_output(corpus):
    out, err = run()
    assert out == export_bytes("csv").decode()
    assert err == "wrote 6 spans (Span CSV (one row per span)) to standard output; gold and editors' layers\n"


def test_filters_by_name(tmp_path, corpus):
    target = tmp_path / "claims.csv"
    run(
        "-o", target, "--label", "claim", "--label", "org", "--annotator", "@lice", "--source", "Blog.Example",
        "--status", "in_annotation", "--origin", "manual", "--published-from", "2026-02-03", "--published-to",
        "2026-02-03", "--raw", "--bom",
    )  # fmt: skip
    filters = ExportFilters(
        labels=tuple(sorted([corpus["labels"]["claim"].pk, corpus["labels"]["org"].pk])),
        annotators=(corpus["users"]["@lice"].pk,),
        sources=(corpus["articles"][1].source_id,),
        statuses=("in_annotation",),
        origins=("manual",),
        published_from=dt.date(2026, 2, 3),
        published_to=dt.date(2026, 2, 3),
    )
    assert target.read_bytes() == export_bytes("csv", filters=filters, neutralise=False, bom=True)
    assert target.read_bytes().count(b"\n") == 2


def test_offsets_and_annotated_only(tmp_path, corpus):
    target = tmp_path / "d.jsonl"
    run("--format", "jsonl", "--offsets", "utf16", "--annotated-only", "-o", target)
    assert target.read_bytes() == export_bytes("jsonl", filters=ExportFilters(annotated_only=True), utf16=True)
    assert target.read_bytes().count(b"\n") == 2


def test_unknown_names_are_errors_listing_what_exists(corpus):
    with pytest.raises(CommandError, match=r"unknown label 'PLACE'; known: CLAIM, ORG, PERSON, SPONSORED"):
        run("--label", "PLACE")
    with pytest.raises(CommandError, match=r"unknown annotator 'nobody'; known: .*@lice.*ed"):
        run("--annotator", "nobody")
    with pytest.raises(CommandError, match="is not a date"):
        run("--published-from", "03/02/2026")


def test_conll_layer_and_dropped_spans_on_stderr(tmp_path, corpus):
    target = tmp_path / "all.conll"
    out, err = run("--format", "conll", "-o", target)
    assert err.splitlines() == [
        "left out: span 2 ORG 32-42 (article 1): overlaps span 3 CLAIM 32-86",
        "left out: span 5 ORG 112-118 (article 1): overlaps span 4 SPONSORED 93-118",
        "left out: span 6 CLAIM 15-36 (article 2): does not start and end on token boundaries",
        "note: spans by 2 annotators (@lice, ed) share one tag layer per article; export one with --annotator NAME",
    ]
    assert out.endswith("; 3 left out, 1 note (listed above; the file holds tokens and tags only)\n")
    assert "#" not in target.read_text()
    target = tmp_path / "org.conll"
    # The old CoNLL-only --layer LABEL is the --label filter every format has; --from chooses the layer.
    out, err = run("--format", "conll", "--label", "ORG", "--annotator", "ed", "-o", target)
    assert err == "" and target.read_text().count("B-ORG") == 1
    assert "editors' layers (gold by default when the selection has any)" in out


def test_brat_needs_a_file(corpus):
    with pytest.raises(CommandError, match=r"brat exports a zip; write it to a file with -o PATH\.zip"):
        run("--format", "brat")


def test_a_failed_export_leaves_no_file(tmp_path, corpus, monkeypatch):
    def failing(*args, **kwargs):
        yield b"span_id,"
        raise RuntimeError("connection lost")

    monkeypatch.setattr("annotations.management.commands.export_spans.export", failing)
    target = tmp_path / "out.csv"
    target.write_bytes(b"an older export")
    with pytest.raises(RuntimeError, match="connection lost"):
        run("-o", target)
    assert target.read_bytes() == b"an older export"
    assert not (tmp_path / "out.csv.partial").exists()


def test_text_filter(tmp_path, corpus):
    target = tmp_path / "orrin.csv"
    run("-o", target, "--q", "Orr")
    assert target.read_bytes() == export_bytes("csv", filters=ExportFilters(q="Orr"))
    assert target.read_bytes().count(b"\n") == 1 + sum(
        b"-12% at Orrin" in line for line in export_bytes("csv").splitlines()
    )
