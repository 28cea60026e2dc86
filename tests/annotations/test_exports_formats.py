"""doccano JSONL, Label Studio, W3C, CoNLL and brat, byte for byte, on the hostile corpus."""

import datetime as dt
import io
import json
import zipfile

import pytest

from annotations.exports import ExportFilters
from annotations.exports import conll as conll_format
from annotations.exports.brat import read as read_brat
from annotations.models import Span
from articles.models import Article, body_sha256
from tests.annotations.export_fixtures import BODY_1, BODY_2, BODY_3, build_corpus, export_bytes

pytestmark = pytest.mark.django_db

T = "2026-03-04T05:{:02d}:{:02d}.123456Z"
ARTICLE_1 = {
    "title": 'Quotes, "commas" and =cmd|',
    "url": "https://wirefeed.example/1?a=1,2",
    "source": "wirefeed.example",
    "byline": "Priya Raman-Holt",
    "published_at": "2026-01-14T09:30:00.000000Z",
    "language": "en",
    "status": "done",
    "metadata": {"section": "Chips", "tags": ["ai", "chips"]},
}
ARTICLE_2 = {
    "title": "-12% at Orrin",
    "url": None,
    "source": "blog.example",
    "byline": "",
    "published_at": "2026-02-03T14:05:00.000500Z",
    "language": "en",
    "status": "in_annotation",
    "metadata": {},
}
ARTICLE_3 = {
    "title": "Unlabelled",
    "url": None,
    "source": None,
    "byline": "",
    "published_at": None,
    "language": "",
    "status": "new",
    "metadata": {},
}
CLAIM_TEXT = "Larchfield, said:\n=cmd|' /C calc'!A0 is not a formula."
CLAIM_ATTRIBUTES = {"n": 2, "speaker": "Mara Okonkwo", "speaker_span": 1, "verdict": "disputed", "ünïcode": "ß"}
SPONSORED_TEXT = "👩‍💻 team shipped 🚀 Tessel"


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def detail(pk, text, annotator, minute, *, origin="manual", note="", attributes=None):
    return {
        "id": pk,
        "layer": "editor",
        "text": text,
        "annotator": annotator,
        "origin": origin,
        "note": note,
        "attributes": attributes or {},
        "created_at": T.format(6 + minute, 7),
        "updated_at": T.format(6 + minute, 37),
    }


@pytest.fixture
def corpus(db):
    return build_corpus()


def test_jsonl_is_doccano_lines_with_our_details(corpus):
    lines = export_bytes("jsonl").decode().split("\n")
    assert lines[-1] == ""
    assert lines[:-1] == [
        dumps(
            {
                "id": 1,
                "text": BODY_1,
                "label": [
                    [0, 23, "PERSON"],
                    [32, 86, "CLAIM"],
                    [32, 42, "ORG"],
                    [93, 118, "SPONSORED"],
                    [112, 118, "ORG"],
                ],
                **ARTICLE_1,
                "offsets": "codepoints",
                "spans": [
                    detail(1, 'Mara "The Chip" Okonkwo', "ed", 0, note='Nickname in "quotes", kept'),
                    detail(
                        3,
                        CLAIM_TEXT,
                        "ed",
                        2,
                        note="-spans a line break\nand a comma, too",
                        attributes=CLAIM_ATTRIBUTES,
                    ),
                    detail(2, "Larchfield", "ed", 1),
                    detail(4, SPONSORED_TEXT, "@lice", 3, origin="suggestion"),
                    detail(5, "Tessel", "@lice", 4, note="@check"),
                ],
            }
        ),
        dumps(
            {
                "id": 2,
                "text": BODY_2,
                "label": [[15, 36, "CLAIM"]],
                **ARTICLE_2,
                "offsets": "codepoints",
                "spans": [detail(6, "\t-12% margin at Orrin", "@lice", 5, attributes={"verdict": "unverified"})],
            }
        ),
        dumps({"id": 3, "text": BODY_3, "label": [], **ARTICLE_3, "offsets": "codepoints", "spans": []}),
    ]
    # Python slicing with the exported offsets gives the span text back: they count code points.
    first = json.loads(lines[0])
    for (start, end, _), span in zip(first["label"], first["spans"], strict=True):
        assert first["text"][start:end] == span["text"]


