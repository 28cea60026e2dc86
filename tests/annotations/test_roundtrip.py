"""Export → import into an empty database → export again: the same bytes.

The span CSV and W3C files carry no article text, so the corpus travels in a doccano JSONL or Label Studio file
exported at the same moment; every format is then exported again from the restored corpus. Ids survive because
the tables are emptied with their sequences restarted and the import recreates articles and spans in exported
id order (README: Exports, "Round trips").
"""

import datetime as dt

import pytest

from annotations.exports import ExportFilters, export
from annotations.exports import conll as conll_format
from annotations.exports.brat import read as read_brat
from annotations.models import Span, SpanEvent
from articles.models import Article
from tests.annotations.export_fixtures import BODY_1, BODY_2, BODY_3, T0, build_corpus, export_bytes, restart_identities
from tests.commands import run_command
from tests.factories import ArticleFactory, SpanFactory, UserFactory

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "jsonl", "label-studio", "w3c", "articles-csv", "conll", "brat"]


def export_all(**options) -> dict[str, bytes]:
    exported = {key: export_bytes(key, **options) for key in FORMATS}
    exported["csv-raw"] = export_bytes("csv", neutralise=False)
    return exported


def import_file(tmp_path, name: str, data: bytes, *args) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return run_command("import_articles", path, *args)


@pytest.mark.parametrize(
    "carrier,name,utf16",
    [
        ("jsonl", "corpus.jsonl", False),
        ("label-studio", "corpus.json", False),
        ("jsonl", "corpus.jsonl", True),
        ("label-studio", "corpus.json", True),
    ],
)
def test_export_import_export_is_byte_identical(tmp_path, carrier, name, utf16):
    build_corpus()
    before = export_all()
    carried = export_bytes(carrier, utf16=utf16)
    restart_identities()
    assert Article.objects.count() == Span.objects.count() == 0

    message = import_file(tmp_path, name, carried)

    assert "imported 3 articles and 6 spans" in message
    if utf16:
        assert "offsets are UTF-16 code units, as the file says; converted to code points" in message
    else:
        assert "note:" not in message
    after = export_all()
    for key in before:
        assert after[key] == before[key], key
    assert export_bytes(carrier, utf16=utf16) == carried


def test_round_trip_keeps_times_status_origin_and_claim_details(tmp_path):
    build_corpus()
    carried = export_bytes("jsonl")
    restart_identities()
    import_file(tmp_path, "corpus.jsonl", carried)
    claim = Span.objects.get(label__slug="claim", article__body=BODY_1)
    assert claim.created_at == T0 + dt.timedelta(minutes=2)
    assert claim.updated_at == T0 + dt.timedelta(minutes=2, seconds=30)
    assert claim.attributes["speaker_span"] == Span.objects.get(label__slug="person").pk
    assert Span.objects.get(text="👩‍💻 team shipped 🚀 Tessel").origin == "suggestion"
    assert dict(Article.objects.values_list("body", "status")) == {
        BODY_1: "ready_for_review",
        BODY_2: "in_annotation",
        BODY_3: "new",
    }


def test_import_history_names_the_import_and_ends_with_the_exported_times(tmp_path):
    build_corpus()
    carried = export_bytes("jsonl")
    restart_identities()
    before = set(SpanEvent.objects.values_list("pgh_id", flat=True))
    import_file(tmp_path, "corpus.jsonl", carried)
    events = SpanEvent.objects.exclude(pgh_id__in=before).select_related("pgh_context").order_by("pgh_id")
    # Each span is inserted once, with its exported times (the import writes them with COPY, where auto_now does
    # not apply; it used to insert and then update every span, two history events for one import).
    assert sorted(e.pgh_label for e in events) == ["insert"] * 6
    assert {e.pgh_context.metadata["action"] for e in events} == {"corpus_import"}
    latest = {e.pgh_obj_id: e for e in events}
    assert {e.created_at for e in latest.values()} == {T0 + dt.timedelta(minutes=n) for n in range(6)}


def test_import_into_a_database_with_other_spans_renumbers_claim_speakers(tmp_path, labels):
    build_corpus()
    carried = export_bytes("jsonl")
    restart_identities()
    # Someone else's work takes the first ids: the imported spans get new ones.
    SpanFactory(article=ArticleFactory(), label=labels["person"], start=0, end=4, annotator=UserFactory(username="x"))
    import_file(tmp_path, "corpus.jsonl", carried)
    person = Span.objects.get(label__slug="person", article__body=BODY_1)
    claim = Span.objects.get(label__slug="claim", article__body=BODY_1)
    assert person.pk != 1
    assert claim.attributes["speaker_span"] == person.pk


def test_importing_the_same_export_twice_adds_nothing(tmp_path):
    build_corpus()
    message = import_file(tmp_path, "again.jsonl", export_bytes("jsonl"))
    assert "imported 0 articles and 0 spans; skipped 3 duplicates" in message
    assert Span.objects.count() == 6


def test_conll_round_trips_every_span_it_can_express():
    corpus = build_corpus()
    heard: list[str] = []
    data = b"".join(export("conll", ExportFilters(), on_dropped=heard.append)).decode()
    dropped = {int(message.split(" ")[3]) for message in heard if message.startswith("left out: span ")}
    assert dropped == {2, 5, 6}
    read = conll_format.read(data, [a.body for a in corpus["articles"]])
    expressed = sorted((s.article_id, s.label.name, s.start, s.end) for s in Span.objects.exclude(pk__in=dropped))
    assert sorted((n, *span) for n, spans in enumerate(read, start=1) for span in spans) == expressed


def test_conll_layer_round_trips_all_its_spans():
    corpus = build_corpus()
    org = corpus["labels"]["org"]
    data = export_bytes("conll", filters=ExportFilters(labels=(org.pk,))).decode()
    read = conll_format.read(data, [a.body for a in corpus["articles"]])
    assert [span for spans in read for span in spans] == [
        (s.label.name, s.start, s.end) for s in Span.objects.filter(label=org).order_by("start")
    ]


def test_brat_round_trips_every_span_with_its_note_and_claim_details():
    build_corpus()
    documents = read_brat(export_bytes("brat"))
    got = sorted(
        (int(name), s["label"], s["start"], s["end"], s["text"], s["note"])
        for name, spans in documents.items()
        for s in spans
    )
    expected = sorted(
        (s.article_id, s.label.name, s.start, s.end, s.text, " ".join(s.note.splitlines())) for s in Span.objects.all()
    )
    assert got == expected
    claims = {s["start"]: s["attributes"] for spans in documents.values() for s in spans if s["label"] == "CLAIM"}
    assert claims[15] == {"verdict": "unverified"}
    assert claims[32]["verdict"] == "disputed"
    assert claims[32]["speaker_span"] == ("PERSON", 0, 23)
