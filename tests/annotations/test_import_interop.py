"""Importing what Label Studio 1.23.2 and doccano 1.8.4 wrote (tests/fixtures/interop, issue 11 points 1, 2, 4).

The principle: an import never exits 0 with a span lost, merged or moved. Every span of ``source.json`` must
arrive under its annotator, at code-point offsets into the text with CRLF normalised, identical spans by two
annotators kept as two.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from annotations.models import Label, Span
from articles.models import Article, body_sha256
from tests.annotations.export_fixtures import build_corpus, export_bytes
from tests.factories import UserFactory
from tests.interop import source
from tests.jobs import admin_confirm, admin_preview

pytestmark = pytest.mark.django_db

FIXTURES = source.SOURCE.parent
LS = FIXTURES / "label-studio-1.23.2"
DOCCANO = FIXTURES / "doccano-1.8.4"


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_articles", *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def annotators(db):
    return {name: UserFactory(username=name, email=email) for name, email in source.ANNOTATORS.items()}


def stored() -> list[tuple]:
    return sorted(
        (s.article.body, s.label.name, s.start, s.end, s.text, s.annotator.username)
        for s in Span.objects.select_related("article", "label", "annotator")
    )


def ls_user_map(tmp_path):
    """theirs,ours: Label Studio's user ids (from its snapshot export, which names them) to our usernames."""
    snapshot = json.loads((LS / "snapshot.json").read_text(encoding="utf-8"))
    ids = {a["completed_by"]["id"]: a["completed_by"]["email"] for t in snapshot for a in t["annotations"]}
    path = tmp_path / "users.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["theirs", "ours"])
        for their_id, email in sorted(ids.items()):
            writer.writerow([their_id, email.split("@")[0]])
    return path


def test_label_studio_full_export_with_integer_completed_by_and_a_user_map(annotators, tmp_path):
    message = run(LS / "full.json", "--user-map", ls_user_map(tmp_path))
    assert stored() == source.expected()
    assert f"{len(source.expected())} spans" in message


def test_label_studio_integer_completed_by_without_a_map_is_refused_naming_them(annotators):
    full = json.loads((LS / "full.json").read_text(encoding="utf-8"))
    ids = sorted({a["completed_by"] for t in full for a in t["annotations"]})
    with pytest.raises(CommandError) as refused:
        run(LS / "full.json")
    for their_id in ids:
        assert str(their_id) in str(refused.value)
    assert "--user-map" in str(refused.value)
    assert Article.objects.count() == Span.objects.count() == 0


def test_label_studio_snapshot_maps_completed_by_objects_by_email(annotators):
    run(LS / "snapshot.json")
    assert stored() == source.expected()


def test_label_studio_json_min_rows_of_one_task_become_layers_of_one_article(annotators, tmp_path):
    # JSON-MIN writes one row per annotation: the second row of a text is bob's layer, not a duplicate article.
    run(LS / "json-min.json", "--user-map", ls_user_map(tmp_path))
    assert stored() == source.expected()
    assert Article.objects.count() == len(source.texts())


def test_crlf_texts_are_normalised_and_every_offset_shifted(annotators):
    run(LS / "snapshot.json")
    crlf = Article.objects.get(body__contains="Ada Lovelace")
    assert "\r" not in crlf.body
    for span in crlf.spans.all():
        assert crlf.body[span.start : span.end] == span.text
    assert ("PERSON", "Ada Lovelace") in {(s.label.name, s.text) for s in crlf.spans.all()}
    assert any(s.text == "Ada Lovelace.\nLine two" for s in crlf.spans.all())


def test_doccano_per_user_files_map_to_users_by_file_name(annotators):
    message = run(DOCCANO / "utf16" / "alice.jsonl", DOCCANO / "utf16" / "bob.jsonl")
    assert stored() == source.expected()
    assert f"{len(source.expected())} spans" in message
    # alice's and bob's identical PERSON spans stay two spans, one per layer.
    zoe = [s for s in stored() if s[4].startswith("Zoe")]
    assert sorted(s[5] for s in zoe) == ["alice", "bob"]


def test_doccano_grapheme_offsets_are_not_guessed(annotators):
    """Grapheme counts, code points and UTF-16 give different spans for these texts: refuse, name them all."""
    with pytest.raises(CommandError) as refused:
        run(DOCCANO / "graphemes" / "alice.jsonl", DOCCANO / "graphemes" / "bob.jsonl")
    text = str(refused.value)
    assert "--offsets" in text and "grapheme" in text and "code point" in text and "UTF-16" in text
    assert Span.objects.count() == 0


def test_doccano_grapheme_offsets_import_when_named(annotators):
    run(DOCCANO / "graphemes" / "alice.jsonl", DOCCANO / "graphemes" / "bob.jsonl", "--offsets", "graphemes")
    assert stored() == source.expected()


