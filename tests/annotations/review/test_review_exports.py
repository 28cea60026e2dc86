"""Exports choose the layer: gold rows say so, keep provenance, and never pass for an editor's span."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.exports import ExportFilters, export
from annotations.review import services
from annotations.review.alignment import ConflictKind
from annotations.review.models import GoldSpan
from annotations.review.selectors import review_state
from tests.annotations.review.conftest import BODY, at


@pytest.fixture
def reviewed(article, two_layers, reviewer, editor):
    """Gold: the agreed PERSON, ed's ORG for the label conflict, an adjusted ORG, the rest rejected."""
    services.review_accept_agreed(article=article, reviewer=reviewer)
    conflicts = {c.kind: c for c in review_state(article=article).alignment.conflicts}
    services.review_accept_version(
        article=article, reviewer=reviewer, conflict=conflicts[ConflictKind.LABELS].key, editor_id=editor.pk
    )
    services.review_reject(article=article, reviewer=reviewer, conflict=conflicts[ConflictKind.MISSING].key)
    services.review_accept_version(
        article=article, reviewer=reviewer, conflict=conflicts[ConflictKind.BOUNDARIES].key, editor_id=editor.pk
    )
    return {g.text: g for g in GoldSpan.objects.filter(article=article)}


def csv_rows(layer):
    import csv

    data = b"".join(export("csv", ExportFilters(layer=layer))).decode()
    return list(csv.DictReader(io.StringIO(data, newline="")))


def test_gold_csv_holds_exactly_the_gold_layer_with_code_point_offsets(reviewed, reviewer):
    rows = csv_rows("gold")
    assert [(r["layer"], r["label"], r["start"], r["end"], r["text"], r["annotator"], r["origin"]) for r in rows] == [
        ("gold", "PERSON", *map(str, at("Mara Okonkwo")), "Mara Okonkwo", "rev", "accepted"),
        ("gold", "ORG", *map(str, at("Larchfield Systems")), "Larchfield Systems", "rev", "accepted"),
        ("gold", "ORG", *map(str, at("Quillix Labs")), "Quillix Labs", "rev", "accepted"),
    ]
    for row in rows:
        assert BODY[int(row["start"]) : int(row["end"])] == row["text"]
        assert int(row["span_id"]) == reviewed[row["text"]].pk


def test_all_layers_mark_each_row_and_editors_only_has_no_gold(reviewed, two_layers):
    all_rows = csv_rows("all")
    assert sorted(r["layer"] for r in all_rows) == ["editor"] * 7 + ["gold"] * 3
    # At one place gold comes before the editors' spans.
    first = [r["layer"] for r in all_rows if (r["start"], r["end"]) == tuple(map(str, at("Mara Okonkwo")))]
    assert first == ["gold", "editor", "editor"]
    assert {r["layer"] for r in csv_rows("editors")} == {"editor"}
    assert len(csv_rows("editors")) == 7


def test_jsonl_and_label_studio_carry_the_layer_and_gold_provenance(reviewed, two_layers, editor):
    line = json.loads(b"".join(export("jsonl", ExportFilters(layer="gold"))).decode().splitlines()[0])
    spans = {s["text"]: s for s in line["spans"]}
    assert {s["layer"] for s in line["spans"]} == {"gold"}
    assert spans["Larchfield Systems"]["sources"] == [
        {"span_id": two_layers["labels_a"].pk, "annotator": editor.username, "label": "ORG",
         "start": at("Larchfield Systems")[0], "end": at("Larchfield Systems")[1]},
    ]  # fmt: skip
    assert len(spans["Mara Okonkwo"]["sources"]) == 2
    tasks = json.loads(b"".join(export("label-studio", ExportFilters())).decode())
    layers = sorted(a["layer"] for a in tasks[0]["annotations"])
    assert layers == ["editor", "editor", "gold"]
    gold = next(a for a in tasks[0]["annotations"] if a["layer"] == "gold")
    assert all(r["id"].startswith("gold-") and r["meta"]["layer"] == "gold" for r in gold["result"])


def test_conll_brat_and_w3c_take_gold_when_it_exists_and_say_so(reviewed, tmp_path, researcher, client):
    out = io.StringIO()
    target = tmp_path / "out.conll"
    call_command("export_spans", "--format", "conll", "-o", str(target), stdout=out, stderr=io.StringIO())
    assert "; gold layer (gold by default when the selection has any)" in out.getvalue()
    conll = target.read_text()
    assert "#" not in conll and conll.count("B-ORG") == 2 and conll.count("B-PERSON") == 1
    w3c = json.loads(b"".join(export("w3c", ExportFilters())).decode())
    ids = [item["id"] for item in w3c["first"]["items"]]
    assert w3c["total"] == 3 and all(i.startswith("urn:newsnotes:gold:") for i in ids)
    brat = zipfile.ZipFile(io.BytesIO(b"".join(export("brat", ExportFilters()))))
    ann = next(n for n in brat.namelist() if n.endswith(".ann"))
    assert brat.read(ann).decode().count("\tORG ") == 2
    client.force_login(researcher)
    response = client.get(reverse("annotations:export-download"), {"format": "conll"})
    assert "newsnotes-conll-gold-" in response["Content-Disposition"]
    response = client.get(reverse("annotations:export-download"), {"format": "conll", "layer": "editors"})
    assert "newsnotes-conll-gold-" not in response["Content-Disposition"]
    b"".join(response.streaming_content)


def test_export_from_cli_chooses_the_layer(reviewed):
    out = io.StringIO()
    call_command("export_spans", "--from", "gold", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and all(line.split(",")[1] == "gold" for line in lines[1:])
