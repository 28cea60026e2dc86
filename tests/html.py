"""Read HTML in tests through a parser (lxml), never with regular expressions or exact whitespace."""

from __future__ import annotations

import lxml.html
from lxml.html import HtmlElement


def parse(html: str | bytes) -> HtmlElement:
    """A document or fragment; out-of-band htmx fragments parse as siblings under one root."""
    if isinstance(html, bytes):
        html = html.decode()
    return lxml.html.fragment_fromstring(html, create_parent="div") if html.strip() else lxml.html.Element("div")


def select(html: str | bytes | HtmlElement, css: str) -> list[HtmlElement]:
    root = html if isinstance(html, HtmlElement) else parse(html)
    return root.cssselect(css)


def one(html: str | bytes | HtmlElement, css: str) -> HtmlElement:
    found = select(html, css)
    assert len(found) == 1, f"expected one {css!r}, found {len(found)}"
    return found[0]


def text(element: HtmlElement) -> str:
    """The element's text with runs of whitespace collapsed, as a reader sees it."""
    return " ".join(element.text_content().split())


def segments(html: str | bytes | HtmlElement) -> list[tuple[int, str]]:
    """A drawn article body (its container, or the markup inside it) as the browser holds it: the segment
    elements, each as ``(data-start, markup)``, checked to be nothing but segments."""
    container = html if isinstance(html, HtmlElement) else parse(html)
    assert not (container.text or "").strip(), "text outside the segments"
    found = []
    for element in container:
        assert element.tag == "span" and "seg" in element.classes and not (element.tail or "").strip()
        found.append((int(element.get("data-start")), lxml.html.tostring(element, encoding=str, with_tail=False)))
    return found


def swap_out_of_band(page: HtmlElement, answer: HtmlElement) -> None:
    """Apply an answer's out-of-band parts to ``page`` as htmx 2 does (``hx-swap-oob``): ``true`` replaces the
    element of the same id, ``innerHTML`` its content; ``<strategy>:<selector>`` puts the part's children
    ``beforebegin``, ``beforeend`` or ``afterend`` of each element the selector finds, or ``delete``s them. A
    target that is not there fails the test (htmx would skip it in silence, leaving the page short of it)."""
    for part in answer.xpath("./*[@hx-swap-oob]"):
        how = part.get("hx-swap-oob")
        part.attrib.pop("hx-swap-oob")
        if how == "true":
            target = page.get_element_by_id(part.get("id"))
            target.getparent().replace(target, _copied(part))
            continue
        if how == "innerHTML":
            target = page.get_element_by_id(part.get("id"))
            for child in list(target):
                target.remove(child)
            target.text = part.text
            for child in part:
                target.append(_copied(child))
            continue
        strategy, _, css = how.partition(":")
        targets = page.cssselect(css)
        assert targets, f"nothing on the page for {how!r}"
        for target in targets:
            if strategy == "delete":
                target.getparent().remove(target)
            elif strategy == "beforebegin":
                for child in part:
                    target.addprevious(_copied(child))
            elif strategy == "beforeend":
                for child in part:
                    target.append(_copied(child))
            elif strategy == "afterend":
                for child in reversed(part):
                    target.addnext(_copied(child))
            else:
                raise AssertionError(f"no test support for {how!r}")


def _copied(element: HtmlElement) -> HtmlElement:
    return lxml.html.fromstring(lxml.html.tostring(element, with_tail=False))
