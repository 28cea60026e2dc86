"""The import fixtures in ``tests/fixtures/interop/`` are files Label Studio 1.23.2 and doccano 1.8.4 wrote.

Each run gives ``source.json`` (texts with emoji, CJK, CRLF; spans by alice and bob, some identical) to the
real tools through their HTTP APIs and reads their exports back: the spans must be the ones given, and the
same as in the committed fixtures (ids and times aside). ``INTEROP_WRITE_FIXTURES=1 make interop`` writes the
fresh exports over the committed ones.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.interop import source
from tests.interop.conftest import FIXTURES
from tests.interop.test_doccano import create_project, download, upload
from tests.interop.test_label_studio import export_project, new_project

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

WRITE = os.environ.get("INTEROP_WRITE_FIXTURES") == "1"


def keep(written: Path, name: str) -> Path:
    """The committed fixture ``name``; with INTEROP_WRITE_FIXTURES=1, first replaced by the fresh file."""
    committed = FIXTURES / name
    if WRITE:
        committed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(written, committed)
    return committed


def given_spans(convention: str) -> Counter:
    return Counter(
        (
            g.text,
            g.label,
            source.offset(g.text, g.start, convention),
            source.offset(g.text, g.end, convention),
            g.annotator,
        )
        for g in source.load()
    )


def region(n: int, g: source.Given) -> dict:
    return {
        "id": f"r{n}",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": g.start, "end": g.end, "text": g.quote, "labels": [g.label]},
    }


def ls_spans(tasks: list[dict], emails: dict[int, str]) -> Counter:
    found: Counter = Counter()
    for task in tasks:
        for annotation in task["annotations"]:
            who = annotation["completed_by"]
            email = who["email"] if isinstance(who, dict) else emails[who]
            for result in annotation["result"]:
                value = result["value"]
                found[
                    (task["data"]["text"], value["labels"][0], value["start"], value["end"], email.split("@")[0])
                ] += 1
    return found


def ls_min_spans(rows: list[dict], emails: dict[int, str]) -> Counter:
    found: Counter = Counter()
    for row in rows:
        who = emails[row["annotator"]] if isinstance(row["annotator"], int) else row["annotator"]
        for value in row.get("label", []):
            found[(row["text"], value["labels"][0], value["start"], value["end"], who.split("@")[0])] += 1
    return found


def test_label_studio_writes_the_import_fixtures(label_studio, tmp_path):
    api = label_studio.api
    emails = {}
    for name, email in source.ANNOTATORS.items():
        user = api.json("POST", "/api/users/", {"email": email, "username": name, "first_name": name.title()})
        emails[user["id"]] = email
    project = new_project(label_studio, "NewsNotes fixtures")
    tasks = []
    for title, text in source.texts():
        annotations = []
        for name, email in source.ANNOTATORS.items():
            mine = [g for g in source.load() if g.title == title and g.annotator == name]
            annotations.append({"completed_by": {"email": email}, "result": [region(n, g) for n, g in enumerate(mine)]})
        tasks.append({"data": {"text": text, "title": title}, "annotations": annotations})
    api.json("POST", f"/api/projects/{project}/import", tasks)

    full = export_project(label_studio, project)
    assert all(isinstance(a["completed_by"], int) for t in full for a in t["annotations"])
    minimal = export_project(label_studio, project, "JSON_MIN")
    snapshot = api.json(
        "POST",
        f"/api/projects/{project}/exports/",
        {"title": "fixtures", "serialization_options": {"annotations__completed_by": {"only_id": False}}},
    )
    deadline = time.monotonic() + 120
    while api.json("GET", f"/api/projects/{project}/exports/{snapshot['id']}")["status"] != "completed":
        assert time.monotonic() < deadline, "Label Studio's snapshot export did not complete"
        time.sleep(0.5)
    status, data = api.call("GET", f"/api/projects/{project}/exports/{snapshot['id']}/download?exportType=JSON")
    assert status == 200
    snapshot_tasks = json.loads(data)
    assert all(isinstance(a["completed_by"], dict) for t in snapshot_tasks for a in t["annotations"])

    given = given_spans("codepoints")
    assert ls_spans(full, emails) == given
    assert ls_spans(snapshot_tasks, emails) == given
    assert ls_min_spans(minimal, emails) == given
    for name, value in [("full.json", full), ("json-min.json", minimal), ("snapshot.json", snapshot_tasks)]:
        written = tmp_path / name
        written.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        committed = json.loads(keep(written, f"label-studio-1.23.2/{name}").read_text(encoding="utf-8"))
        if name == "json-min.json":
            assert ls_min_spans(committed, emails) == given
        else:
            assert ls_spans(committed, emails) == given


def doccano_spans(files: dict[str, list[dict]]) -> Counter:
    return Counter(
        (line["text"], label, start, end, name.removesuffix(".jsonl"))
        for name, lines in files.items()
        for line in lines
        for start, end, label in line["label"]
    )


@pytest.mark.parametrize("convention", ["utf16", "graphemes"])
def test_doccano_writes_the_import_fixtures(doccano, tmp_path, convention):
    admin = doccano.login("admin")
    project = create_project(admin, f"fixtures-{convention}", graphemes=convention == "graphemes")
    lines = "".join(
        json.dumps({"text": text, "title": title}, ensure_ascii=False) + "\n" for title, text in source.texts()
    )
    upload(admin, project, "texts.jsonl", lines.encode())
    label_ids = {}
    for n, name in enumerate(("PERSON", "ORG", "CLAIM", "SPONSORED")):
        label_ids[name] = admin.json(
            "POST",
            f"/v1/projects/{project}/span-types",
            {"text": name, "suffix_key": str(n + 1), "background_color": "#209cee", "text_color": "#ffffff"},
        )["id"]
    roles = {role["name"]: role["id"] for role in admin.json("GET", "/v1/roles")}
    users = {}
    for name in source.ANNOTATORS:
        if name not in users:
            existing = {u["username"]: u["id"] for u in admin.json("GET", "/v1/users")}
            if name not in existing:
                doccano.create_user(name)
                existing = {u["username"]: u["id"] for u in admin.json("GET", "/v1/users")}
            users[name] = existing[name]
        admin.json("POST", f"/v1/projects/{project}/members", {"user": users[name], "role": roles["annotator"]})
    examples = admin.json("GET", f"/v1/projects/{project}/examples?limit=100")["results"]
    by_text = {example["text"]: example["id"] for example in examples}
    for name in source.ANNOTATORS:
        api = doccano.login(name)
        for g in (g for g in source.load() if g.annotator == name):
            api.json(
                "POST",
                f"/v1/projects/{project}/examples/{by_text[g.text]}/spans",
                {
                    "label": label_ids[g.label],
                    "start_offset": source.offset(g.text, g.start, convention),
                    "end_offset": source.offset(g.text, g.end, convention),
                },
            )
    files = {name: lines for name, lines in download(admin, project).items() if name != "admin.jsonl"}
    assert sorted(files) == ["alice.jsonl", "bob.jsonl"]
    given = given_spans(convention)
    assert doccano_spans(files) == given
    for name, rows in files.items():
        written = tmp_path / name
        written.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        keep(written, f"doccano-1.8.4/{convention}/{name}")
    committed = {
        path.name: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for path in (FIXTURES / f"doccano-1.8.4/{convention}").glob("*.jsonl")
    }
    assert doccano_spans(committed) == given


def test_doccano_writes_its_export_of_our_jsonl(doccano, exports, tmp_path):
    """doccano's export of our own JSONL (the hostile articles): it re-sorts ``label`` and keeps our ``spans``."""
    admin = doccano.login("admin")
    project = create_project(admin, "newsnotes-roundtrip-fixture")
    ours = [json.loads(line) for line in exports.path("corpus-utf16.jsonl").read_text(encoding="utf-8").splitlines()]
    hostile = [line for line in ours if line["title"].startswith("Hostile")]
    upload(
        admin, project, "newsnotes.jsonl", "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in hostile).encode()
    )
    (lines,) = download(admin, project).values()
    assert doccano_spans({"admin.jsonl": lines}) == doccano_spans({"admin.jsonl": hostile})
    assert any(line["label"] != next(h for h in hostile if h["text"] == line["text"])["label"] for line in lines)
    written = tmp_path / "admin.jsonl"
    written.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    committed = keep(written, "doccano-1.8.4/newsnotes-jsonl/admin.jsonl")
    back = [json.loads(line) for line in committed.read_text(encoding="utf-8").splitlines()]
    assert doccano_spans({"admin.jsonl": back}) == doccano_spans({"admin.jsonl": hostile})
