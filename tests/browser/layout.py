"""What the layout tests share: a page opened at a width with axe-core (light or dark), what axe finds, and where
a page's label palette is drawn."""

from __future__ import annotations

from typing import Any

# axe-core's violations in the page now, one line each with up to three of the elements it names.
VIOLATIONS = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
)


def open_page(browser, live_server, login, axe_source, user, url, *, width, dark=False):
    """``url`` for ``user`` in a window ``width`` CSS px wide and 800 high, axe-core loaded, in dark mode if asked."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.add_init_script(script=axe_source)
    if dark:
        context.add_init_script("localStorage.setItem('newsnotes.theme', 'dark')")
    page = context.new_page()
    login(page, live_server, user)
    page.goto(live_server.url + url)
    page.wait_for_load_state("networkidle")
    return page


PALETTE = """(selector) => {
  const edge = document.documentElement.clientWidth;
  const palette = document.querySelector(selector);
  const outside = [...palette.querySelectorAll("*")]
    .filter((e) => e.getClientRects().length)  // drawn (the visually hidden heading is 1 px wide, inside)
    .map((e) => [e, e.getBoundingClientRect()])
    .filter(([, r]) => r.left < 0 || r.right > edge + 0.5)
    .map(([e, r]) => `${e.tagName}.${e.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
  const list = palette.querySelector("ul");
  return {
    edge,
    outside,
    hiddenByScroll: list.scrollWidth - list.clientWidth,
    labels: [...palette.querySelectorAll(".label-btn")].map((b) => b.dataset.name),
    height: palette.getBoundingClientRect().height,
    window: window.innerHeight,
    pageOverflow: document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth,
  };
}"""


def palette_layout(page, selector: str) -> dict[str, Any]:
    """The palette at ``selector``: its drawn elements outside the window (``outside``), how far its list of labels
    scrolls sideways (``hiddenByScroll``), the labels' names, its height, the window's, and how far the page
    scrolls sideways (``pageOverflow``)."""
    return page.evaluate(PALETTE, selector)
