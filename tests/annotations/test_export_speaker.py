"""Issue 14 defect 4: no export holds a claim's ``speaker_span`` once that span is deleted (its name stays)."""

import csv
import io
import json

import pytest

from annotations.exports import ExportFilters
from annotations.exports.spans_csv import stream_spans_csv, stream_spans_csv_cursor
from annotations.spans import claims
from annotations.spans.services import span_create, span_delete
from tests.annotations.export_fixtures import export_bytes
from tests.factories import ArticleFactory

BODY = "Mara Okonkwo said the chip ships in May."


@pytest.fixture
def claim_without_its_speaker(db, editor, labels):
    article = ArticleFactory(body=BODY)
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    claim = span_create(article=article, label=labels["claim"], start=13, end=39, annotator=editor)
    claims.span_set_details(span=claim, actor=editor, note="", speaker="", speaker_span=person.pk, verdict="disputed")
    span_delete(span=person, actor=editor)
    return claim


def test_span_csv_drops_a_dangling_speaker_span_both_paths(claim_without_its_speaker):
    for stream in (stream_spans_csv, stream_spans_csv_cursor):
        rows = list(csv.DictReader(io.StringIO(b"".join(stream()).decode())))
        assert [json.loads(row["attributes"]) for row in rows] == [{"speaker": "Mara Okonkwo", "verdict": "disputed"}]


def test_json_exports_drop_a_dangling_speaker_span(claim_without_its_speaker):
    for line in export_bytes("jsonl", ExportFilters()).decode().splitlines():
        for span in json.loads(line).get("spans", []):
            assert "speaker_span" not in span["attributes"]
    assert b"speaker_span" not in export_bytes("label-studio", ExportFilters())


def test_a_live_speaker_span_is_kept(db, editor, labels):
    article = ArticleFactory(body=BODY)
    person = span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    claim = span_create(article=article, label=labels["claim"], start=13, end=39, annotator=editor)
    claims.span_set_details(span=claim, actor=editor, note="", speaker="", speaker_span=person.pk, verdict=None)
    rows = list(csv.DictReader(io.StringIO(b"".join(stream_spans_csv()).decode())))
    assert [json.loads(row["attributes"]).get("speaker_span") for row in rows] == [None, person.pk]