def test_a_span_that_splits_a_grapheme_is_refused_with_file_and_line(annotators, tmp_path):
    lines = (DOCCANO / "utf16" / "bob.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    emoji = first["text"].index("👨‍👩‍👧‍👦")
    units = len(first["text"][:emoji].encode("utf-16-le")) // 2
    first["label"].append([units + 2, units + 20, "ORG"])  # starts inside the family emoji's ZWJ sequence
    path = tmp_path / "bob.jsonl"
    path.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bob\.jsonl:1:"):
        run(path, "--offsets", "utf16")
    assert Span.objects.count() == 0


def test_unknown_annotators_are_listed_and_create_users_makes_them_inactive(db, tmp_path):
    with pytest.raises(CommandError) as refused:
        run(LS / "snapshot.json")
    assert "alice@example.org" in str(refused.value) and "bob@example.org" in str(refused.value)
    run(LS / "snapshot.json", "--create-users")
    users = get_user_model().objects.filter(username__in=["alice", "bob"])
    assert sorted(u.username for u in users) == ["alice", "bob"]
    assert not any(u.is_active or u.has_usable_password() for u in users)
    assert stored() == source.expected()


def test_spans_land_on_an_article_already_in_the_corpus_and_a_second_import_adds_nothing(annotators):
    title, text = source.texts()[0]
    existing = Article.objects.create(title=title, body=text, body_sha256=body_sha256(text))
    run(LS / "snapshot.json")
    assert Article.objects.filter(body=text).get() == existing
    assert existing.spans.count() == sum(1 for g in source.load() if g.title == title)
    message = run(LS / "snapshot.json")
    assert "imported 0 articles and 0 spans" in message and "already" in message
    assert Span.objects.count() == len(source.expected())


def test_our_jsonl_through_doccano_matches_spans_by_content(annotators):
    """doccano re-sorts ``label``; our ``spans`` details must be matched to it by content, not by position."""
    path = DOCCANO / "newsnotes-jsonl" / "admin.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    run(path)
    got = stored()
    assert len(got) == sum(len(line["label"]) for line in lines)
    details = sorted((line["text"], d["text"], d["annotator"]) for line in lines for d in line["spans"])
    assert sorted((body, text, who) for body, _, _, _, text, who in got) == details


@pytest.mark.parametrize("fmt,name", [("csv", "spans.csv"), ("w3c", "spans.jsonld")])
def test_span_csv_and_w3c_import_onto_articles_already_in_the_corpus(tmp_path, fmt, name):
    build_corpus()
    before = sorted(Span.objects.values_list("article_id", "label__name", "start", "end", "annotator__username"))
    path = tmp_path / name
    path.write_bytes(export_bytes(fmt, neutralise=False) if fmt == "csv" else export_bytes(fmt))
    Span.objects.all().delete()
    run(path)
    after = sorted(Span.objects.values_list("article_id", "label__name", "start", "end", "annotator__username"))
    assert after == before


def test_the_fixtures_hold_every_given_span():
    """Guards the fixtures themselves (no tool needed): each file holds all of source.json's spans."""
    given = len(source.load())
    full = json.loads((LS / "full.json").read_text(encoding="utf-8"))
    assert sum(len(a["result"]) for t in full for a in t["annotations"]) == given
    minimal = json.loads((LS / "json-min.json").read_text(encoding="utf-8"))
    assert sum(len(row.get("label", [])) for row in minimal) == given
    for mode in ("utf16", "graphemes"):
        lines = [
            json.loads(line)
            for name in ("alice.jsonl", "bob.jsonl")
            for line in (DOCCANO / mode / name).read_text(encoding="utf-8").splitlines()
        ]
        assert sum(len(line["label"]) for line in lines) == given


def restart_span_ids() -> None:
    Span.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1, false)", [Span._meta.db_table])


@pytest.mark.parametrize(
    "fmt,name,options",
    [("csv", "spans.csv", {}), ("csv", "raw.csv", {"neutralise": False}), ("w3c", "spans.jsonld", {})],
)
def test_span_csv_and_w3c_round_trip_byte_for_byte(tmp_path, fmt, name, options):
    """README: export → import → export gives the same file (spans emptied, their id sequence restarted)."""
    build_corpus()
    first = export_bytes(fmt, **options)
    (tmp_path / name).write_bytes(first)
    restart_span_ids()
    message = run(tmp_path / name)
    assert "imported 0 articles and 6 spans" in message
    assert export_bytes(fmt, **options) == first
    # A second import finds every span present and adds nothing.
    assert "6 span(s) already present" in run(tmp_path / name)
    assert Span.objects.count() == 6


def test_a_span_file_whose_text_is_not_in_the_corpus_is_refused(tmp_path):
    build_corpus()
    path = tmp_path / "spans.csv"
    path.write_bytes(export_bytes("csv", neutralise=False).replace(b"Larchfield", b"Larchfeld"))
    Span.objects.all().delete()
    with pytest.raises(CommandError, match=r"spans\.csv:\d+: no article in the corpus holds these"):
        run(path)
    assert Span.objects.count() == 0


def test_gold_rows_of_a_span_csv_are_refused(tmp_path):
    build_corpus()
    lines = export_bytes("csv", neutralise=False).decode().splitlines(keepends=True)
    path = tmp_path / "spans.csv"
    path.write_text(
        lines[0].rstrip("\n") + ",layer\n" + "".join(line.rstrip("\n") + ",gold\n" for line in lines[1:2]),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"spans\.csv:2: gold rows \(layer=gold\) are not imported"):
        run(path)