def test_jsonl_utf16_offsets_count_what_javascript_counts(corpus):
    first = json.loads(export_bytes("jsonl", utf16=True).decode().split("\n")[0])
    assert first["offsets"] == "utf16"
    assert first["label"][3:] == [[93, 121, "SPONSORED"], [115, 121, "ORG"]]
    units = BODY_1.encode("utf-16-le")
    assert units[115 * 2 : 121 * 2].decode("utf-16-le") == "Tessel"


def result(pk, start, end, text, label, minute, *, who, origin="manual", note="", attributes=None):
    # Label Studio's editor shows nothing for a region whose origin it does not know: ours goes in meta.
    item = {
        "id": str(pk),
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "prediction" if origin == "suggestion" else "manual",
        "value": {"start": start, "end": end, "text": text, "labels": [label]},
    }
    item["meta"] = {**({"text": [note]} if note else {}), "annotator": who, "origin": origin, "layer": "editor"}
    if attributes:
        item["attributes"] = attributes
    item["created_at"] = T.format(6 + minute, 7)
    item["updated_at"] = T.format(6 + minute, 37)
    return item


def test_label_studio_tasks_with_one_annotation_per_annotator(corpus):
    text = export_bytes("label-studio").decode()
    assert text.startswith("[\n") and text.endswith("\n]\n")
    tasks = text[2:-3].split(",\n")
    assert tasks == [
        dumps(
            {
                "id": 1,
                "data": {"text": BODY_1, **ARTICLE_1, "offsets": "codepoints"},
                "annotations": [
                    {
                        "id": 1,
                        "annotator": "@lice",
                        "layer": "editor",
                        "created_at": T.format(9, 7),
                        "updated_at": T.format(10, 37),
                        "result": [
                            result(4, 93, 118, SPONSORED_TEXT, "SPONSORED", 3, who="@lice", origin="suggestion"),
                            result(5, 112, 118, "Tessel", "ORG", 4, who="@lice", note="@check"),
                        ],
                    },
                    {
                        "id": 2,
                        "annotator": "ed",
                        "layer": "editor",
                        "created_at": T.format(6, 7),
                        "updated_at": T.format(8, 37),
                        "result": [
                            result(
                                1,
                                0,
                                23,
                                'Mara "The Chip" Okonkwo',
                                "PERSON",
                                0,
                                who="ed",
                                note='Nickname in "quotes", kept',
                            ),
                            result(
                                3,
                                32,
                                86,
                                CLAIM_TEXT,
                                "CLAIM",
                                2,
                                who="ed",
                                note="-spans a line break\nand a comma, too",
                                attributes=CLAIM_ATTRIBUTES,
                            ),
                            result(2, 32, 42, "Larchfield", "ORG", 1, who="ed"),
                        ],
                    },
                ],
            }
        ),
        dumps(
            {
                "id": 2,
                "data": {"text": BODY_2, **ARTICLE_2, "offsets": "codepoints"},
                "annotations": [
                    {
                        "id": 3,
                        "annotator": "@lice",
                        "layer": "editor",
                        "created_at": T.format(11, 7),
                        "updated_at": T.format(11, 37),
                        "result": [
                            result(
                                6,
                                15,
                                36,
                                "\t-12% margin at Orrin",
                                "CLAIM",
                                5,
                                who="@lice",
                                attributes={"verdict": "unverified"},
                            )
                        ],
                    }
                ],
            }
        ),
        dumps({"id": 3, "data": {"text": BODY_3, **ARTICLE_3, "offsets": "codepoints"}, "annotations": []}),
    ]
    json.loads(text)


