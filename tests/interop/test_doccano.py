"""Our ``jsonl`` export in a real doccano 1.8.4 (sequence labelling): imported through its upload API, exported
back, span for span; and what happens without "allow overlapping"."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections import Counter

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

TASK_TIMEOUT = 180


def multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def wait_task(api, task_id: str) -> dict:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        status = api.json("GET", f"/v1/tasks/status/{task_id}")
        if status.get("ready"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"doccano task {task_id} did not finish in {TASK_TIMEOUT} s")


def create_project(api, name: str, *, overlapping: bool = True, graphemes: bool = False) -> int:
    return api.json(
        "POST",
        "/v1/projects",
        {
            "name": name,
            "description": "NewsNotes interop",
            "guideline": "",
            "project_type": "SequenceLabeling",
            "resourcetype": "SequenceLabelingProject",
            "random_order": False,
            "collaborative_annotation": False,
            "allow_overlapping": overlapping,
            "grapheme_mode": graphemes,
            "use_relation": False,
            "tags": [],
        },
    )["id"]


def upload(api, project: int, name: str, data: bytes) -> dict:
    body, content_type = multipart("filepond", name, data)
    status, upload_id = api.call("POST", "/v1/fp/process/", raw=body, content_type=content_type)
    assert status == 200, upload_id
    task = api.json(
        "POST",
        f"/v1/projects/{project}/upload",
        {
            "uploadIds": [upload_id.decode()],
            "format": "JSONL",
            "task": "SequenceLabeling",
            "column_data": "text",
            "column_label": "label",
            "encoding": "utf_8",
        },
        expect=(200, 201, 202),
    )["task_id"]
    return wait_task(api, task)


def download(api, project: int) -> dict[str, list[dict]]:
    """doccano's JSONL export: a zip with one file per user (name.jsonl); their lines, parsed."""
    task = api.json("POST", f"/v1/projects/{project}/download", {"format": "JSONL", "exportApproved": False})["task_id"]
    wait_task(api, task)
    status, data = api.call("GET", f"/v1/projects/{project}/download?taskId={task}")
    assert status == 200, data[:300]
    files = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            files[name] = [json.loads(line) for line in archive.read(name).decode().splitlines() if line]
    return files


def spans_of(lines: list[dict]) -> Counter:
    return Counter((line["text"], start, end, label) for line in lines for start, end, label in line["label"])


@pytest.fixture(scope="module")
def admin(doccano):
    return doccano.login("admin")


def test_doccano_imports_our_jsonl_and_exports_every_span(admin, exports):
    ours = exports.path("corpus-utf16.jsonl").read_bytes()
    project = create_project(admin, "newsnotes-overlapping")
    result = upload(admin, project, "newsnotes.jsonl", ours)
    assert not result.get("result", {}).get("error"), result
    files = download(admin, project)
    assert list(files) == ["admin.jsonl"]
    lines = [json.loads(line) for line in ours.decode().splitlines()]
    assert spans_of(files["admin.jsonl"]) == spans_of(lines)
    # doccano keeps every other key we wrote (title, spans, metadata ...) and gives it back.
    back = {line["text"]: line for line in files["admin.jsonl"]}
    for line in lines:
        theirs = back[line["text"]]
        for key, value in line.items():
            if key not in ("id", "label"):
                assert theirs[key] == value, key


def test_doccano_without_allow_overlapping_drops_spans_silently(admin, exports):
    """Why the README asks for "allow overlapping": without it doccano's import leaves overlapping spans out
    (identical spans by two annotators included) and reports no error."""
    ours = exports.path("corpus-utf16.jsonl").read_bytes()
    project = create_project(admin, "newsnotes-no-overlap", overlapping=False)
    result = upload(admin, project, "newsnotes.jsonl", ours)
    assert not result.get("result", {}).get("error"), result
    lines = [json.loads(line) for line in ours.decode().splitlines()]
    kept = sum(spans_of(download(admin, project)["admin.jsonl"]).values())
    assert kept < sum(spans_of(lines).values())


