// A keyboard caret for the article text. The text is not editable, so browsers give it no caret; here the
// arrow keys move a collapsed selection (Selection.modify), Shift extends it, Ctrl moves by words, and a thin
// marker shows where the caret is. With it an editor can select and label text without a mouse.

// Listed in the `?` dialog from annotations/keymap.py; keep the two in step.
const MOVES = {
  ArrowLeft: ["backward", "character"],
  ArrowRight: ["forward", "character"],
  ArrowUp: ["backward", "line"],
  ArrowDown: ["forward", "line"],
  Home: ["backward", "lineboundary"],
  End: ["forward", "lineboundary"],
  "(": ["backward", "sentence"],
  ")": ["forward", "sentence"],
  "{": ["backward", "paragraph"],
  "}": ["forward", "paragraph"],
};
// With Ctrl: words instead of characters, paragraphs instead of lines, the whole text instead of a line.
const CTRL = { character: "word", line: "paragraph", lineboundary: "documentboundary" };

function focusPoint(selection) {
  const range = document.createRange();
  range.setStart(selection.focusNode, selection.focusOffset);
  range.collapse(true);
  return range;
}

function textAfter(selection) {
  const range = document.createRange();
  range.setStart(selection.focusNode, selection.focusOffset);
  range.setEndAfter(selection.focusNode.parentElement?.nextElementSibling ?? selection.focusNode);
  return range.toString();
}

export function installCaret(root, marker) {
  const container = marker.offsetParent ?? marker.parentElement;
  // Shown once the keyboard moves the caret; a mouse user sees the browser's own selection instead.
  let keyboard = false;

  function show() {
    const selection = window.getSelection();
    const active = document.activeElement;
    if (!keyboard || !selection.rangeCount || !root.contains(selection.focusNode) || !(active && root.contains(active))) {
      marker.hidden = true;
      return;
    }
    const range = focusPoint(selection);
    const rect = range.getClientRects()[0] ?? range.getBoundingClientRect();
    const box = container.getBoundingClientRect();
    if (!rect || (rect.height === 0 && rect.top === 0)) {
      marker.hidden = true;
      return;
    }
    // CSSOM properties, not a style attribute: the CSP allows these.
    marker.style.left = `${rect.left - box.left}px`;
    marker.style.top = `${rect.top - box.top}px`;
    marker.style.height = `${rect.height}px`;
    marker.hidden = false;
  }

  root.addEventListener("keydown", (event) => {
    const move = MOVES[event.key];
    if (!move || event.altKey || event.metaKey) {
      return;
    }
    keyboard = true;
    const selection = window.getSelection();
    if (!selection.rangeCount || !root.contains(selection.focusNode)) {
      // Start from the span that has focus (Tab), else from the top of the text.
      const from = (event.target instanceof Element && event.target.closest("[data-start]")) || root.querySelector("[data-start]");
      if (!from) {
        return;
      }
      selection.collapse(from.firstChild ?? from, 0);
      event.preventDefault();
      show();
      return;
    }
    let [direction, granularity] = move;
    if (event.ctrlKey) {
      granularity = CTRL[granularity] ?? granularity;
    }
    // ( ) { } are typed with Shift on most layouts: they move, never extend.
    const typed = "(){}".includes(event.key);
    const extend = event.shiftKey && !typed;
    const before = [selection.anchorNode, selection.anchorOffset, selection.focusNode, selection.focusOffset];
    if (!extend && !typed && !selection.isCollapsed) {
      if (direction === "forward") selection.collapseToEnd();
      else selection.collapseToStart();
    } else {
      selection.modify(extend ? "extend" : "move", direction, granularity);
      if (granularity === "paragraph" && direction === "forward" && !extend) {
        // Forward by paragraph stops at the paragraph's end; the next paragraph's first letter is where an
        // editor wants to be.
        for (let step = 0; step < 8 && /^\s/.test(textAfter(selection)); step += 1) {
          selection.modify("move", "forward", "character");
        }
      }
    }
    if (!root.contains(selection.focusNode)) {
      // Never let the caret wander out of the article into the panels.
      selection.setBaseAndExtent(...before);
    }
    event.preventDefault();
    show();
  });
  root.addEventListener("mousedown", () => {
    keyboard = false;
    show();
  });
  document.addEventListener("selectionchange", show);
  root.addEventListener("focusout", () => window.setTimeout(show));
  window.addEventListener("resize", show);
  return { show };
}