def test_label_studio_with_nothing_to_export_is_an_empty_list(corpus):
    assert export_bytes("label-studio", filters=ExportFilters(statuses=("reviewed",))) == b"[]\n"


def test_w3c_collection_and_page_ids_name_the_selection(corpus):
    """The model requires an id on the collection and its page; the same filters always give the same IRIs."""
    filters = ExportFilters(labels=(3, 1), statuses=("done",), published_from=dt.date(2026, 1, 1), annotated_only=True)
    head = json.loads(export_bytes("w3c", filters=filters).decode())
    ident = "urn:newsnotes:spans:labels=3,1;statuses=done;published_from=2026-01-01;annotated_only=yes"
    assert head["id"] == ident
    assert head["first"]["id"] == ident + "#page1"
    assert json.loads(export_bytes("w3c").decode())["id"] == "urn:newsnotes:spans:all"


def test_w3c_web_annotations(corpus):
    text = export_bytes("w3c").decode()
    head = (
        '{"@context":"http://www.w3.org/ns/anno.jsonld","id":"urn:newsnotes:spans:all","type":"AnnotationCollection",'
        '"label":"NewsNotes spans","total":6,"first":{"id":"urn:newsnotes:spans:all#page1","type":"AnnotationPage",'
        '"startIndex":0,"items":[\n'
    )
    assert text.startswith(head) and text.endswith("\n]}}\n")
    items = text[len(head) : -len("\n]}}\n")].split(",\n")
    assert len(items) == 6
    assert items[1] == dumps(
        {
            "id": "urn:newsnotes:span:3",
            "type": "Annotation",
            "motivation": "tagging",
            "created": T.format(8, 7),
            "modified": T.format(8, 37),
            "creator": {"id": "urn:newsnotes:user:ed", "type": "Person", "nickname": "ed"},
            "body": [
                {"type": "TextualBody", "purpose": "tagging", "value": "CLAIM"},
                {"type": "TextualBody", "purpose": "commenting", "value": "-spans a line break\nand a comma, too"},
                {
                    "type": "TextualBody",
                    "purpose": "describing",
                    "format": "application/json",
                    "value": '{"n":2,"speaker":"Mara Okonkwo","speaker_span":1,"verdict":"disputed","ünïcode":"ß"}',
                },
            ],
            "target": {
                "source": "urn:newsnotes:article:1",
                "scope": "https://wirefeed.example/1?a=1,2",
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": CLAIM_TEXT,
                        "prefix": 'Mara "The Chip" Okonkwo, CTO of ',
                        "suffix": "\nEmoji 👩‍💻 team shipped 🚀 Tessel",
                    },
                    {"type": "TextPositionSelector", "start": 32, "end": 86},
                ],
            },
        }
    )
    assert items[3] == dumps(
        {
            "id": "urn:newsnotes:span:4",
            "type": "Annotation",
            "motivation": "tagging",
            "created": T.format(9, 7),
            "modified": T.format(9, 37),
            "creator": {"id": "urn:newsnotes:user:@lice", "type": "Person", "nickname": "@lice"},
            "generator": {"id": "urn:newsnotes:origin:suggestion", "type": "Software", "name": "NewsNotes suggestion"},
            "body": [{"type": "TextualBody", "purpose": "tagging", "value": "SPONSORED"}],
            "target": {
                "source": "urn:newsnotes:article:1",
                "scope": "https://wirefeed.example/1?a=1,2",
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": SPONSORED_TEXT,
                        "prefix": "alc'!A0 is not a formula.\nEmoji ",
                        "suffix": ", at last.",
                    },
                    {"type": "TextPositionSelector", "start": 93, "end": 118},
                ],
            },
        }
    )
    bodies = {"urn:newsnotes:article:1": BODY_1, "urn:newsnotes:article:2": BODY_2}
    for item in map(json.loads, items):
        quote, position = item["target"]["selector"]
        body = bodies[item["target"]["source"]]
        assert body[position["start"] : position["end"]] == quote["exact"]
        assert quote.get("prefix", "") == body[max(0, position["start"] - 32) : position["start"]]
        assert quote.get("suffix", "") == body[position["end"] : position["end"] + 32]
    assert "scope" not in json.loads(items[5])["target"]  # the article without a url


