"""The streaming import: a file goes to the database a batch at a time through one transaction, with ``COPY``.

A bad line anywhere stores nothing and is named by file and line; history, layers and duplicates hold across
batches; memory stays flat as the file grows.
"""

import json
import threading
import tracemalloc

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError

from annotations.imports.records import spans_resolved
from annotations.imports.registry import read_paths
from annotations.imports.services import corpus_import
from annotations.models import Assignment, Span, SpanEvent
from articles.importers import ImportFailure
from articles.models import Article
from tests.commands import run_command
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def editor(username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def line(n: int, *, annotator: str = "mara", spans: int = 3, text: str | None = None) -> dict:
    body = text or f"Article {n} says Corvane hired Mara Okonkwo. " * 4
    found = [i for i in range(len(body)) if body.startswith("Corvane", i)][:spans]
    return {
        "text": body,
        "title": f"Article {n}",
        "url": f"https://example.com/{n}" if text is None else None,
        "offsets": "codepoints",
        "label": [[start, start + 7, "ORG"] for start in found],
        "spans": [
            {"start": start, "end": start + 7, "label": "ORG", "text": "Corvane", "annotator": annotator}
            for start in found
        ],
    }


def write(path, rows) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_a_bad_line_late_in_a_file_of_many_batches_stores_nothing_and_names_file_and_line(tmp_path, labels):
    editor("mara")
    rows = [line(n) for n in range(1, 2601)]
    # Line 2,500 is in the fifth batch of 500: four batches are already written when it is read.
    rows[2499]["label"][0] = [0, 10_000, "ORG"]
    rows[2499]["spans"][0]["end"] = 10_000
    path = write(tmp_path / "big.jsonl", rows)
    with pytest.raises(CommandError) as error:
        run_command("import_articles", path)
    assert f"{path}:2500" in str(error.value)
    assert Article.objects.count() == 0
    assert Span.objects.count() == 0
    assert SpanEvent.objects.count() == 0
    assert Assignment.objects.count() == 0


def test_invalid_json_late_in_a_file_stores_nothing(tmp_path, labels):
    editor("mara")
    path = tmp_path / "big.jsonl"
    write(path, [line(n) for n in range(1, 1500)])
    with path.open("a", encoding="utf-8") as out:
        out.write('{"text": "cut off\n')
    with pytest.raises(CommandError, match=f"{path}:1500: not valid JSON"):
        run_command("import_articles", path)
    assert Article.objects.count() == 0


def test_imported_spans_have_one_insert_event_each_under_the_import(tmp_path, labels):
    editor("mara")
    out = run_command("import_articles", write(tmp_path / "a.jsonl", [line(n) for n in range(1, 1201)]))
    assert "imported 1200 articles and 3600 spans" in out
    events = SpanEvent.objects.select_related("pgh_context")
    assert events.count() == 3600
    assert {e.pgh_label for e in events} == {"insert"}
    assert {e.pgh_context.metadata["action"] for e in events} == {"corpus_import"}
    assert set(events.values_list("pgh_obj_id", flat=True)) == set(Span.objects.values_list("pk", flat=True))
    # The editor holds a started slot on every article they labelled.
    assert Assignment.objects.filter(user__username="mara", started_at__isnull=False).count() == 1200


def test_duplicates_and_layers_across_batches(tmp_path, labels):
    mara, ines = editor("mara"), editor("ines")
    first = [line(n) for n in range(1, 4)]
    # Batch 1 stores articles 1-2, batch 2 repeats article 1 with another editor's spans (a layer) and article 2
    # with the same editor's spans (already present), batch 3 repeats article 1's text under another url.
    again_ines = line(1, annotator="ines")
    again_mara = line(2)
    same_text = {**line(1, annotator="ines"), "url": "https://elsewhere.example/1"}
    stream = [first[0], first[1], again_ines, again_mara, same_text, first[2]]
    rows = "".join(json.dumps(r) + "\n" for r in stream)
    path = tmp_path / "layers.jsonl"
    path.write_text(rows, encoding="utf-8")
    result = corpus_import(records=spans_resolved(read_paths([path], defer=True)), batch_size=2)
    assert result.created_count == 3
    assert result.duplicate_count == 3
    assert [reason for _, reason in result.duplicates] == [
        f"same text as {path}:1",
        f"same text as {path}:2",
        f"same text as {path}:1",
    ]
    assert result.span_count == 9 + 3
    assert result.present_span_count == 3 + 3
    article = Article.objects.get(url="https://example.com/1")
    assert sorted(article.spans.values_list("annotator__username", flat=True)) == ["ines"] * 3 + ["mara"] * 3
    assert {a.user for a in Assignment.objects.filter(article=article)} == {mara, ines}


def _peak(tmp_path, count: int, first: int) -> tuple[int, int]:
    path = tmp_path / f"{count}.jsonl"
    body = "Corvane hired Mara Okonkwo, who said the chips ship in May. " * 40
    write(path, [line(n, text=f"{n} {body}") for n in range(first, first + count)])
    tracemalloc.start()
    try:
        records = spans_resolved(read_paths([path], defer=True), batch_size=100)
        result = corpus_import(records=records, batch_size=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.created_count == count
    return path.stat().st_size, peak


def test_memory_stays_flat_as_the_file_grows_fourfold(tmp_path, labels):
    editor("mara")
    # Batches of 100: reading ahead, laying out one while the writer thread writes the one before, the import
    # holds up to five batches at once; the smaller file is big enough to fill that pipeline.
    small_size, small_peak = _peak(tmp_path, 600, 1)
    big_size, big_peak = _peak(tmp_path, 2400, 10_000)
    # Held whole, the records of the bigger file would take several times its extra bytes; streamed, one batch,
    # and what the import keeps of every article on purpose: its text's hash and its URL, to name the line a
    # duplicate repeats ("same text as feed.jsonl:12"), some 600-750 bytes each here (1.36 MB for the 1,800 more,
    # a quarter of the extra bytes once, in a full suite run on 2 cores: the bound was a quarter).
    assert big_size - small_size > 2_000_000
    assert big_peak - small_peak < (big_size - small_size) / 2


def test_the_next_batch_is_read_ahead_but_a_failure_stops_the_reading(tmp_path, labels):
    """Batches are read one ahead in a thread while the current one is stored; when storing fails (here: an
    annotator who does not exist) the reader stops instead of reading the rest of the file, and nothing is
    stored."""
    editor("mara")
    path = tmp_path / "feed.jsonl"
    lines = [line(n) for n in range(1, 1001)]
    lines[49]["spans"][0]["annotator"] = "nobody"
    write(path, lines)
    read: list[int] = []

    def counted():
        for record in spans_resolved(read_paths([path], defer=True), batch_size=50):
            read.append(1)
            yield record

    with pytest.raises(ImportFailure, match=r"feed.jsonl:50: .*nobody"):
        corpus_import(records=counted(), batch_size=50)
    assert not Article.objects.exists()
    assert len(read) <= 200  # the failing batch, the one read ahead, and at most one resolver batch more


def test_keys_are_checked_per_batch_and_deferred_again_for_the_rest_of_the_callers_transaction(tmp_path, labels):
    """The import checks foreign keys at each COPY (SET CONSTRAINTS ALL IMMEDIATE), then gives the caller's
    transaction back as it was: Django's keys deferred to the commit."""
    from django.db import connection, transaction

    editor("mara")
    path = write(tmp_path / "a.jsonl", [line(n) for n in range(1, 4)])
    records = spans_resolved(read_paths([path], defer=True))
    with transaction.atomic():
        corpus_import(records=records)
        article = Article.objects.get(title="Article 1")
        with connection.cursor() as cursor:
            # A span pointing at an article that does not exist yet: fine until the commit, as Django expects.
            cursor.execute(
                'INSERT INTO annotations_span (article_id, label_id, start, "end", text, annotator_id, origin, '
                'note, attributes, created_at, updated_at) SELECT %s, label_id, start, "end", text, '
                "annotator_id, origin, note, attributes, now(), now() FROM annotations_span WHERE article_id = %s "
                "LIMIT 1",
                [article.pk + 1000, article.pk],
            )
            cursor.execute("DELETE FROM annotations_span WHERE article_id = %s", [article.pk + 1000])
    assert Span.objects.count() == 9


def _refuse_spans_noted(note: str) -> None:
    """A trigger (rolled back with the test) that fails a span's insert inside the COPY, where no Python check
    sees it: the database's own refusal, as a concurrent writer's unique key or a constraint would give."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_span() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by the database: %', NEW.note USING ERRCODE = 'check_violation'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_span BEFORE INSERT ON annotations_span FOR EACH ROW "
            f"WHEN (NEW.note = '{note}') EXECUTE FUNCTION test_refuse_span()"
        )


def test_a_write_refused_by_the_database_in_the_writer_thread_names_its_record_and_stores_nothing(tmp_path, labels):
    """The COPYs run in a thread while the next batch is laid out (annotations.imports.writer): the database's
    refusal of batch 2's spans reaches the caller naming the record and the span (PostgreSQL numbers the row of
    the COPY), batch 1 (written) is rolled back with it, and the transaction ends with no write still running."""
    from django.db import connection

    editor("mara")
    rows = [line(n) for n in range(1, 8)]
    rows[3]["spans"][1]["note"] = "poison"  # batch 2 of 3 per batch
    path = write(tmp_path / "refused.jsonl", rows)
    _refuse_spans_noted("poison")
    span = rows[3]["spans"][1]
    where = rf"refused.jsonl:4: the database refused span \w+ {span['start']}-{span['end']}: .*by the database: poison"
    with pytest.raises(ImportFailure, match=where):
        corpus_import(records=spans_resolved(read_paths([path], defer=True)), batch_size=3)
    connection.needs_rollback = False  # the test's own transaction: the import's savepoint rolled back
    assert not Article.objects.exists()
    assert not Span.objects.exists()
    assert "import-writer" not in {thread.name for thread in threading.enumerate()}


def test_an_earlier_batchs_refused_write_is_raised_before_a_later_batchs_bad_line(tmp_path, labels):
    """Batch 1's COPY fails in the writer thread while batch 2 (with an unknown label) is being laid out: the
    failure that comes first in the file is the one reported."""
    editor("mara")
    rows = [line(n) for n in range(1, 5)]
    rows[0]["spans"][0]["note"] = "poison"
    rows[3]["label"][0][2] = rows[3]["spans"][0]["label"] = "NOT-A-LABEL"
    path = write(tmp_path / "both.jsonl", rows)
    _refuse_spans_noted("poison")
    with pytest.raises(ImportFailure, match=r"both.jsonl:1: .*poison"):
        corpus_import(records=spans_resolved(read_paths([path], defer=True)), batch_size=2)


def test_layers_on_articles_of_the_batch_being_written_find_them(tmp_path, labels):
    """A record repeating an article of the same batch, or of the batch whose writes are still held, adds its
    spans as a layer: those articles are written before the layer looks for them."""
    editor("mara"), editor("ines")
    rows = [line(1), line(2), line(2, annotator="ines"), line(3), line(1, annotator="ines"), line(4)]
    path = write(tmp_path / "layers.jsonl", rows)
    result = corpus_import(records=spans_resolved(read_paths([path], defer=True)), batch_size=3)
    assert (result.created_count, result.duplicate_count, result.span_count) == (4, 2, 4 * 3 + 6)
    for n in (1, 2):
        article = Article.objects.get(url=f"https://example.com/{n}")
        assert sorted(article.spans.values_list("annotator__username", flat=True)) == ["ines"] * 3 + ["mara"] * 3
    assert Span.objects.count() == 4 * 3 + 6
