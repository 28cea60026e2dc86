"""The agreement page and its CSV: who may see them, what they draw, and that the numbers are the command's."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from lxml import html

URL = reverse("annotations:agreement")
CSV_URL = reverse("annotations:agreement-csv")


def has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def find(doc, path: str) -> list:
    """XPath where ``.name`` stands for "has class name" (no CSS selector dependency)."""
    return doc.xpath(re.sub(r"\.([\w-]+)", lambda m: "[" + has_class(m.group(1)) + "]", path))


def page(client, query: str = ""):
    response = client.get(URL + query)
    assert response.status_code == 200, response.content[:500]
    return response, html.fromstring(response.content)


@pytest.mark.parametrize(
    ("who", "status"),
    [("editor", 403), ("reviewer", 200), ("researcher", 200), ("curator", 200), (None, 302)],
)
@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_permission_matrix(db, client, request, who, status, url):
    # ``db`` up front: pytest-django runs tests that ask for no database after the transactional ones, which
    # empty the tables the migrations filled (the roles).
    if who is not None:
        client.force_login(request.getfixturevalue(who))
    response = client.get(url)
    assert response.status_code == status
    if who is None:
        assert response["Location"].startswith(reverse("login"))


def test_page_draws_the_pairs_and_labels_and_shows_them_as_tables(client, reviewer, desk):
    client.force_login(reviewer)
    _, doc = page(client)
    # ana, bo, cy: three pairs, each drawn twice (above and below the diagonal) in the heat map.
    cells = find(doc, "//svg.heat-map//rect")
    assert len(cells) == 6
    titles = sorted(rect.findtext("title").split(":")[0] for rect in cells)
    assert titles == ["ana × bo", "ana × cy", "bo × ana", "bo × cy", "cy × ana", "cy × bo"]
    # The heat map's numbers are the JSON's, rounded for the cell.
    out = io.StringIO()
    call_command("agreement", "--format", "json", stdout=out)
    result = json.loads(out.getvalue())
    kappa = {tuple(p["editors"]): p["overall"]["cohen_kappa"] for p in result["pairs"]}
    for rect in cells:
        pair, value = rect.findtext("title").split(": ")
        first, second = pair.split(" × ")
        expected = kappa.get((first, second), kappa.get((second, first)))
        assert value == ("—" if expected is None else f"{expected:.2f}")
        assert rect.get("class").startswith("heat-")
    # The heat map as a table: a row per editor, the same values.
    table = doc.xpath("//table[caption[@id='heat-table-caption']]")[0]
    assert [th.text_content() for th in table.xpath("./tbody/tr/th")] == ["ana", "bo", "cy"]
    # Bars: one group per label and one overall, four metrics each; the table holds the averaged figures.
    assert [t.text_content() for t in find(doc, "//svg.label-bars//text.group")] == [
        "PERSON",
        "ORG",
        "CLAIM",
        "SPONSORED",
        "Overall",
    ]
    averages = doc.xpath("//table[caption[@id='bars-table-caption']]/tbody/tr")
    overall = [td.text_content() for td in averages[-1].xpath("./td")]
    expected = [result["overall"][m] for m in ("exact_f1", "overlap_f1", "cohen_kappa", "krippendorff_alpha")]
    assert overall == ["—" if v is None else f"{v:.3f}" for v in expected]
    assert "3 editors: ana, bo, cy" in find(doc, "//p.count")[0].text_content()


def test_page_is_csp_clean(client, curator, desk):
    client.force_login(curator)
    response, doc = page(client)
    assert "Content-Security-Policy" in response.headers
    assert doc.xpath("//*[@style]") == []
    assert doc.xpath("//style") == []
    assert all(script.get("src") for script in doc.xpath("//script"))
    assert not any(name.startswith("on") for element in doc.iter() for name in element.attrib)


def test_filters_narrow_the_figures(client, researcher, desk):
    client.force_login(researcher)
    _, doc = page(client, "?label=org&source=wire.example&metric=exact_f1")
    assert [t.text_content() for t in find(doc, "//svg.label-bars//text.group")] == ["ORG", "Overall"]
    assert "1 article with a finished layer" in find(doc, "//p.count")[0].text_content()
    assert doc.get_element_by_id("heat-heading").text_content() == "Pairs of editors: Exact-span F1"
    # The download link keeps the filters.
    link = find(doc, "//a.download")[0].get("href")
    assert link == CSV_URL + "?label=org&source=wire.example&metric=exact_f1"


def test_unknown_filter_is_a_400_with_a_message(client, reviewer, desk):
    client.force_login(reviewer)
    response = client.get(URL + "?label=nope")
    assert response.status_code == 400
    doc = html.fromstring(response.content)
    assert "Select a valid choice" in doc.xpath("//*[@role='alert']")[0].text_content()
    assert client.get(CSV_URL + "?source=nowhere").status_code == 400


def test_csv_download_is_the_commands_csv(client, researcher, desk):
    client.force_login(researcher)
    response = client.get(CSV_URL + "?label=person")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="newsnotes-agreement-')
    body = b"".join(response.streaming_content).decode()
    out = io.StringIO()
    call_command("agreement", "--format", "csv", "--label", "person", stdout=out)
    assert body == out.getvalue()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["label"] for r in rows if r["scope"] == "average"} == {"PERSON", "overall"}


def test_empty_corpus_says_so(client, reviewer, labels):
    client.force_login(reviewer)
    _, doc = page(client)
    assert find(doc, "//svg.heat-map") == []
    assert "No two editors have finished the same article" in find(doc, "//p.empty")[0].text_content()
    assert "0 articles with a finished layer" in find(doc, "//p.count")[0].text_content()


def test_the_metric_select_names_the_metric_the_heat_map_draws(client, reviewer, desk):
    client.force_login(reviewer)
    page = html.fromstring(client.get(reverse("annotations:agreement")).content)
    chosen = page.cssselect("select[name=metric] option[selected]")
    assert [option.get("value") for option in chosen] == ["cohen_kappa"]


def test_the_admins_per_editor_link_lands_on_that_editors_row(client, curator, desk):
    # The workflow overview's throughput table links "figures" to agreement#editor-<id>.
    client.force_login(curator)
    overview = html.fromstring(client.get(reverse("admin:annotations_assignment_overview")).content)
    links = {a.get("href") for a in overview.xpath("//section[@id='throughput']//a[starts-with(@href, '/agreement')]")}
    assert f"{URL}#editor-{desk['bo'].pk}" in links
    _, doc = page(client)
    row = doc.get_element_by_id(f"editor-{desk['bo'].pk}")
    assert row.xpath("./th")[0].text_content() == "bo" and len(row.xpath("./td")) == 3
