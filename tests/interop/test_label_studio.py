"""Our ``label-studio`` export in a real Label Studio 1.23.2: imported unchanged, exported back span for span,
and every region shown by its editor in Chromium."""

from __future__ import annotations

import copy
import io
import json
from collections import Counter

import pytest
from playwright.sync_api import sync_playwright

from tests.interop.conftest import LS_EMAIL, LS_PASSWORD

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

LABELS = ("PERSON", "ORG", "CLAIM", "SPONSORED")
CONFIG = (
    '<View><Labels name="label" toName="text">'
    + "".join(f'<Label value="{label}"/>' for label in LABELS)
    + '</Labels><Text name="text" value="$text"/></View>'
)


def new_project(label_studio, title: str) -> int:
    return label_studio.api.json("POST", "/api/projects/", {"title": title, "label_config": CONFIG})["id"]


def export_project(label_studio, project: int, kind: str = "JSON") -> list[dict]:
    return label_studio.api.json("GET", f"/api/projects/{project}/export?exportType={kind}&download_all_tasks=true")


def regions(tasks: list[dict]) -> Counter:
    """Every region of every annotation: (text of the task, label, start, end, text, our annotator, our origin)."""
    found: Counter = Counter()
    for task in tasks:
        for annotation in task["annotations"]:
            for result in annotation["result"]:
                value = result["value"]
                for label in value["labels"]:
                    found[
                        (
                            task["data"]["text"],
                            label,
                            value["start"],
                            value["end"],
                            value["text"],
                            result["meta"]["annotator"],
                            result["meta"]["origin"],
                        )
                    ] += 1
    return found


def expected_regions(exports) -> Counter:
    return Counter(
        (exports.bodies[s.article], s.label, s.start, s.end, s.text, s.annotator, s.origin) for s in exports.expected
    )


@pytest.fixture(scope="module")
def imported(label_studio, exports):
    """Our export, imported into a fresh project of a Label Studio that has none of our users."""
    project = new_project(label_studio, "NewsNotes export")
    ours = json.loads(exports.path("label-studio.json").read_text(encoding="utf-8"))
    answer = label_studio.api.json("POST", f"/api/projects/{project}/import", ours)
    return project, ours, answer


def test_a_fresh_label_studio_imports_our_export_unchanged(imported, exports):
    _, ours, answer = imported
    assert answer["task_count"] == len(exports.bodies)
    assert answer["annotation_count"] == sum(len(task["annotations"]) for task in ours)
    assert not any("completed_by" in annotation for task in ours for annotation in task["annotations"])


def test_label_studio_exports_every_span_back_with_our_annotator_and_origin(label_studio, imported, exports):
    project, ours, _ = imported
    back = export_project(label_studio, project)
    assert regions(back) == expected_regions(exports) == regions(ours)
    # One annotation per annotator and article, as we wrote them: identical spans by alice and bob stay two.
    assert sorted(len(t["annotations"]) for t in back) == sorted(len(t["annotations"]) for t in ours)
    # Label Studio keeps our annotation ids as import_id, and every task field we wrote.
    by_text = {t["data"]["text"]: t for t in back}
    for task in ours:
        theirs = by_text[task["data"]["text"]]
        assert theirs["data"] == task["data"]
        assert sorted(a["import_id"] for a in theirs["annotations"]) == sorted(a["id"] for a in task["annotations"])


def test_label_studio_refuses_user_ids_it_does_not_know(label_studio, exports):
    """Why the export writes no completed_by: Label Studio refuses the whole file for one unknown id."""
    project = new_project(label_studio, "completed_by check")
    tasks = json.loads(exports.path("label-studio.json").read_text(encoding="utf-8"))[:1]
    tasks[0]["annotations"][0]["completed_by"] = 987654  # one of our user ids, unknown to this Label Studio
    status, payload = label_studio.api.call("POST", f"/api/projects/{project}/import", tasks)
    assert status == 400
    assert b"completed_by=987654 which is not a valid annotator's email or ID" in payload


