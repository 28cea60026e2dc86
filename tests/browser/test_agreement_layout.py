"""Found in `make screenshots` (issue 14, "Done when"): the agreement page on a phone and in dark mode, and the
review page's text region.

The agreement page's wide tables scrolled the whole page sideways (by 248 px at 320, 178 px at 390); the heat
map's slanted names were cut off at the drawing's edge and kept a fixed dark ink on the dark page; the review
page's text carried an aria-label on a role-less div, which names nothing for a screen reader.
"""

import pytest
from django.urls import reverse

from articles.models import Article
from tests.browser.layout import VIOLATIONS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


# Every text in the heat map or the bars whose drawn box leaves the drawing's box (0.5 px for rounding).
CLIPPED = """() => {
  return [...document.querySelectorAll("svg.heat-map, svg.label-bars")].flatMap((svg) => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll("text")].filter((t) => {
    const r = t.getBoundingClientRect();
    return r.left < box.left - .5 || r.top < box.top - .5 || r.right > box.right + .5 || r.bottom > box.bottom + .5;
  }).map((t) => t.textContent);
  });
}"""

# WCAG contrast ratio of each axis name's fill against the page's background, and of each cell's value on its cell.
CONTRAST = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => rgb(c)
    .map((v) => (v / 255 <= .03928 ? v / 255 / 12.92 : ((v / 255 + .055) / 1.055) ** 2.4))
    .reduce((s, v, i) => s + v * [.2126, .7152, .0722][i], 0);
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + .05) / (y + .05);
  };
  const bg = getComputedStyle(document.body).backgroundColor;
  const names = [...document.querySelectorAll("svg.heat-map text.axis, svg.label-bars text")]
    .map((t) => [t.textContent, ratio(getComputedStyle(t).fill, bg)]);
  // A value written in a cell is read against that cell's colour.
  const values = [...document.querySelectorAll("svg.heat-map g.cell")].map((g) => {
    const [text, rect] = [g.querySelector("text"), g.querySelector("rect")];
    return [text.textContent, ratio(getComputedStyle(text).fill, getComputedStyle(rect).fill)];
  });
  return [...names, ...values];
}"""


@pytest.mark.parametrize("width", [320, 390])
def test_agreement_page_never_scrolls_sideways_on_a_phone(browser, live_server, login, axe_source, demo_users, width):
    url = reverse("annotations:agreement")
    page = open_page(browser, live_server, login, axe_source, demo_users["researcher"], url, width=width)
    assert page.locator("svg.heat-map").count() == 1  # the demo has pairs: the tables are the wide ones
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("innerWidth")
    # Each table that is wider than the screen scrolls in its own region, which the keyboard can reach.
    regions = page.locator(".table-scroll[role=region][tabindex='0']")
    assert regions.count() == page.locator("table.figures").count()
    # Each filter's name stays on the line of its list when the form wraps.
    for label in page.locator(".agreement-filters label").all():
        control = page.locator("#" + label.get_attribute("for"))
        top, box = label.bounding_box(), control.bounding_box()
        assert box["y"] < top["y"] + top["height"] and top["y"] < box["y"] + box["height"], label.text_content()
        assert box["x"] + box["width"] <= width
    # Each caption names its region and is shown whole, not cut off with the table it heads.
    for caption in page.locator("table.figures caption").all():
        box = caption.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, caption.text_content()
    assert page.evaluate(VIOLATIONS) == []
    page.context.close()


@pytest.mark.parametrize(("width", "dark"), [(1440, False), (390, True), (320, False)])
def test_heat_map_names_are_whole_and_readable(browser, live_server, login, axe_source, demo_users, width, dark):
    url = reverse("annotations:agreement")
    page = open_page(browser, live_server, login, axe_source, demo_users["researcher"], url, width=width, dark=dark)
    names = page.locator("svg.heat-map text.axis").all_text_contents()
    assert "editor3" in names
    assert page.evaluate(CLIPPED) == []
    low = [(name, round(ratio, 2)) for name, ratio in page.evaluate(CONTRAST) if ratio < 4.5]
    assert low == []
    page.context.close()


def test_review_text_is_a_named_region(browser, live_server, login, axe_source, demo_users):
    ready = Article.objects.filter(status=Article.Status.READY_FOR_REVIEW).order_by("pk")[0]
    url = reverse("annotations:article-review", args=[ready.pk])
    page = open_page(browser, live_server, login, axe_source, demo_users["reviewer"], url, width=1024)
    region = page.get_by_role("region", name="Article text")
    assert region.count() == 1
    assert region.get_attribute("id") == "review-body"
    assert page.evaluate(VIOLATIONS) == []
    page.context.close()
