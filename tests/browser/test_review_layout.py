"""The review page and the agreement page laid out in Chromium at 320, 390, 1024 and 1440 px and 200% zoom: every
label of the palette inside the window, nothing of the gold list under the fixed message bar, and the heat map's
names all inside its drawing with no empty band above them. Screenshots go to screenshots/ (git-ignored) for people
to look at."""

from pathlib import Path

import pytest
from django.urls import reverse

from annotations.models import Label
from annotations.review.models import GoldSpan
from tests.annotations.agreement.conftest import finish, make_editor, span
from tests.browser.layout import palette_layout
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OUT = Path(__file__).resolve().parents[2] / "screenshots"
# name: (CSS viewport width, height, device scale). 200% zoom of a 1440x900 window is 720x450 CSS px drawn at 2x.
SIZES = {
    "390": (390, 844, 1),
    "1024": (1024, 768, 1),
    "1440": (1440, 900, 1),
    "zoom200": (720, 450, 2),
}

BOTTOM_OF_EVERYTHING = """() => {
  // Scroll the page and every scrolling box that holds the gold list to its very end.
  window.scrollTo(0, document.scrollingElement.scrollHeight);
  for (let box = document.getElementById("review-gold"); box; box = box.parentElement) {
    if (box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== "visible") {
      box.scrollTop = box.scrollHeight;
    }
  }
}"""