CONLL = """\
-DOCSTART- -X- -X- O

Mara -X- -X- B-PERSON
" -X- -X- I-PERSON
The -X- -X- I-PERSON
Chip -X- -X- I-PERSON
" -X- -X- I-PERSON
Okonkwo -X- -X- I-PERSON
, -X- -X- O
CTO -X- -X- O
of -X- -X- O
Larchfield -X- -X- B-CLAIM
, -X- -X- I-CLAIM
said -X- -X- I-CLAIM
: -X- -X- I-CLAIM
= -X- -X- I-CLAIM
cmd -X- -X- I-CLAIM
| -X- -X- I-CLAIM
' -X- -X- I-CLAIM
/ -X- -X- I-CLAIM
C -X- -X- I-CLAIM
calc -X- -X- I-CLAIM
' -X- -X- I-CLAIM
! -X- -X- I-CLAIM
A0 -X- -X- I-CLAIM
is -X- -X- I-CLAIM
not -X- -X- I-CLAIM
a -X- -X- I-CLAIM
formula -X- -X- I-CLAIM
. -X- -X- I-CLAIM

Emoji -X- -X- O
👩‍💻 -X- -X- B-SPONSORED
team -X- -X- I-SPONSORED
shipped -X- -X- I-SPONSORED
🚀 -X- -X- I-SPONSORED
Tessel -X- -X- I-SPONSORED
, -X- -X- O
at -X- -X- O
last -X- -X- O
. -X- -X- O

-DOCSTART- -X- -X- O

Quarterly -X- -X- O
note -X- -X- O

- -X- -X- O
12 -X- -X- O
% -X- -X- O
margin -X- -X- O
at -X- -X- O
Orrin -X- -X- O
, -X- -X- O
says -X- -X- O
@ -X- -X- O
analyst -X- -X- O
. -X- -X- O

No -X- -X- O
more -X- -X- O
. -X- -X- O

-DOCSTART- -X- -X- O

An -X- -X- O
article -X- -X- O
nobody -X- -X- O
has -X- -X- O
labelled -X- -X- O
yet -X- -X- O
. -X- -X- O

"""


def test_conll_iob2_reports_what_it_leaves_out(corpus):
    heard = []
    from annotations.exports import ExportOptions, export

    data = b"".join(export("conll", ExportFilters(), ExportOptions(), on_dropped=heard.append)).decode()
    # The file holds tokens and tags only (spaCy and nltk read every other line as a token); the losses go
    # to the caller, which prints them.
    assert data == CONLL
    assert heard == [
        "left out: span 2 ORG 32-42 (article 1): overlaps span 3 CLAIM 32-86",
        "left out: span 5 ORG 112-118 (article 1): overlaps span 4 SPONSORED 93-118",
        "left out: span 6 CLAIM 15-36 (article 2): does not start and end on token boundaries",
        "note: spans by 2 annotators (@lice, ed) share one tag layer per article; export one with --annotator NAME",
    ]