# What doccano's labelling page underlines, per span: its label and the characters under the line. A wide page
# keeps each text on one row; the row's <text> holds the characters and each underline is an SVG <line>.
UNDERLINED = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg[id^=svg]')) {
    const row = svg.querySelector('text[id]');
    if (!row) continue;
    for (const g of svg.querySelectorAll('g')) {
      const line = g.querySelector(':scope > line');
      const label = g.querySelector(':scope > g > text');
      if (!line || !label) continue;
      const x1 = +line.getAttribute('x1'), x2 = +line.getAttribute('x2');
      let first = -1, last = -1;
      for (let i = 0; i < row.getNumberOfChars(); i++) {
        const a = row.getStartPositionOfChar(i).x, b = row.getEndPositionOfChar(i).x;
        if (b <= a) continue;
        const middle = (a + b) / 2;
        if (middle > x1 - 2.5 && middle < x2 + 2.5) { if (first < 0) first = i; last = i; }
      }
      found.push([label.textContent, first < 0 ? '' : row.textContent.slice(first, last + 1)]);
    }
  }
  return found;
}"""


def underlined(doccano, project: int) -> list[list[str]]:
    from playwright.sync_api import sync_playwright

    from tests.interop.conftest import DOCCANO_PASSWORD

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page(viewport={"width": 3000, "height": 1200})
            page.goto(doccano.url + "/auth")
            page.wait_for_load_state("networkidle")
            page.locator("input").nth(0).fill("admin")
            page.locator("input[type=password]").fill(DOCCANO_PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_timeout(3000)
            page.goto(f"{doccano.url}/projects/{project}")
            page.wait_for_load_state("networkidle")
            # The button's link needs the project's type, which the page loads after it draws the button.
            page.wait_for_timeout(3000)
            page.get_by_text("Start Annotation").click()
            page.wait_for_url("**/sequence-labeling**", timeout=60_000)
            page.wait_for_selector("svg[id^=svg] text[id]", timeout=60_000)
            page.wait_for_timeout(2000)
            return page.evaluate(UNDERLINED)
        finally:
            browser.close()


@pytest.mark.parametrize("name,exact", [("corpus-utf16.jsonl", True), ("corpus.jsonl", False)])
def test_doccano_labelling_page_underlines_utf16_offsets_exactly(doccano, admin, exports, name, exact):
    """doccano (grapheme mode off) counts UTF-16 units, as JavaScript does: with ``--offsets utf16`` its page
    underlines exactly our spans in a text with emoji; with our default code points it underlines the wrong text."""
    lines = [json.loads(line) for line in exports.path(name).read_text(encoding="utf-8").splitlines()]
    (hostile,) = [line for line in lines if line["title"] == "Hostile 1"]
    project = create_project(admin, f"newsnotes-page-{name}")
    upload(admin, project, "newsnotes.jsonl", (json.dumps(hostile, ensure_ascii=False) + "\n").encode())
    shown = sorted(map(tuple, underlined(doccano, project)))
    ours = sorted(
        (label, detail["text"]) for (_, _, label), detail in zip(hostile["label"], hostile["spans"], strict=True)
    )
    assert (shown == ours) is exact, shown


def test_what_doccano_exports_back_imports_into_newsnotes_span_for_span(admin, exports, tmp_path):
    """The other way: doccano's JSONL export of our file (``label`` re-sorted) imported by ``import_articles`` into
    a corpus holding the same texts and users but no spans gives back every span with its annotator."""
    from django.core.management import call_command

    from annotations.models import Span
    from tests.interop import corpus

    project = create_project(admin, "newsnotes-back")
    result = upload(admin, project, "newsnotes.jsonl", exports.path("corpus-utf16.jsonl").read_bytes())
    assert not result.get("result", {}).get("error"), result
    files = download(admin, project)
    path = tmp_path / "admin.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in files["admin.jsonl"]), "utf-8")
    given = corpus.build()
    spans = Span.objects.select_related("label", "annotator")
    want = Counter((s.article_id, s.label.name, s.start, s.end, s.annotator.username, s.origin) for s in spans)
    assert sum(want.values()) == len(given)
    Span.objects.all().delete()
    call_command("import_articles", str(path), stdout=io.StringIO())
    got = Counter((s.article_id, s.label.name, s.start, s.end, s.annotator.username, s.origin) for s in spans.all())
    assert got == want