COVERED = """() => {
  const last = document.querySelector("#review-gold li:last-child").getBoundingClientRect();
  const bars = [...document.querySelectorAll(".ws-message, .ws-error")]
    .filter((bar) => getComputedStyle(bar).display !== "none")
    .map((bar) => bar.getBoundingClientRect());
  return {
    last: [last.top, last.bottom],
    viewport: window.innerHeight,
    bars: bars.map((bar) => [bar.top, bar.bottom]),
  };
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_the_last_gold_item_is_not_under_the_message_bar(browser, live_server, login, reviewer, size):
    labels = {label.slug: label for label in Label.objects.all()}
    words = [f"Entity{n}" for n in range(60)]
    body = " and ".join(words) + "."
    article = ArticleFactory(title="Many agreed", body=body)
    ana, bo = make_editor("ana"), make_editor("bo")
    for word in words:
        start = body.index(word + " ") if word + " " in body else body.index(word)
        for who in (ana, bo):
            span(article, who, labels["org"], start, start + len(word))
    finish(article, ana, bo)
    width, height, scale = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
    page = context.new_page()
    login(page, live_server, reviewer)
    page.goto(live_server.url + reverse("annotations:article-review", args=[article.pk]))
    # A refusal stays in the error bar above the message bar: undo twice (the second has nothing left to undo).
    for key, path in (("y", "/review/agreed/"), ("u", "/review/undo/"), ("u", "/review/undo/")):
        with page.expect_response(lambda r, path=path: path in r.url):
            page.keyboard.press(key)
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
    assert "nothing of yours to undo" in page.locator("#review-error").text_content()
    with page.expect_response(lambda r: "/review/agreed/" in r.url):
        page.keyboard.press("y")  # every agreed span into gold: a long gold list, and a message in the bar
    page.wait_for_function("() => document.querySelectorAll('#review-gold li[id^=gold-]').length === 60")
    assert GoldSpan.objects.filter(article=article).count() == 60
    assert page.locator("#review-message").is_visible()
    page.evaluate(BOTTOM_OF_EVERYTHING)
    seen = page.evaluate(COVERED)
    top, bottom = seen["last"]
    assert bottom <= seen["viewport"], seen
    for bar_top, bar_bottom in seen["bars"]:
        assert bottom <= bar_top or top >= bar_bottom, f"the last gold item is under a bar at {size}: {seen}"
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"review-gold-end-{size}.png"))
    context.close()


LABEL_BOXES = """() => {
  const svg = document.querySelector("svg.heat-map");
  const box = svg.getBoundingClientRect();
  const names = [...svg.querySelectorAll("text.axis")].map((t) => {
    const r = t.getBoundingClientRect();
    return {name: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  const cells = [...svg.querySelectorAll("rect")].map((r) => r.getBoundingClientRect());
  return {
    svg: {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
    names,
    cellsTop: Math.min(...cells.map((c) => c.top)),
    fontPx: parseFloat(getComputedStyle(svg.querySelector("text.axis")).fontSize)
      * box.width / svg.viewBox.baseVal.width,
  };
}"""


@pytest.mark.parametrize("size", ["390", "1440"])
def test_the_heat_maps_names_fit_its_drawing(browser, live_server, login, researcher, size):
    labels = {label.slug: label for label in Label.objects.all()}
    body = "Mara Okonkwo of Larchfield Systems said the chip ships in May."
    names = ["ana", "bartholomew-longname", "cy", "Zoë Ångström-Hämäläinen"]
    editors = [make_editor(name) for name in names]
    for n in range(2):
        article = ArticleFactory(body=body + f" ({n})")
        for k, who in enumerate(editors):
            span(article, who, labels["person"], 0, 12)
            span(article, who, labels["org" if k % 2 else "person"], 16, 34)
        finish(article, *editors)
    width, height, scale = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
    page = context.new_page()
    login(page, live_server, researcher)
    page.goto(live_server.url + reverse("annotations:agreement"))
    seen = page.evaluate(LABEL_BOXES)
    svg = seen["svg"]
    assert sorted({n["name"] for n in seen["names"]}) == sorted(names)
    for name in seen["names"]:
        # Inside the drawing, with half a pixel for anti-aliasing.
        assert name["left"] >= svg["left"] - 0.5 and name["right"] <= svg["right"] + 0.5, (name, svg)
        assert name["top"] >= svg["top"] - 0.5 and name["bottom"] <= svg["bottom"] + 0.5, (name, svg)
    # No empty band above the slanted names: the highest one starts near the drawing's top.
    highest = min(n["top"] for n in seen["names"])
    assert highest - svg["top"] < 12, (highest, svg)
    # Drawn at the page's text size where there is room (shrunk only in a narrow window).
    if size == "1440":
        assert 11 <= seen["fontPx"] <= 13, seen["fontPx"]
    OUT.mkdir(exist_ok=True)
    page.locator("svg.heat-map").screenshot(path=str(OUT / f"agreement-heat-{size}.png"))
    page.screenshot(path=str(OUT / f"agreement-{size}.png"))
    context.close()


@pytest.mark.parametrize(("size", "viewport"), [("320", (320, 640, 1)), ("zoom200", (640, 400, 2))])
def test_every_label_of_the_palette_is_inside_the_window(browser, live_server, login, reviewer, size, viewport):
    """At 320 px the palette's one sideways-scrolling row hid CLAIM's end and all of SPONSORED, with no scroll bar
    drawn to say so; every label button, its key and the hint are now inside the window."""
    labels = {label.slug: label for label in Label.objects.all()}
    body = " ".join(f"Mara Okonkwo of Larchfield Systems said the chip ships in May ({n})." for n in range(40))
    article = ArticleFactory(title="Palette", body=body)
    ana, bo = make_editor("ana"), make_editor("bo")
    span(article, ana, labels["person"], 0, 12)
    span(article, bo, labels["org"], 16, 34)
    finish(article, ana, bo)
    width, height, scale = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
    page = context.new_page()
    login(page, live_server, reviewer)
    page.goto(live_server.url + reverse("annotations:article-review", args=[article.pk]))
    page.locator("#review-main .palette").scroll_into_view_if_needed()
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"review-palette-{size}.png"))
    seen = palette_layout(page, "#review-main .palette")
    assert sorted(seen["labels"]) == sorted(label.name for label in labels.values() if label.active), seen
    assert seen["outside"] == [], seen
    assert seen["hiddenByScroll"] <= 0, seen
    assert seen["pageOverflow"] == 0, seen
    # Wrapped, the palette is taller than one row: it stays in its place above the text rather than covering it.
    page.evaluate(
        "() => { const text = document.getElementById('review-body').getBoundingClientRect();"
        " window.scrollTo(0, window.scrollY + text.top + text.height / 2); }"
    )
    covered = page.evaluate(
        "() => { const r = document.querySelector('#review-main .palette').getBoundingClientRect();"
        " return r.bottom > 0 && r.top < window.innerHeight; }"
    )
    assert not covered
    context.close()