def test_conll_writes_and_reads_hash_tokens(corpus):
    """A real ``#`` token is a token line like any other, and our reader takes it as one."""
    body = "Kaiun #001 sails.\n# not a comment #tag"
    article = Article.objects.create(title="Hash", body=body, body_sha256=body_sha256(body))
    Span.objects.create(
        article=article,
        label=corpus["labels"]["org"],
        start=0,
        end=10,
        text=body[0:10],
        annotator=corpus["users"]["ed"],
    )
    data = export_bytes("conll", filters=ExportFilters(statuses=(article.status,), annotated_only=True)).decode()
    assert "# -X- -X- O\n" in data and "#001" not in data
    assert data.startswith("-DOCSTART- -X- -X- O\n\nKaiun -X- -X- B-ORG\n# -X- -X- I-ORG\n001 -X- -X- I-ORG\n")
    bodies = [
        a.body for a in Article.objects.filter(status=article.status, spans__isnull=False).distinct().order_by("pk")
    ]
    read = conll_format.read(data, bodies)
    assert read[bodies.index(body)] == [("ORG", 0, 10)]


def test_conll_identical_spans_by_two_annotators_are_written_once_and_reported(corpus):
    org = corpus["labels"]["org"]
    first = Span.objects.filter(label=org).order_by("pk").first()
    twin = Span.objects.create(
        article=first.article, label=org, start=first.start, end=first.end, text=first.text,
        annotator=corpus["users"]["@lice"],
    )  # fmt: skip
    heard = []
    from annotations.exports import ExportOptions, export

    b"".join(export("conll", ExportFilters(labels=(org.pk,)), ExportOptions(), on_dropped=heard.append))
    assert (
        f"written once: span {twin.pk} ORG {first.start}-{first.end} (article 1) by @lice "
        f"is identical to span {first.pk} by ed" in heard
    )


def test_conll_one_layer_at_a_time_has_no_overlaps(corpus):
    data = export_bytes("conll", filters=ExportFilters(labels=(corpus["labels"]["org"].pk,))).decode()
    assert "# newsnotes" not in data
    tags = [line.split(" ")[-1] for line in data.splitlines() if line and not line.startswith("-DOCSTART-")]
    assert tags.count("B-ORG") == 2 and not any(t.startswith(("B-P", "B-C", "B-S")) for t in tags)


def test_conll_tokenizer_keeps_graphemes_and_words_whole():
    tokens = [t.text for t in conll_format.tokenize("Okonkwo's café 👩🏽‍💻, e\u0301té U.S.-based")]
    assert tokens == ["Okonkwo", "'", "s", "café", "👩🏽‍💻", ",", "e\u0301té", "U", ".", "S", ".", "-", "based"]


def test_conll_reads_back_to_code_point_offsets(corpus):
    spans = conll_format.read(CONLL, [BODY_1, BODY_2, BODY_3])
    assert spans == [[("PERSON", 0, 23), ("CLAIM", 32, 86), ("SPONSORED", 93, 118)], [], []]


def test_conll_sentences_end_after_closing_quotes():
    text = 'He said "ship it." Then left.\nNext line'
    tokens = conll_format.tokenize(text)
    breaks = conll_format.sentence_breaks(text, tokens, set())
    assert [tokens[i].text for i in sorted(breaks)] == ['"', "."]


