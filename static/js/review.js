// The review page: j/k move between open conflicts, a/b/c… accept an editor's version of the current one,
// x rejects it, label keys add the selected text to gold (adjusting the current conflict when they overlap),
// y / m / u / r press the toolbar's forms, ? lists the keys. Every decision is a form posted by htmx. A decision on
// one conflict or span is answered with only what it changed (htmx out-of-band fragments: the settled conflict,
// the counters, the new gold items, and the stretch of the text that changed, spliced in by splice.js); the
// others, and any post from a page that missed a change, with #review-main drawn again. Every post names the drawing the page
// holds (#review-version), so the server knows which answer fits. The current conflict is then the first open
// one at or after it, and the keyboard carries on from there.
//
// Offsets: the same selection → code-point conversion as the workspace (selection.js), re-checked by the server.

import { installHotkeys } from "./hotkeys.js";
import { showRefusal } from "./refusals.js";
import { refine, selectionOffsets } from "./selection.js";
import { spliceBodyPatch } from "./splice.js";

const review = document.getElementById("review");
if (review) {
  start(review);
}

function start(review) {
  const help = document.getElementById("review-help");
  const state = { index: 0 };

  const main = () => document.getElementById("review-main");
  const body = () => document.getElementById("review-body");
  const conflicts = () => [...document.querySelectorAll(".conflict[data-key]")];
  const open = () => conflicts().filter((item) => item.dataset.settled === "0");

  function current() {
    const items = open();
    if (!items.length) return null;
    state.index = Math.max(0, Math.min(state.index, items.length - 1));
    return items[state.index];
  }

  function show({ scroll = true } = {}) {
    for (const element of document.querySelectorAll(".conflict.current, .seg.current-conflict")) {
      element.classList.remove("current", "current-conflict");
    }
    const item = current();
    if (!item) {
      document.getElementById("review-message").textContent ||= "No open conflicts left.";
      return;
    }
    item.classList.add("current");
    const segments = body().querySelectorAll(`[data-spans~="${CSS.escape(item.dataset.marker)}"]`);
    for (const segment of segments) segment.classList.add("current-conflict");
    if (scroll) {
      item.scrollIntoView({ block: "nearest" });
      segments[0]?.scrollIntoView({ block: "center" });
    }
  }

  function move(step) {
    const items = open();
    if (!items.length) return;
    state.index = (state.index + step + items.length) % items.length;
    show();
  }

  function press(formSelector) {
    const form = typeof formSelector === "string" ? document.querySelector(formSelector) : formSelector;
    if (!form) return false;
    form.requestSubmit();
    return true;
  }

  function accept(letterIndex) {
    const item = current();
    if (!item) return false;
    const forms = item.querySelectorAll(".reading form");
    return forms[letterIndex] ? press(forms[letterIndex]) : false;
  }

  function addGold(button) {
    const root = body();
    const offsets = selectionOffsets(root);
    if (!offsets) {
      document.getElementById("review-message").textContent = "Select some text first.";
      return;
    }
    const range = refine(root.textContent, offsets.start, offsets.end, { snapWords: false, locale: root.lang || undefined });
    if (!range) return;
    window.getSelection().removeAllRanges();
    const form = document.getElementById("review-add");
    form.elements.label.value = button.dataset.label;
    form.elements.start.value = range.start;
    form.elements.end.value = range.end;
    form.elements.text.value = range.text;
    form.elements.conflict.value = current()?.dataset.key ?? "";
    form.requestSubmit();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("#review-main .label-btn");
    if (button) addGold(button);
    if (event.target.closest?.("#review-help-open")) help.showModal();
  });
  document.addEventListener("mousedown", (event) => {
    if (event.target.closest?.("#review-main .label-btn")) event.preventDefault();
  });

  // A refusal (4xx with a sentence retargeted to #review-error) is shown; htmx swaps no error answer by itself.
  document.body.addEventListener("htmx:beforeSwap", showRefusal);

  // Every post names the drawing of the region this page holds; the server answers a page that missed a change
  // with the whole region.
  document.body.addEventListener("htmx:configRequest", (event) => {
    const version = document.getElementById("review-version");
    if (version && event.detail.verb === "post" && review.contains(event.detail.elt)) {
      event.detail.parameters.version = version.dataset.version;
    }
  });

  // The button that was pressed went with the conflict it settled: keep the keyboard on the list.
  function keepFocus() {
    const active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    current()?.focus({ preventScroll: true });
  }

  // After every answer: splice the text, then keep the position, now counting only what is still open.
  // htmx fires afterSwap on every element an answer placed; the region itself (redrawn, or the target of an
  // answer that only carried fragments) comes once.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id !== "review-main") return;
    spliceBodyPatch(document.getElementById("review-body-patch"), body());
    show();
    keepFocus();
  });
  document.body.addEventListener("htmx:afterSettle", () => show({ scroll: false }));

  const bindings = new Map([
    ["j", () => move(1)],
    ["k", () => move(-1)],
    ["x", () => press(current()?.querySelector("form:has(.reject)") ?? null)],
    ["y", () => press("#review-agreed")],
    ["m", () => press("#review-merge")],
    ["u", () => press("#review-undo")],
    ["r", () => press("#review-reviewed")],
    ["?", () => help.showModal()],
  ]);
  for (const [index, key] of [..."abcdef"].entries()) {
    bindings.set(key, () => accept(index));
  }
  for (const button of document.querySelectorAll("#review-main .label-btn")) {
    const key = button.dataset.hotkey?.toLowerCase();
    if (key && !bindings.has(key)) {
      bindings.set(key, () => addGold(document.querySelector(`#review-main .label-btn[data-label="${button.dataset.label}"]`)));
    }
  }
  installHotkeys(bindings);
  show({ scroll: false });
}
