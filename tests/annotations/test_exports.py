"""The span CSV and the article CSV, byte for byte, on a corpus with quotes, commas, newlines, emoji and formulas."""

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection

from annotations.exports import ExportFilters, common, stream_spans_csv
from annotations.exports.spans_csv import CANONICAL_JSON_FUNCTION, stream_spans_csv_cursor
from annotations.models import Span
from tests.annotations.export_fixtures import BODY_1, BODY_2, build_corpus, export_bytes

pytestmark = pytest.mark.django_db

HEADER = (
    "span_id,layer,article_id,article_url,source,title,published_at,label,start,end,text,annotator,origin,"
    "created_at,updated_at,note,attributes\n"
)
A1 = '1,"https://wirefeed.example/1?a=1,2",wirefeed.example,"Quotes, ""commas"" and =cmd|",2026-01-14T09:30:00.000000Z'
SPAN_CSV = (
    HEADER + f'1,editor,{A1},PERSON,0,23,"Mara ""The Chip"" Okonkwo",ed,manual,2026-03-04T05:06:07.123456Z,'
    '2026-03-04T05:06:37.123456Z,"Nickname in ""quotes"", kept",{}\n'
    + f'3,editor,{A1},CLAIM,32,86,"Larchfield, said:\n'
    "=cmd|' /C calc'!A0 is not a formula.\",ed,manual,2026-03-04T05:08:07.123456Z,2026-03-04T05:08:37.123456Z,"
    '"\'-spans a line break\nand a comma, too",'
    '"{""n"":2,""speaker"":""Mara Okonkwo"",""speaker_span"":1,""verdict"":""disputed"",""ünïcode"":""ß""}"\n'
    + f"2,editor,{A1},ORG,32,42,Larchfield,ed,manual,2026-03-04T05:07:07.123456Z,2026-03-04T05:07:37.123456Z,,{{}}\n"
    + f"4,editor,{A1},SPONSORED,93,118,👩‍💻 team shipped 🚀 Tessel,'@lice,suggestion,2026-03-04T05:09:07.123456Z,"
    "2026-03-04T05:09:37.123456Z,,{}\n"
    + f"5,editor,{A1},ORG,112,118,Tessel,'@lice,manual,2026-03-04T05:10:07.123456Z,"
    + "2026-03-04T05:10:37.123456Z,'@check,{}\n"
    + "6,editor,2,,blog.example,'-12% at Orrin,2026-02-03T14:05:00.000500Z,CLAIM,15,36,'\t-12% margin at Orrin,'@lice,"
    'manual,2026-03-04T05:11:07.123456Z,2026-03-04T05:11:37.123456Z,,"{""verdict"":""unverified""}"\n'
)


@pytest.fixture
def corpus(db):
    return build_corpus()


def test_span_csv_exact_bytes(corpus):
    assert export_bytes("csv").decode() == SPAN_CSV


def test_span_csv_raw_keeps_formula_cells_and_nothing_else_changes(corpus):
    raw = export_bytes("csv", neutralise=False).decode()
    expected = (
        SPAN_CSV.replace("\"'-spans", '"-spans')
        .replace("'@lice", "@lice")
        .replace("'@check", "@check")
        .replace("'-12% at Orrin", "-12% at Orrin")
        .replace("'\t-12% margin", "\t-12% margin")
    )
    assert raw == expected
    assert raw != SPAN_CSV


def test_span_csv_bom_is_opt_in(corpus):
    assert not export_bytes("csv").startswith(b"\xef\xbb\xbf")
    assert export_bytes("csv", bom=True) == b"\xef\xbb\xbf" + SPAN_CSV.encode()