def test_brat_zip(corpus):
    heard = []
    from annotations.exports import ExportOptions, export

    data = b"".join(export("brat", ExportFilters(), ExportOptions(), on_dropped=heard.append))
    archive = zipfile.ZipFile(io.BytesIO(data))
    # brat lists every .txt of a collection as a document: the report sits outside it and is no .txt.
    assert archive.namelist() == [
        "collection/1.txt",
        "collection/1.ann",
        "collection/2.txt",
        "collection/2.ann",
        "collection/3.txt",
        "collection/3.ann",
        "collection/annotation.conf",
        "collection/visual.conf",
        "newsnotes-report.md",
    ]
    assert archive.read("collection/1.txt").decode() == BODY_1
    assert archive.read("collection/1.ann").decode() == (
        'T1\tPERSON 0 23\tMara "The Chip" Okonkwo\n'
        '#1\tAnnotatorNotes T1\tNickname in "quotes", kept\n'
        "T2\tCLAIM 32 49;50 86\tLarchfield, said: =cmd|' /C calc'!A0 is not a formula.\n"
        "#2\tAnnotatorNotes T2\t-spans a line break and a comma, too\n"
        "R1\tSpeaker Arg1:T2 Arg2:T1\n"
        "A1\tVerdict T2 disputed\n"
        "A2\tÜnïcode T2 ß\n"
        "T3\tORG 32 42\tLarchfield\n"
        "T4\tSPONSORED 93 118\t👩‍💻 team shipped 🚀 Tessel\n"
        "T5\tORG 112 118\tTessel\n"
        "#3\tAnnotatorNotes T5\t@check\n"
    )
    assert (
        archive.read("collection/2.ann").decode()
        == "T1\tCLAIM 15 36\t\t-12% margin at Orrin\nA1\tVerdict T1 unverified\n"
    )
    assert archive.read("collection/3.ann") == b""
    assert archive.read("collection/annotation.conf").decode() == (
        "# Generated by NewsNotes from its label set.\n[entities]\nPERSON\nORG\nCLAIM\nSPONSORED\n\n"
        "[relations]\n<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>\nSpeaker\tArg1:CLAIM, Arg2:PERSON\n\n"
        "[events]\n\n[attributes]\nVerdict\tArg:CLAIM, Value:disputed|unverified\nÜnïcode\tArg:CLAIM, Value:ß\n"
    )
    assert archive.read("collection/visual.conf").decode() == (
        "[labels]\nPERSON | PERSON\nORG | ORG\nCLAIM | CLAIM\nSPONSORED | SPONSORED\n\n[drawing]\n"
        "PERSON\tbgColor:#ffd166\nORG\tbgColor:#8ecae6\nCLAIM\tbgColor:#c5e1a5\nSPONSORED\tbgColor:#f4b6c2\n"
    )
    expected_problems = [
        "span 3 CLAIM 32-86 (article 1): note has line breaks; brat notes are one line, so they became spaces",
        "span 3 CLAIM 32-86 (article 1): attribute n=2 has no brat form (true, or one word); left out",
        "span 3 CLAIM 32-86 (article 1): attribute speaker='Mara Okonkwo' has no brat form (true, or one word); "
        "left out",
    ]
    assert heard == expected_problems
    report = archive.read("newsnotes-report.md").decode()
    assert report.endswith("3 thing(s) brat could not hold:\n" + "".join(p + "\n" for p in expected_problems))
    assert "annotator, origin or times" in report
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_brat_reads_back(corpus):
    documents = read_brat(export_bytes("brat"))
    assert documents["1"][1] == {
        "label": "CLAIM",
        "start": 32,
        "end": 86,
        "text": CLAIM_TEXT,
        "note": "-spans a line break and a comma, too",
        "attributes": {"verdict": "disputed", "ünïcode": "ß", "speaker_span": ("PERSON", 0, 23)},
    }


def test_brat_writes_identical_spans_by_two_annotators_once_and_says_so(corpus):
    """brat has no annotator: two identical T lines are one entity twice (pybrat refuses such a file)."""
    from annotations.exports import ExportOptions, export

    person = Span.objects.get(label__slug="person")
    twin = Span.objects.create(
        article=person.article, label=person.label, start=person.start, end=person.end, text=person.text,
        annotator=corpus["users"]["@lice"], note="mine too",
    )  # fmt: skip
    heard = []
    data = b"".join(export("brat", ExportFilters(), ExportOptions(), on_dropped=heard.append))
    ann = zipfile.ZipFile(io.BytesIO(data)).read("collection/1.ann").decode()
    assert ann.count("\tPERSON 0 23\t") == 1
    assert "R1\tSpeaker Arg1:T2 Arg2:T1\n" in ann
    assert (
        f"span {twin.pk} PERSON 0-23 (article 1) by @lice is identical to span {person.pk} by ed; "
        "written once (its note and attributes are not written)" in heard
    )
