"""static/js/splice.js, the one splice of a redrawn stretch of text that the workspace and the review page share:
driven directly in Chromium on a page of the app (same origin, same CSP) with a text of five segments."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SPLICE = """async ({ from, to, fresh, windows }) => {
  const { spliceBodyPatch } = await import("/static/js/splice.js");
  const root = document.createElement("div");
  root.id = "sandbox-body";
  root.tabIndex = 0;
  for (const [start, text] of [[0, "Mara "], [5, "Okonkwo"], [12, " of "], [16, "Larchfield"], [26, " said."]]) {
    const seg = document.createElement("span");
    seg.dataset.start = start;
    seg.textContent = text;
    if (start === 5) seg.tabIndex = 0;
    root.append(seg);
  }
  const holder = document.createElement("div");
  holder.hidden = true;
  if (windows) {
    holder.dataset.windows = windows;
  } else {
    holder.dataset.from = from;
    holder.dataset.to = to;
  }
  for (const [start, text] of fresh) {
    const seg = document.createElement("span");
    seg.dataset.start = start;
    seg.className = "fresh";
    seg.textContent = text;
    holder.append(seg);
  }
  document.body.append(root, holder);
  root.querySelector('[data-start="5"]').focus();
  window.getSelection().selectAllChildren(root.querySelector('[data-start="16"]'));
  spliceBodyPatch(holder, root);
  const again = root.innerHTML;
  spliceBodyPatch(holder, root);  // used once: a second call (no stretch) changes nothing
  return {
    segments: [...root.children].map((s) => [Number(s.dataset.start), s.textContent, s.className]),
    text: root.textContent,
    holderEmpty: holder.childElementCount === 0 && holder.dataset.from === undefined
      && holder.dataset.windows === undefined,
    focusInside: root.contains(document.activeElement) && document.activeElement !== root,
    selection: window.getSelection().toString(),
    unchanged: root.innerHTML === again,
  };
}"""


def test_a_stretch_replaces_exactly_its_segments_as_a_full_redraw_would(page, live_server, login, editor):
    login(page, live_server, editor)
    page.goto(live_server.url + "/")
    # Okonkwo .. Larchfield (5-26) redrawn as three segments: the label moved from the surname to the company.
    fresh = [[5, "Okonkwo", ""], [12, " of ", ""], [16, "Larchfield", ""]]
    seen = page.evaluate(SPLICE, {"from": 5, "to": 26, "fresh": [pair[:2] for pair in fresh]})
    assert seen["segments"] == [[0, "Mara ", ""], *[[s, t, "fresh"] for s, t, _ in fresh], [26, " said.", ""]]
    assert seen["text"] == "Mara Okonkwo of Larchfield said."
    assert seen["holderEmpty"] and seen["unchanged"]
    assert not seen["focusInside"] and seen["selection"] == ""  # as a redraw leaves them


def test_several_stretches_each_replace_their_own_segments(page, live_server, login, editor):
    """A create that suggested its text elsewhere sends each stretch it changed (data-windows), segments in order."""
    login(page, live_server, editor)
    page.goto(live_server.url + "/")
    fresh = [[0, "Mara "], [16, "Larch"], [21, "field"]]
    seen = page.evaluate(SPLICE, {"windows": "0 5 16 26", "fresh": fresh})
    assert seen["segments"] == [
        [0, "Mara ", "fresh"],
        [5, "Okonkwo", ""],
        [12, " of ", ""],
        [16, "Larch", "fresh"],
        [21, "field", "fresh"],
        [26, " said.", ""],
    ]
    assert seen["text"] == "Mara Okonkwo of Larchfield said."
    assert seen["holderEmpty"] and seen["unchanged"]


def test_a_stretch_that_does_not_line_up_reloads_the_page(page, live_server, login, editor):
    login(page, live_server, editor)
    page.goto(live_server.url + "/")
    page.evaluate("window.notReloaded = true")
    with page.expect_navigation():
        # Starts at 6, inside "Okonkwo" (5-12): no segment of the page starts there.
        page.evaluate(SPLICE, {"from": 6, "to": 26, "fresh": [[6, "konkwo of Larchfield"]]})
    assert page.evaluate("window.notReloaded === undefined")
