"""``import_articles`` on doccano JSONL and Label Studio JSON: spans come along, offsets converted, all or nothing."""

import json

import pytest
from django.core.management import CommandError

from annotations.imports.offsets import utf16_reader
from annotations.models import Span
from articles.models import Article
from tests.commands import run_command
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# "🚀" and "👩‍💻" lie outside the Basic Multilingual Plane: JavaScript counts each as two (👩‍💻 as five).
TEXT = "Mara Okonkwo 🚀 said Larchfield ships 👩‍💻 tools in May."
PERSON = (0, 12)
ORG_CP = (TEXT.index("Larchfield"), TEXT.index("Larchfield") + 10)  # (20, 30)
MAY_CP = (TEXT.index("May"), TEXT.index("May") + 3)  # (50, 53)
ORG_U16 = (21, 31)
MAY_U16 = (53, 56)  # past the text's 54 code points: this span only fits as UTF-16


def u16(offset: int) -> int:
    return len(TEXT[:offset].encode("utf-16-le")) // 2


def run(*args) -> str:
    return run_command("import_articles", *args)


def write_lines(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def spans():
    return sorted((s.label.name, s.start, s.end, s.text, s.annotator.username, s.origin) for s in Span.objects.all())


@pytest.fixture
def mara(db):
    return UserFactory(username="mara")


def test_offsets_in_the_test_text_really_differ():
    assert (u16(ORG_CP[0]), u16(ORG_CP[1])) == ORG_U16
    assert (u16(MAY_CP[0]), u16(MAY_CP[1])) == MAY_U16
    assert len(TEXT) == 54
    convert = utf16_reader(TEXT)
    assert [convert(o) for o in (*ORG_U16, *MAY_U16)] == [*ORG_CP, *MAY_CP]
    assert convert(14) is None  # between the two halves of 🚀


def test_doccano_label_triples_with_default_annotator(tmp_path, mara):
    path = write_lines(
        tmp_path / "doccano.jsonl",
        [
            {
                "id": 7,
                "text": "Plain text by Mara Okonkwo.\nSecond line.",
                "label": [[14, 26, "PERSON"]],
                "Comments": [],
            },
            {"id": 8, "text": "Larchfield ships.", "label": [[0, 10, "org"]], "section": "Chips"},
        ],
    )
    assert "imported 2 articles and 2 spans" in run(path, "--annotator", "mara")
    assert spans() == [
        ("ORG", 0, 10, "Larchfield", "mara", "import"),
        ("PERSON", 14, 26, "Mara Okonkwo", "mara", "import"),
    ]
    first = Article.objects.get(body__startswith="Plain")
    assert first.title == "Plain text by Mara Okonkwo."  # no title in doccano: the first line
    assert first.metadata == {}
    assert Article.objects.get(body__startswith="Larchfield").metadata == {"section": "Chips"}


def test_doccano_entities_layout(tmp_path, mara):
    path = write_lines(
        tmp_path / "doccano.jsonl",
        [
            {
                "text": "Larchfield ships.",
                "entities": [{"id": 1, "label": "ORG", "start_offset": 0, "end_offset": 10}],
                "relations": [{"id": 1, "from_id": 1, "to_id": 1, "type": "self"}],
            }
        ],
    )
    message = run(path, "--annotator", "mara")
    assert "imported 1 article and 1 span" in message
    assert f"note: {path}:1: relations are not imported" in message


def test_doccano_utf16_offsets_detected_and_converted(tmp_path, mara):
    # MAY_U16 only fits as UTF-16, so the whole file is read that way.
    path = write_lines(tmp_path / "d.jsonl", [{"text": TEXT, "label": [[*ORG_U16, "ORG"], [*MAY_U16, "ORG"]]}])
    message = run(path, "--annotator", "mara")
    assert f"note: {path}: offsets read as UTF-16 code units: the span at {path}:1 only fits that way" in message
    assert [(s[1], s[2], s[3]) for s in spans()] == [(*ORG_CP, "Larchfield"), (*MAY_CP, "May")]


def test_doccano_ambiguous_offsets_are_refused_naming_the_candidates(tmp_path, mara):
    # Issue 11: where nothing tells the units apart and they give different spans, the import must not guess
    # (it used to assume doccano's UTF-16 and import with exit 0); the refusal names each unit and its flag.
    path = write_lines(tmp_path / "d.jsonl", [{"text": TEXT, "label": [[*ORG_U16, "ORG"]]}])
    with pytest.raises(CommandError) as refused:
        run(path, "--annotator", "mara")
    for unit in ("codepoints", "utf16", "graphemes"):
        assert f"--offsets {unit}" in str(refused.value)
    assert Span.objects.count() == 0
    run(path, "--annotator", "mara", "--offsets", "utf16")
    assert [s[3] for s in spans()] == ["Larchfield"]


def test_offsets_flag_overrides_detection(tmp_path, mara):
    path = write_lines(tmp_path / "d.jsonl", [{"text": TEXT, "label": [[*ORG_U16, "ORG"]]}])
    message = run(path, "--annotator", "mara", "--offsets", "codepoints")
    assert "note:" not in message
    assert [s[3] for s in spans()] == ["archfield "]


def test_utf16_offset_inside_a_surrogate_pair_is_refused(tmp_path, mara):
    path = write_lines(tmp_path / "d.jsonl", [{"text": TEXT, "label": [[14, 56, "ORG"]]}])
    with pytest.raises(CommandError, match=rf"{path}:1: span 14-56 'ORG' splits a character: offset 14 falls between"):
        run(path, "--annotator", "mara", "--offsets", "utf16")
    # Where the other unit fits, the message says so.
    path = write_lines(tmp_path / "d.jsonl", [{"text": TEXT, "label": [[14, 20, "ORG"]]}])
    with pytest.raises(CommandError, match=r"as UTF-16 code units but does as code points; pass --offsets codepoints"):
        run(path, "--annotator", "mara", "--offsets", "utf16")
    assert Article.objects.count() == 0


def test_our_span_details_give_exact_detection(tmp_path, mara):
    # Our own export's per-span texts settle the unit even where both readings fit the text.
    row = {
        "text": TEXT,
        "label": [[*ORG_CP, "ORG"]],
        "spans": [{"id": 9, "text": "Larchfield", "annotator": "mara", "origin": "manual", "note": "n"}],
    }
    message = run(write_lines(tmp_path / "ours.jsonl", [row]))
    assert "offsets read as code points" in message
    assert spans() == [("ORG", *ORG_CP, "Larchfield", "mara", "manual")]
    assert Span.objects.get().note == "n"


def test_mixed_units_in_one_file_are_refused(tmp_path, mara):
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            {"text": TEXT, "label": [[*MAY_U16, "ORG"]]},
            {"text": TEXT + " Again.", "label": [[41, 46, "ORG"]], "spans": [{"text": "tools"}]},
        ],
    )
    with pytest.raises(CommandError, match=r"offsets mix code points .*:2\) and UTF-16 code units .*:1\)"):
        run(path, "--annotator", "mara")
    assert Article.objects.count() == 0


