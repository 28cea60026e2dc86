"""The workspace's label palette laid out in Chromium at 320 px and at 200% zoom: every label inside the window,
none hidden by the palette's own scrolling, the page never scrolling sideways, and the sticky palette still a
narrow band above the text. Screenshots go to screenshots/ (git-ignored) for people to look at."""

from pathlib import Path

import pytest

from annotations.spans.services import span_create
from tests.browser.layout import palette_layout
from tests.browser.test_workspace_browser import annotate_url
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OUT = Path(__file__).resolve().parents[2] / "screenshots"

GUIDELINE = """() => {
  const guideline = document.activeElement.nextElementSibling;
  const r = guideline.getBoundingClientRect();
  return {
    label: document.activeElement.dataset.name,
    shown: getComputedStyle(guideline).display !== "none",
    outside: Math.max(0, -r.left, r.right - document.documentElement.clientWidth),
    pageOverflow: document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth,
  };
}"""

# name: (CSS viewport width, height, device scale). 200% zoom of a 1280x800 window is 640x400 CSS px drawn at 2x.
SIZES = {"320": (320, 640, 1), "zoom200": (640, 400, 2)}


@pytest.mark.parametrize("size", list(SIZES))
def test_every_label_of_the_palette_is_inside_the_window(browser, live_server, login, editor, labels, size):
    """At 320 px the palette's one sideways-scrolling row hid CLAIM's end and all of SPONSORED, with no scroll bar
    drawn to say so; every label button and its key are now inside the window, and the palette, still sticky, stays
    a narrow band over the text."""
    body = "\n\n".join(f"Paragraph {n} about Mara Okonkwo and the chip that ships in May." for n in range(40))
    article = ArticleFactory(title="Palette", body=body)
    start = body.index("Paragraph 20")
    span_create(article=article, label=labels["person"], start=start, end=start + 12, annotator=editor)
    width, height, scale = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
    page = context.new_page()
    login(page, live_server, editor)
    page.goto(annotate_url(live_server, article))
    page.wait_for_selector("#workspace[data-ready]")
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"workspace-palette-{size}.png"))
    seen = palette_layout(page, "#workspace .palette")
    assert sorted(seen["labels"]) == sorted(label.name for label in labels.values() if label.active), seen
    assert seen["outside"] == [], seen
    assert seen["hiddenByScroll"] <= 0, seen
    assert seen["pageOverflow"] == 0, seen
    # Scrolled into the text, the palette sticks to the top: every label still in reach, a band of the window.
    page.locator("#ws-body .seg.hl").scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / f"workspace-palette-scrolled-{size}.png"))
    seen = palette_layout(page, "#workspace .palette")
    assert seen["outside"] == [], seen
    assert seen["height"] < seen["window"] * 0.2, seen
    top = page.locator("#workspace .palette").bounding_box()
    assert top is not None and -0.5 <= top["y"] <= 0.5, top
    # Each label's guideline, shown while its button has the keyboard's focus, is inside the window too.
    for button in page.locator("#workspace .palette .label-btn").all():
        button.focus()
        guideline = page.evaluate(GUIDELINE)
        assert guideline["shown"] and guideline["outside"] == 0 and guideline["pageOverflow"] == 0, guideline
    page.screenshot(path=str(OUT / f"workspace-palette-guideline-{size}.png"))
    context.close()