def test_span_csv_parses_back_to_the_database_rows(corpus):
    """RFC 4180 readers recover every cell; text is exactly body[start:end], offsets in code points."""
    rows = list(csv.DictReader(io.StringIO(export_bytes("csv", neutralise=False).decode(), newline="")))
    assert [int(r["span_id"]) for r in rows] == [1, 3, 2, 4, 5, 6]
    bodies = {1: BODY_1, 2: BODY_2}
    for row in rows:
        span = Span.objects.get(pk=row["span_id"])
        assert row["text"] == bodies[int(row["article_id"])][int(row["start"]) : int(row["end"])] == span.text
        assert row["note"] == span.note
        assert json.loads(row["attributes"]) == span.attributes
        assert dt.datetime.fromisoformat(row["created_at"]) == span.created_at
    sponsored = next(r for r in rows if r["label"] == "SPONSORED")
    assert (int(sponsored["start"]), int(sponsored["end"])) == (93, 118)  # three emoji before the end: code points


def test_copy_and_cursor_paths_write_identical_bytes(corpus):
    for neutralise in (True, False):
        assert b"".join(stream_spans_csv(neutralise=neutralise)) == b"".join(
            stream_spans_csv_cursor(neutralise=neutralise)
        )


def test_bare_cr_in_a_note_is_quoted_by_both_paths(corpus):
    Span.objects.filter(pk=2).update(note="one\rtwo")
    copied = b"".join(stream_spans_csv())
    assert b',"one\rtwo",' in copied
    assert copied == b"".join(stream_spans_csv_cursor())


def test_stream_spans_csv_takes_any_queryset(corpus):
    """The admin action's entry point: spans of selected articles, with the same header and order."""
    article = corpus["articles"][1]
    data = b"".join(stream_spans_csv(Span.objects.filter(article=article), neutralise=False)).decode()
    assert data == HEADER + (
        "6,editor,2,,blog.example,-12% at Orrin,2026-02-03T14:05:00.000500Z,CLAIM,15,36,\t-12% margin at Orrin,"
        "@lice,manual,"
        '2026-03-04T05:11:07.123456Z,2026-03-04T05:11:37.123456Z,,"{""verdict"":""unverified""}"\n'
    )
    assert b"".join(stream_spans_csv(Span.objects.none())) == HEADER.encode()


def test_stream_spans_csv_reports_rows_as_they_go(corpus):
    counted = []
    b"".join(stream_spans_csv(on_rows=counted.append))
    assert sum(counted) == 6


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, {"z": None, "y": True}], "aa": "x"},
        {"ünïcode": "ß", "z": "\u2028", "é": '"quoted" \\ \n\t\x01', "emoji 👩‍💻": ["🚀"]},
        {"n": -12, "f": 1.5, "empty": {}, "list": []},
    ],
)
def test_postgres_writes_the_same_canonical_json_as_python(corpus, value):
    with connection.cursor() as cursor:
        cursor.execute(CANONICAL_JSON_FUNCTION)
        cursor.execute("SELECT pg_temp.newsnotes_canonical_json(%s::jsonb)", [json.dumps(value)])
        assert cursor.fetchone()[0] == common.canonical_json(value)


def test_span_csv_attributes_cell_is_canonical_json(corpus):
    Span.objects.filter(pk=1).update(attributes={"b": [1, {"d": 2, "c": None}], "a": "x,y"})
    row = next(csv.DictReader(io.StringIO(export_bytes("csv").decode(), newline="")))
    assert row["attributes"] == '{"a":"x,y","b":[1,{"c":null,"d":2}]}'


@pytest.mark.parametrize(
    "filters,expected",
    [
        (lambda c: ExportFilters(labels=(c["labels"]["org"].pk,)), [2, 5]),
        (lambda c: ExportFilters(labels=(c["labels"]["org"].pk, c["labels"]["claim"].pk)), [3, 2, 5, 6]),
        (lambda c: ExportFilters(annotators=(c["users"]["@lice"].pk,)), [4, 5, 6]),
        (lambda c: ExportFilters(sources=(c["articles"][1].source_id,)), [6]),
        (lambda c: ExportFilters(statuses=("done",)), [1, 3, 2, 4, 5]),
        (lambda c: ExportFilters(origins=("suggestion",)), [4]),
        (lambda c: ExportFilters(published_from=dt.date(2026, 2, 3)), [6]),
        (lambda c: ExportFilters(published_to=dt.date(2026, 2, 2)), [1, 3, 2, 4, 5]),
        (lambda c: ExportFilters(published_from=dt.date(2026, 2, 3), published_to=dt.date(2026, 2, 3)), [6]),
        (lambda c: ExportFilters(published_from=dt.date(2026, 2, 4)), []),
        (lambda c: ExportFilters(annotators=(c["users"]["ed"].pk,), origins=("suggestion",)), []),
    ],
)
def test_filters_select_spans(corpus, filters, expected):
    rows = list(csv.reader(io.StringIO(export_bytes("csv", filters=filters(corpus)).decode(), newline="")))
    assert [int(row[0]) for row in rows[1:]] == expected