def test_doccano_errors_name_file_and_line_and_store_nothing(tmp_path, mara):
    good = {"text": "Larchfield ships.", "label": [[0, 10, "ORG"]]}
    cases = [
        ({"text": "Positive review.", "label": ["positive"]}, 'label[0] is "positive", not [start, end, "LABEL"]'),
        ({"text": "Short.", "label": [[0, 99, "ORG"]]}, "span 0-99 'ORG' is outside the text (6 characters)"),
        ({"text": "Short.", "label": [[0, 5, "NOPE"]]}, "unknown label 'NOPE'"),
        ({"text": "Short.", "label": [[0, 5.5, "ORG"]]}, "start and end must be whole numbers"),
        ({"text": "Short.", "label": [[0, 5, "ORG"]], "status": "lost"}, "status 'lost' is not one of"),
    ]
    for bad, message in cases:
        path = write_lines(tmp_path / "bad.jsonl", [good, bad])
        with pytest.raises(CommandError) as err:
            run(path, "--annotator", "mara")
        assert f"{path}:2" in str(err.value) and message in str(err.value), str(err.value)
        assert Article.objects.count() == 0


def test_unknown_or_missing_annotator(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [{"text": "Larchfield ships.", "label": [[0, 10, "ORG"]]}])
    # doccano writes one file per user, named after them: a span without an annotator is the file's user's.
    with pytest.raises(CommandError, match=r"d.jsonl:1: unknown annotator\(s\): 'd' .*pass --annotator"):
        run(path)
    with pytest.raises(CommandError, match=r"unknown annotator\(s\): 'ghost'"):
        run(path, "--annotator", "ghost")
    assert Article.objects.count() == 0


