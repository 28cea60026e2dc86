"""Pending suggestions in the JSON exports: only when a researcher asks, and never mistaken for anyone's spans.

doccano JSONL gets a ``suggestions`` list beside ``label``/``spans``; Label Studio JSON gets the task's
``predictions`` (Label Studio's own place for machine proposals). The same option works from the export page and
``manage.py export_spans --include-suggestions``; every file is read back here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from annotations.exports import ExportFilters, ExportOptions, export
from annotations.exports.common import utf16_offsets
from annotations.imports.doccano import read as read_doccano
from annotations.imports.label_studio import read as read_label_studio
from annotations.spans.services import span_create
from annotations.suggestions import decisions
from annotations.suggestions.models import Suggestion, SuggestionOrigin, SuggestionStatus
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

# Emoji before the suggestions: code points and UTF-16 units differ there.
BODY = "👩‍💻 Ada met Ada in Oslo. Ada smiled.\n\nQuillix is sponsored news for 🚀 teams everywhere today."


@pytest.fixture
def suggested(labels, editor):
    article = ArticleFactory(body=BODY)
    first = BODY.index("Ada")
    span_create(article=article, label=labels["person"], start=first, end=first + 3, annotator=editor)
    second = BODY.index("Ada", first + 1)
    pending = Suggestion.objects.create(
        article=article, label=labels["person"], start=second, end=second + 3, text="Ada",
        origin=SuggestionOrigin.PROPAGATION,
    )  # fmt: skip
    footer = BODY.index("Quillix")
    boilerplate = Suggestion.objects.create(
        article=article, label=labels["sponsored"], start=footer, end=len(BODY), text=BODY[footer:],
        origin=SuggestionOrigin.BOILERPLATE,
    )  # fmt: skip
    third = BODY.index("Ada", second + 1)
    accepted = Suggestion.objects.create(
        article=article, label=labels["person"], start=third, end=third + 3, text="Ada", origin=SuggestionOrigin.PLUGIN
    )
    # An editor accepts one: it becomes that editor's span of origin "suggestion"; it still waits for the other
    # editors (decisions are per editor), so it stays a pending suggestion too, marked as one.
    decisions.suggestion_accept(suggestion_id=accepted.pk, article=article, editor=editor)
    # A suggestion withdrawn for good (not pending) is never exported.
    Suggestion.objects.create(
        article=article, label=labels["org"], start=BODY.index("Oslo"), end=BODY.index("Oslo") + 4, text="Oslo",
        origin=SuggestionOrigin.PLUGIN, status=SuggestionStatus.REJECTED, decided_at=timezone.now(),
    )  # fmt: skip
    assert Suggestion.objects.filter(status=SuggestionStatus.PENDING).count() == 3
    return {"article": article, "pending": pending, "boilerplate": boilerplate, "accepted": accepted, "third": third}


def exported(key: str, *, suggestions: bool, utf16: bool = False) -> bytes:
    return b"".join(export(key, ExportFilters(), ExportOptions(suggestions=suggestions, utf16=utf16)))


def test_jsonl_leaves_suggestions_out_unless_asked(suggested):
    (line,) = exported("jsonl", suggestions=False).decode().splitlines()
    document = json.loads(line)
    assert "suggestions" not in document
    assert [(s["origin"], s["start"]) for s in document["spans"]] == [
        ("manual", BODY.index("Ada")),
        ("suggestion", suggested["third"]),
    ]


@pytest.mark.parametrize("utf16", [False, True])
def test_jsonl_marks_pending_suggestions_apart_from_spans(suggested, utf16):
    (line,) = exported("jsonl", suggestions=True, utf16=utf16).decode().splitlines()
    document = json.loads(line)
    position = utf16_offsets(BODY) if utf16 else (lambda offset: offset)
    pending, boilerplate, accepted = suggested["pending"], suggested["boilerplate"], suggested["accepted"]
    # The labels doccano imports are the editors' spans only, as without the option.
    assert [entry[2] for entry in document["label"]] == ["PERSON", "PERSON"]
    assert {s["origin"] for s in document["spans"]} == {"manual", "suggestion"}
    assert document["suggestions"] == [
        {
            "id": f"suggestion-{pending.pk}", "layer": "suggestion", "origin": "pending-suggestion",
            "start": position(pending.start), "end": position(pending.end), "label": "PERSON", "text": "Ada",
            "suggested_by": "propagation", "family": None,
            "created_at": pending.created_at.isoformat().replace("+00:00", "Z"),
        },
        {
            "id": f"suggestion-{accepted.pk}", "layer": "suggestion", "origin": "pending-suggestion",
            "start": position(accepted.start), "end": position(accepted.end), "label": "PERSON", "text": "Ada",
            "suggested_by": "plugin", "family": None,
            "created_at": accepted.created_at.isoformat().replace("+00:00", "Z"),
        },
        {
            "id": f"suggestion-{boilerplate.pk}", "layer": "suggestion", "origin": "pending-suggestion",
            "start": position(boilerplate.start), "end": position(len(BODY)), "label": "SPONSORED",
            "text": BODY[boilerplate.start :], "suggested_by": "boilerplate", "family": None,
            "created_at": boilerplate.created_at.isoformat().replace("+00:00", "Z"),
        },
    ]  # fmt: skip
    if utf16:
        assert document["suggestions"][0]["start"] == pending.start + 2  # 👩‍💻 is 3 code points, 5 UTF-16 units


def test_jsonl_with_suggestions_imports_back_without_them(suggested):
    """Our own importer must not turn pending suggestions into spans or article metadata."""
    (record,) = list(read_doccano(Path("export.jsonl"), exported("jsonl", suggestions=True)))
    assert sorted((s.start, s.origin) for s in record.spans) == [
        (BODY.index("Ada"), "manual"),
        (suggested["third"], "suggestion"),
    ]
    assert "suggestions" not in record.metadata


def test_label_studio_leaves_predictions_out_unless_asked(suggested):
    (task,) = json.loads(exported("label-studio", suggestions=False))
    assert "predictions" not in task


@pytest.mark.parametrize("utf16", [False, True])
def test_label_studio_writes_pending_suggestions_as_predictions(suggested, utf16):
    (task,) = json.loads(exported("label-studio", suggestions=True, utf16=utf16))
    position = utf16_offsets(BODY) if utf16 else (lambda offset: offset)
    # Annotations hold the editors' spans only; the pending suggestions are one prediction, Label Studio's format:
    # {"model_version", "result": [regions like an annotation's]}.
    regions = [r for a in task["annotations"] for r in a["result"]]
    assert {r["meta"]["origin"] for r in regions} == {"manual", "suggestion"}
    (prediction,) = task["predictions"]
    assert prediction["model_version"] == "newsnotes-suggestions"
    pending, boilerplate, accepted = suggested["pending"], suggested["boilerplate"], suggested["accepted"]
    assert [
        (r["id"], r["type"], r["from_name"], r["to_name"], r["origin"], r["value"], r["meta"])
        for r in prediction["result"]
    ] == [
        (
            f"suggestion-{pending.pk}", "labels", "label", "text", "prediction",
            {"start": position(pending.start), "end": position(pending.end), "text": "Ada", "labels": ["PERSON"]},
            {"origin": "pending-suggestion", "layer": "suggestion", "suggested_by": "propagation", "family": None},
        ),
        (
            f"suggestion-{accepted.pk}", "labels", "label", "text", "prediction",
            {"start": position(accepted.start), "end": position(accepted.end), "text": "Ada", "labels": ["PERSON"]},
            {"origin": "pending-suggestion", "layer": "suggestion", "suggested_by": "plugin", "family": None},
        ),
        (
            f"suggestion-{boilerplate.pk}", "labels", "label", "text", "prediction",
            {
                "start": position(boilerplate.start), "end": position(len(BODY)), "text": BODY[boilerplate.start :],
                "labels": ["SPONSORED"],
            },
            {"origin": "pending-suggestion", "layer": "suggestion", "suggested_by": "boilerplate", "family": None},
        ),
    ]  # fmt: skip
    for region in prediction["result"]:
        value = region["value"]
        text = BODY.encode("utf-16-le")[2 * value["start"] : 2 * value["end"]].decode("utf-16-le") if utf16 else None
        assert (text if utf16 else BODY[value["start"] : value["end"]]) == value["text"]


def test_label_studio_task_without_suggestions_has_an_empty_prediction_list(labels, editor):
    ArticleFactory(body="Nothing suggested here.")
    (task,) = json.loads(exported("label-studio", suggestions=True))
    assert task["predictions"] == []


def test_label_studio_file_with_predictions_imports_back_without_them(suggested):
    (record,) = list(read_label_studio(Path("export.json"), exported("label-studio", suggestions=True)))
    assert sorted((s.start, s.origin) for s in record.spans) == [
        (BODY.index("Ada"), "manual"),
        (suggested["third"], "suggestion"),
    ]


@pytest.mark.parametrize("key", ["jsonl", "label-studio"])
def test_export_page_asks_for_suggestions_explicitly(suggested, curator, client, key):
    client.force_login(curator)

    def download(**extra) -> bytes:
        response = client.get(reverse("annotations:export-download"), {"format": key, **extra})
        assert response.status_code == 200
        return b"".join(response.streaming_content)

    assert download() == exported(key, suggestions=False)
    assert download(include_suggestions="on") == exported(key, suggestions=True)
    assert b"pending-suggestion" in download(include_suggestions="on")
    assert b"pending-suggestion" not in download()


@pytest.mark.parametrize("key", ["csv", "jsonl", "label-studio"])
def test_export_command_includes_suggestions_only_with_the_option(suggested, tmp_path, key):
    plain, asked = tmp_path / "plain", tmp_path / "asked"
    call_command("export_spans", "--format", key, "-o", str(plain), stdout=io.StringIO(), stderr=io.StringIO())
    call_command(
        "export_spans", "--format", key, "--include-suggestions", "-o", str(asked),
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert b"pending-suggestion" not in plain.read_bytes()
    assert asked.read_bytes().count(b"pending-suggestion") == 3
    if key != "csv":
        assert asked.read_bytes() == exported(key, suggestions=True)
        assert plain.read_bytes() == exported(key, suggestions=False)