ARTICLES_HEADER = (
    "article_id,url,source,title,byline,published_at,language,status,chars,metadata,spans,"
    "spans_person,spans_org,spans_claim,spans_sponsored,has_sponsored\n"
)


def test_article_csv_exact_bytes(corpus):
    assert export_bytes("articles-csv").decode() == (
        ARTICLES_HEADER
        + '1,"https://wirefeed.example/1?a=1,2",wirefeed.example,"Quotes, ""commas"" and =cmd|",Priya Raman-Holt,'
        '2026-01-14T09:30:00.000000Z,en,done,128,"{""section"":""Chips"",""tags"":[""ai"",""chips""]}",5,1,2,1,1,true\n'
        "2,,blog.example,'-12% at Orrin,,2026-02-03T14:05:00.000500Z,en,in_progress,61,{},1,0,0,1,0,false\n"
        "3,,,Unlabelled,,,,new,35,{},0,0,0,0,0,false\n"
    )


def test_article_csv_counts_follow_span_filters_but_sponsored_is_a_fact(corpus):
    filters = ExportFilters(annotators=(corpus["users"]["ed"].pk,), annotated_only=True)
    assert export_bytes("articles-csv", filters=filters, neutralise=False).decode() == (
        ARTICLES_HEADER
        + '1,"https://wirefeed.example/1?a=1,2",wirefeed.example,"Quotes, ""commas"" and =cmd|",Priya Raman-Holt,'
        '2026-01-14T09:30:00.000000Z,en,done,128,"{""section"":""Chips"",""tags"":[""ai"",""chips""]}",3,1,1,1,0,true\n'
    )


def test_already_quoted_formula_cells_round_trip_through_the_undo_rule(corpus):
    """A cell stored as ``'=SUM(A1)`` gets one more quote, so dropping one ``'`` always gives the stored text."""
    Span.objects.filter(pk=1).update(note="'=SUM(A1)")
    Span.objects.filter(pk=2).update(note="''+1")
    Span.objects.filter(pk=4).update(note="'plain, quoted")
    data = export_bytes("csv")
    assert b",\"'Larchfield'\"" not in data
    assert b"{},,'''=SUM(A1)" not in data  # exactly one quote is added, not one per quote
    assert b",''=SUM(A1),{}\n" in data
    assert b",'''+1,{}\n" in data
    assert b",'plain, quoted" not in data  # not a formula: written as stored (quoted for the comma only)
    assert b',"\'plain, quoted",{}\n' in data
    rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    notes = {int(r["span_id"]): common.unneutralise(r["note"]) for r in rows}
    assert notes == {s.pk: s.note for s in Span.objects.all()}
    assert data == b"".join(stream_spans_csv_cursor())


@pytest.mark.parametrize(
    "stored,written",
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("'=SUM(A1)", "''=SUM(A1)"),
        ("''@x", "'''@x"),
        ("'-5", "''-5"),
        ("'\t", "''\t"),
        ("'plain", "'plain"),
        ("'", "'"),
        ("''", "''"),
        ("plain", "plain"),
    ],
)
def test_neutralise_and_its_undo_rule_are_exact_inverses(stored, written):
    assert common.neutralise(stored) == written
    assert common.unneutralise(written) == stored