def test_admin_import_adds_a_layer_to_articles_already_there(client, curator, annotators):
    """The admin page behaves as the command: a doccano file whose texts are all stored is a layer to confirm."""
    client.force_login(curator)
    run(DOCCANO / "utf16" / "alice.jsonl", DOCCANO / "utf16" / "bob.jsonl")
    before = Article.objects.count()
    # bob.jsonl alone settles its unit (alice.jsonl alone fits UTF-16 and grapheme clusters: refused).
    job = admin_preview(client, "bob.jsonl", (DOCCANO / "utf16" / "bob.jsonl").read_bytes())
    assert job.preview["new"] == 0 and job.preview["layer_spans"] > 0 and job.confirmable
    page = client.get(reverse("admin:articles_article_import_job", args=[job.pk])).content.decode()
    assert 'id="count-layer-spans"' in page
    job = admin_confirm(client, job)
    shown = client.get(reverse("admin:articles_article_import_job", args=[job.pk])).content.decode()
    assert Article.objects.count() == before
    # The page names the curator as the annotator of spans that name none (as before): a third layer.
    mine = [s for s in stored() if s[5] == curator.username]
    assert len(mine) == sum(1 for g in source.load() if g.annotator == "bob")
    assert sorted((*s[:5], "bob") for s in mine) == [s for s in stored() if s[5] == "bob"]
    assert job.result["layered_spans"] == len(mine) and "went onto" in shown
    alone = admin_preview(client, "alice.jsonl", (DOCCANO / "utf16" / "alice.jsonl").read_bytes())
    assert "--offsets" in " ".join(alone.preview["errors"])


def test_admin_import_of_a_span_csv_places_spans_on_stored_articles(client, curator):
    client.force_login(curator)
    build_corpus()
    data = export_bytes("csv")
    Span.objects.all().delete()
    job = admin_preview(client, "spans.csv", data)
    assert job.preview["errors"] == []
    assert admin_confirm(client, job).status == "finished"
    assert Span.objects.count() == 6


def test_label_studio_region_meta_gives_back_annotator_and_origin(tmp_path):
    """Our label-studio export keeps the annotator and origin in each region's meta, which Label Studio keeps
    (it drops the annotation-level ``annotator``): read from there, both come back, an import origin too."""
    from tests.annotations.export_fixtures import restart_identities

    build_corpus()
    Span.objects.filter(label__slug="org", annotator__username="ed").update(origin="import")
    tasks = json.loads(export_bytes("label-studio"))
    for task in tasks:
        for annotation in task["annotations"]:
            del annotation["annotator"]  # as Label Studio's own export of our file has it
    before = sorted(Span.objects.values_list("label__name", "start", "end", "annotator__username", "origin"))
    restart_identities()
    path = tmp_path / "from-label-studio.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    run(path)
    after = sorted(Span.objects.values_list("label__name", "start", "end", "annotator__username", "origin"))
    assert after == before


def test_our_jsonl_with_label_reordered_keeps_each_detail_on_its_span(tmp_path):
    """Details carry start, end and label: a re-sorted ``label`` (doccano sorts by start, end, label) cannot move a
    note or an annotator to another span, even where two spans share a text."""
    build_corpus()
    article = Article.objects.get(pk=1)
    Span.objects.create(
        article=article,
        label=Label.objects.get(slug="claim"),
        start=32,
        end=42,
        text="Larchfield",
        annotator=get_user_model().objects.get(username="@lice"),
        note="same text, other label and annotator",
    )
    fields = ("article_id", "label__name", "start", "end", "annotator__username", "note", "origin")
    before = sorted(Span.objects.values_list(*fields))
    lines = [json.loads(line) for line in export_bytes("jsonl").decode().splitlines()]
    for line in lines:
        line["label"].reverse()
    path = tmp_path / "resorted.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    Span.objects.all().delete()
    run(path)
    assert sorted(Span.objects.values_list(*fields)) == before


def test_a_bad_user_map_is_refused_with_file_and_line(annotators, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("theirs,ours\n2,alice\n3\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"users\.csv:3: expected two columns: theirs,ours"):
        run(LS / "full.json", "--user-map", path)
    path.write_text("2,alice\n3,nobody\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"--user-map maps '3' to 'nobody', which is no user here"):
        run(LS / "full.json", "--user-map", path)
    assert Article.objects.count() == 0


def test_create_users_cannot_turn_label_studio_ids_into_users(db):
    with pytest.raises(CommandError, match=r"a Label Studio user id.*--user-map"):
        run(LS / "full.json", "--create-users")
    assert not get_user_model().objects.filter(username__in=["2", "3"]).exists()


def test_label_studio_completed_by_as_an_email_string(annotators, tmp_path):
    tasks = json.loads((LS / "snapshot.json").read_text(encoding="utf-8"))
    for task in tasks:
        for annotation in task["annotations"]:
            annotation["completed_by"] = annotation["completed_by"]["email"]
    path = tmp_path / "emails.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    run(path)
    assert stored() == source.expected()
