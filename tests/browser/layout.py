"""Where a page's label palette is drawn, for the layout tests of the workspace and the review page."""

from __future__ import annotations

from typing import Any

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