def editor_regions(label_studio, project: int, task_ids: list[int]) -> dict[int, list[list[str]]]:
    """For each task, the region list the editor shows for each of its annotations (label + text per region)."""
    shown: dict[int, list[list[str]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            page.goto(label_studio.url + "/user/login/")
            page.fill("input[name=email]", LS_EMAIL)
            page.fill("input[name=password]", LS_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for task in task_ids:
                page.goto(f"{label_studio.url}/projects/{project}/data?task={task}")
                page.wait_for_load_state("networkidle")
                page.wait_for_selector(".lsf-annotation-button", timeout=60_000)
                page.wait_for_timeout(1000)
                buttons = page.locator(".lsf-annotation-button")
                lists = []
                for n in range(buttons.count()):
                    buttons.nth(n).locator(".lsf-annotation-button__mainSection").click()
                    page.wait_for_timeout(1000)
                    lists.append(sorted(page.locator(".lsf-tree-node-content-wrapper").all_text_contents()))
                shown[task] = lists
        finally:
            browser.close()
    return shown


def test_label_studio_editor_shows_every_region(label_studio, imported):
    project, _, _ = imported
    tasks = export_project(label_studio, project)
    # The hostile texts (emoji, combining marks, CJK, former CRLF, formulas) and two demo articles.
    chosen = [t for t in tasks if t["data"]["title"].startswith("Hostile")] + [t for t in tasks if t["annotations"]][:2]
    shown = editor_regions(label_studio, project, [t["id"] for t in chosen])
    for task in chosen:
        # The region list reads "<number><LABEL><text>" per region.
        wanted = sorted(
            sorted(f"{r['value']['labels'][0]}{r['value']['text']}" for r in a["result"]) for a in task["annotations"]
        )
        got = sorted(sorted(entry.lstrip("0123456789") for entry in listed) for listed in shown[task["id"]])
        assert got == wanted, task["data"]["title"]


def test_the_editor_check_sees_regions_label_studio_cannot_show(label_studio, exports):
    """The check above can fail: a region with an origin the editor does not know (what we wrote before) shows
    nothing, and the region list comes out empty."""
    project = new_project(label_studio, "origin check")
    tasks = json.loads(exports.path("label-studio.json").read_text(encoding="utf-8"))
    task = copy.deepcopy(next(t for t in tasks if t["data"]["title"] == "Hostile 1"))
    for annotation in task["annotations"]:
        for result in annotation["result"]:
            result["origin"] = "import"
    label_studio.api.json("POST", f"/api/projects/{project}/import", [task])
    (stored,) = export_project(label_studio, project)
    shown = editor_regions(label_studio, project, [stored["id"]])
    assert shown[stored["id"]] == [[] for _ in task["annotations"]]


def test_what_label_studio_exports_back_imports_into_newsnotes_span_for_span(label_studio, imported, tmp_path):
    """The other way: Label Studio's JSON export of our file, imported by ``import_articles`` into a corpus holding
    the same texts and users but no spans, gives back every span with its annotator and origin (from ``meta``;
    ``completed_by`` there is the Label Studio user who imported the file)."""
    from django.core.management import call_command

    from annotations.models import Span
    from tests.interop import corpus

    project, _, _ = imported
    back = export_project(label_studio, project)
    path = tmp_path / "from-label-studio.json"
    path.write_text(json.dumps(back, ensure_ascii=False), encoding="utf-8")
    given = corpus.build()
    want = Counter(
        (s.label.name, s.start, s.end, s.text, s.annotator.username, s.origin)
        for s in Span.objects.select_related("label", "annotator")
    )
    assert sum(want.values()) == len(given)
    Span.objects.all().delete()
    call_command("import_articles", str(path), stdout=io.StringIO())
    got = Counter(
        (s.label.name, s.start, s.end, s.text, s.annotator.username, s.origin)
        for s in Span.objects.select_related("label", "annotator")
    )
    assert got == want