def ls_task(text, results, **annotation):
    return {
        "id": 1,
        "data": {"text": text},
        "annotations": [{"id": 1, "completed_by": 1, "result": results, **annotation}],
    }


def region(start, end, text, *labels, **extra):
    return {
        "id": "a1B2c3",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": list(labels)},
        **extra,
    }


def write_json(path, value):
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def test_label_studio_code_point_offsets(tmp_path, mara):
    path = write_json(
        tmp_path / "ls.json",
        [
            ls_task(
                TEXT,
                [region(*ORG_CP, "Larchfield", "ORG", "PERSON", meta={"text": ["check this"]})],
                completed_by={"id": 4, "email": "mara"},
                created_at="2024-05-06T07:08:09.101112Z",
            )
        ],
    )
    message = run(path)
    assert "offsets read as code points" in message
    assert spans() == [
        ("ORG", *ORG_CP, "Larchfield", "mara", "import"),
        ("PERSON", *ORG_CP, "Larchfield", "mara", "import"),
    ]
    assert {s.note for s in Span.objects.all()} == {"check this"}
    assert {s.created_at.isoformat() for s in Span.objects.all()} == {"2024-05-06T07:08:09.101112+00:00"}


def test_label_studio_utf16_offsets_from_older_versions(tmp_path, mara):
    path = write_json(tmp_path / "old.json", [ls_task(TEXT, [region(*ORG_U16, "Larchfield", "ORG", origin="manual")])])
    message = run(path, "--annotator", "mara")
    assert "offsets read as UTF-16 code units" in message and "converted to code points" in message
    assert spans() == [("ORG", *ORG_CP, "Larchfield", "mara", "manual")]


def test_label_studio_text_that_fits_no_reading_is_an_error(tmp_path, mara):
    path = write_json(
        tmp_path / "ls.json",
        [ls_task("Fine text.", []), ls_task(TEXT, [region(*ORG_CP, "Okonkwo", "ORG")])],
    )
    with pytest.raises(CommandError) as err:
        run(path, "--annotator", "mara")
    assert f"{path}:task 2: span 20-30 'ORG': the file says the text is 'Okonkwo', the article has 'Larchfield'" in str(
        err.value
    )
    assert Article.objects.count() == 0


def test_label_studio_skips_and_reports_what_is_not_a_span(tmp_path, mara):
    task = ls_task(
        "Larchfield ships.",
        [region(0, 10, "Larchfield", "ORG"), {"type": "choices", "value": {"choices": ["tech"]}}],
    )
    task["annotations"].append({"was_cancelled": True, "result": [region(0, 10, "Larchfield", "PERSON")]})
    task["predictions"] = [{"result": [region(11, 16, "ships", "ORG")]}]
    message = run(write_json(tmp_path / "ls.json", [task]), "--annotator", "mara")
    assert "skipped 1 cancelled annotations, 1 choices results, 1 predictions" in message
    assert spans() == [("ORG", 0, 10, "Larchfield", "mara", "import")]


def test_label_studio_json_min(tmp_path, mara):
    path = write_json(
        tmp_path / "min.json",
        [
            {
                "id": 3,
                "text": "Larchfield ships.",
                "title": "Ships",
                "label": [{"start": 0, "end": 10, "text": "Larchfield", "labels": ["ORG"]}],
                "annotator": "mara",
                "annotation_id": 9,
            }
        ],
    )
    assert "imported 1 article and 1 span" in run(path)
    assert Article.objects.get().title == "Ships"
    assert spans() == [("ORG", 0, 10, "Larchfield", "mara", "import")]


def test_label_studio_structure_errors(tmp_path, mara):
    for value, message in [
        ({"not": "a list"}, "task 1: the task has no data.text"),
        (
            [
                {
                    "data": {"text": "x y"},
                    "annotations": [{"result": [region(0, 1, "x", "ORG") | {"value": {"start": "0"}}]}],
                }
            ],
            "task 1: annotation 1: value.start and value.end must be whole numbers",
        ),
        ("[1,", "not valid JSON"),
    ]:
        path = tmp_path / "bad.json"
        path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
        with pytest.raises(CommandError, match=message):
            run(path, "--annotator", "mara")
    assert Article.objects.count() == 0
