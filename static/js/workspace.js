// The annotate page: text selection and span selection, label keys, and the htmx round trips.
//
// Every change goes through a small hidden form (create, relabel, delete) or a visible one (note, status, undo)
// posted by htmx; the server answers with the re-rendered text and side panel as out-of-band swaps. After one
// span's create, delete or relabel the text comes back as just the stretch that changed (#ws-body-patch), which
// is spliced in (splice.js); every post says which drawing of the text the page holds, so a page that missed a
// change gets the whole text instead. Refusals come back as 4xx responses aimed (HX-Retarget) at the error
// region, which htmx would not swap by default (refusals.js swaps them).

import { installCaret } from "./caret.js";
import { defineAction, installHotkeys, keymapBindings } from "./hotkeys.js";
import { installRequests } from "./requests.js";
import { showRefusal } from "./refusals.js";
import { offsetToPoint, pointToOffset, refine, selectionOffsets } from "./selection.js";
import { spliceBodyPatch } from "./splice.js";
import { isSuggestion, suggestionBindings } from "./suggestions.js";

const SNAP_KEY = "newsnotes.snapWords";

/** Code points in the first `units` UTF-16 units of `text`. */
function codePointsOf(text, units) {
  return Array.from(text.slice(0, units)).length;
}

const workspace = document.getElementById("workspace");
if (workspace) {
  start(workspace);
}

function start(workspace) {
  const root = document.getElementById("ws-body");
  const live = document.getElementById("ws-live");
  const snap = document.getElementById("ws-snap");
  const help = document.getElementById("ws-help");
  const loginPath = workspace.dataset.loginUrl;
  // selected: the span the editor chose (click, Tab, Enter, side panel, or just made); caretAt: where the caret
  // goes back after the text is redrawn; discardArmed: an unsaved note was warned about once.
  const state = { selected: null, editAfterLoad: false, caretAt: null, discardArmed: false };
  const labelButtons = [...document.querySelectorAll(".palette .label-btn")];
  const labelsByKey = new Map();
  for (const button of labelButtons) {
    if (button.dataset.hotkey) {
      labelsByKey.set(button.dataset.hotkey.toLowerCase(), button);
    }
  }
  const caret = installCaret(root, document.getElementById("ws-caret"));
  // Set when the page is for reading only (an editor on a reviewed article): why, in a sentence.
  const readOnly = workspace.dataset.readOnly || "";

  snap.checked = localStorage.getItem(SNAP_KEY) !== "0";
  snap.addEventListener("change", () => localStorage.setItem(SNAP_KEY, snap.checked ? "1" : "0"));

  function announce(text, { visible = false } = {}) {
    live.textContent = text;
    if (visible) {
      document.getElementById("ws-message").textContent = text;
    }
  }

  /** The open span editor has typed changes that are not saved. */
  function editorDirty() {
    const form = document.querySelector("#span-editor .span-details");
    if (!form) {
      return false;
    }
    return [...form.elements].some((field) => {
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") {
        const initial = Math.max(0, [...field.options].findIndex((option) => option.defaultSelected));
        return field.selectedIndex !== initial;
      }
      if (field.type === "hidden" || field.type === "submit") return false;
      return "defaultValue" in field && field.value !== field.defaultValue;
    });
  }

  /** Leaving the open editor: fine unless its note is unsaved; then warn once, and the second try discards. */
  function mayLeaveEditor() {
    if (!editorDirty() || state.discardArmed) {
      state.discardArmed = false;
      return true;
    }
    state.discardArmed = true;
    announce("Your note is not saved. Save it, or do that again to discard it.", { visible: true });
    document.querySelector("#span-editor .span-details button[type=submit]")?.focus();
    return false;
  }
  window.addEventListener("beforeunload", (event) => {
    if (editorDirty()) {
      event.preventDefault();
    }
  });

  /** Tab stops where spans begin are made focusable one at a time (see rendering.py: not in the markup). */
  function clearStops() {
    for (const element of root.querySelectorAll("[data-opens][tabindex]")) {
      if (element !== document.activeElement) {
        element.removeAttribute("tabindex");
      }
    }
  }

  function focusStop(element) {
    clearStops();
    element.tabIndex = -1;
    element.focus({ preventScroll: false });
  }

  /** Put a collapsed caret at code-point `offset` of the text and focus the text, keeping the keyboard's place. */
  function placeCaret(offset) {
    const point = offsetToPoint(root, offset);
    if (!point) {
      return;
    }
    if (document.activeElement !== root) {
      root.focus({ preventScroll: true });
    }
    window.getSelection().collapse(point.node, point.offset);
    caret.show();
  }

  function caretOffset() {
    const selection = window.getSelection();
    if (!selection.rangeCount || !root.contains(selection.focusNode)) {
      return null;
    }
    return pointToOffset(root, selection.focusNode, selection.focusOffset, false);
  }

  function submit(formId, values) {
    const form = document.getElementById(formId);
    for (const [name, value] of Object.entries(values)) {
      form.elements[name].value = value;
    }
    form.requestSubmit();
  }

  function spanSegments(id) {
    return root.querySelectorAll(`[data-spans~="${CSS.escape(String(id))}"]`);
  }

  function describe(id) {
    const item = document.querySelector(`.span-item[data-span="${CSS.escape(String(id))}"]`);
    return item ? item.textContent.trim() : "";
  }

  function markSelected() {
    for (const element of root.querySelectorAll(".seg.sel")) {
      element.classList.remove("sel");
    }
    for (const element of document.querySelectorAll(".span-item[aria-current]")) {
      element.removeAttribute("aria-current");
    }
    if (!state.selected) {
      return;
    }
    for (const element of spanSegments(state.selected)) {
      element.classList.add("sel");
    }
    document.querySelector(`.span-item[data-span="${CSS.escape(state.selected)}"]`)?.setAttribute("aria-current", "true");
  }

  /** Select a span: highlight it, load its editor into the side panel (unless the server already sent it). */
  function selectSpan(id, { load = true, focus = false, scroll = false } = {}) {
    const next = id ? String(id) : null;
    if (next !== state.selected && !mayLeaveEditor()) {
      return false;
    }
    state.selected = next;
    const slot = document.getElementById("span-editor");
    if (slot) {
      slot.dataset.selected = state.selected ?? "";
    }
    markSelected();
    if (!state.selected) {
      document.getElementById("span-editor").replaceChildren();
      return;
    }
    const first = spanSegments(state.selected)[0];
    if (first && scroll) {
      first.scrollIntoView({ block: "center" });
    }
    if (first && focus) {
      focusStop(first);
    }
    if (isSuggestion(state.selected)) {
      document.getElementById("span-editor").replaceChildren();
      announce(`Selected ${describe(state.selected)}. a accepts it, x rejects it, s goes to the next suggestion.`);
      return;
    }
    announce(`Selected ${describe(state.selected)}. A label key relabels it, Delete deletes it, e edits the note.`);
    if (load) {
      const url = workspace.dataset.spanUrl.replace(/\/0\/$/, `/${state.selected}/`);
      window.htmx.ajax("GET", url, { target: "#span-editor", swap: "innerHTML" });
    }
    return true;
  }

  /** Each click on a highlight selects the next span out, starting from the innermost. */
  function cycle(segment) {
    const ids = segment.dataset.spans.split(" ");
    const at = ids.indexOf(state.selected);
    selectSpan(at === -1 ? ids[ids.length - 1] : ids[(at - 1 + ids.length) % ids.length]);
  }

  function textRange() {
    const offsets = selectionOffsets(root);
    if (!offsets) {
      return null;
    }
    return refine(root.textContent, offsets.start, offsets.end, { snapWords: snap.checked, locale: root.lang || undefined });
  }

  /** A text selection inside the article (not collapsed), whatever it holds. */
  function textSelected() {
    const selection = window.getSelection();
    return !selection.isCollapsed && selection.rangeCount > 0 && selection.getRangeAt(0).intersectsNode(root);
  }

  // A label key acts on the text selected, else on the span the editor chose; never on anything else.
  function applyLabel(button) {
    if (readOnly) {
      announce(readOnly, { visible: true });
      return;
    }
    if (textSelected()) {
      const range = textRange();
      if (!range) {
        announce("Only spaces are selected: select a word or more, then press a label key.", { visible: true });
        return;
      }
      window.getSelection().removeAllRanges();
      state.caretAt = range.end;
      submit("span-create", { label: button.dataset.label, start: range.start, end: range.end, text: range.text });
      announce(`Labelling “${range.text.slice(0, 60)}” as ${button.dataset.name}.`);
      return;
    }
    if (state.selected) {
      state.caretAt = caretOffset();
      submit("span-relabel", { span: state.selected, label: button.dataset.label });
      announce(`Relabelling as ${button.dataset.name}.`);
      return;
    }
    announce("Select some text first, or a span to relabel.", { visible: true });
  }

  function deleteSelected() {
    if (!state.selected) {
      return false;
    }
    const id = state.selected;
    const first = spanSegments(id)[0];
    state.caretAt = first ? Number(first.dataset.start) : caretOffset();
    submit("span-delete", { span: id });
    return true;
  }

  function editSelected() {
    if (!state.selected) {
      return false;
    }
    const note = document.querySelector(`#span-editor [data-span="${CSS.escape(state.selected)}"] textarea`);
    if (note) {
      note.focus();
    } else {
      state.editAfterLoad = true;
      selectSpan(state.selected);
    }
    return true;
  }

  // Mouse: a click on a highlight selects a span; the end of a drag is a text selection, not a click.
  root.addEventListener(
    "mousedown",
    () => {
      // A focusable segment under the pointer would turn this drag into nothing selected (Chromium).
      for (const element of root.querySelectorAll("[data-opens][tabindex]")) {
        element.removeAttribute("tabindex");
      }
    },
    true,
  );
  root.addEventListener("click", (event) => {
    if (!window.getSelection().isCollapsed) {
      return;
    }
    const segment = event.target.closest(".seg.hl");
    if (segment) {
      cycle(segment);
    } else if (state.selected) {
      selectSpan(null);
    }
  });

  // Keyboard: Tab walks the places where spans begin, one by one, then leaves the text; reaching one selects it.
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    const stops = [...root.querySelectorAll("[data-opens]")];
    const current = event.target === root ? null : event.target.closest?.("[data-opens]");
    if (!current && event.shiftKey) {
      return; // out of the text, backwards
    }
    let index = current ? stops.indexOf(current) + (event.shiftKey ? -1 : 1) : 0;
    if (!current) {
      // From the caret: the first span that begins at or after it.
      const at = caretOffset() ?? 0;
      index = stops.findIndex((element) => Number(element.dataset.start) >= at);
      if (index === -1) {
        return;
      }
    }
    if (index < 0) {
      event.preventDefault();
      clearStops();
      root.focus();
      return;
    }
    if (index >= stops.length) {
      return; // past the last span: on to the side panel
    }
    event.preventDefault();
    focusStop(stops[index]);
  });
  root.addEventListener("focusout", (event) => {
    if (event.target !== root && event.target.matches?.("[data-opens][tabindex]")) {
      event.target.removeAttribute("tabindex");
    }
  });
  root.addEventListener("focusin", (event) => {
    const segment = event.target.closest?.("[data-opens]");
    if (!segment || !segment.matches(":focus-visible")) {
      return;
    }
    if (!segment.dataset.spans.split(" ").includes(state.selected)) {
      selectSpan(segment.dataset.opens.split(" ")[0]);
    }
  });

  // Palette: keep the text selection and focus where they are when a label is clicked.
  for (const button of labelButtons) {
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", () => applyLabel(button));
  }

  document.addEventListener("click", (event) => {
    const item = event.target.closest?.(".span-item");
    if (item) {
      selectSpan(item.dataset.span, { scroll: true, focus: true });
    }
  });

  document.getElementById("ws-help-open").addEventListener("click", () => help.showModal());

  // Text size, remembered: a custom property the stylesheet multiplies the text's size by (CSSOM, CSP-safe).
  const SIZE_KEY = "newsnotes.textScale";
  const applySize = (scale) => root.style.setProperty("--text-scale", String(scale));
  let scale = Number(localStorage.getItem(SIZE_KEY)) || 1;
  applySize(scale);
  for (const button of document.querySelectorAll("[data-text-size]")) {
    button.addEventListener("click", () => {
      scale = Math.min(2, Math.max(0.8, Math.round((scale + Number(button.dataset.textSize) * 0.1) * 10) / 10));
      localStorage.setItem(SIZE_KEY, String(scale));
      applySize(scale);
      announce(`Text size ${Math.round(scale * 100)}%.`, { visible: true });
    });
  }
  // The span editor's Close (a sheet at the bottom of small screens): deselect, like Esc.
  document.addEventListener("click", (event) => {
    if (event.target.closest?.("[data-close-editor]")) {
      selectSpan(null);
      root.focus({ preventScroll: true });
    }
  });

  // Find in the article: the match becomes the text selection, so a label key labels it at once.
  const find = document.getElementById("ws-find");
  find.addEventListener("submit", (event) => {
    event.preventDefault();
    const needle = document.getElementById("ws-find-text").value;
    const status = document.getElementById("ws-find-status");
    if (!needle) {
      status.textContent = "";
      return;
    }
    const text = root.textContent;
    const haystack = text.toLocaleLowerCase();
    const wanted = needle.toLocaleLowerCase();
    const after = Number(find.dataset.after ?? -1);
    let at = haystack.indexOf(wanted, after + 1);
    if (at === -1) {
      at = haystack.indexOf(wanted);
    }
    if (at === -1 || haystack.length !== text.length) {
      status.textContent = "Not found.";
      delete find.dataset.after;
      return;
    }
    let count = 0;
    let index = 0;
    for (let from = haystack.indexOf(wanted); from !== -1; from = haystack.indexOf(wanted, from + 1)) {
      count += 1;
      if (from === at) index = count;
    }
    find.dataset.after = String(at);
    status.textContent = `${index} of ${count}`;
    // UTF-16 positions in the text to code points, then to DOM points.
    const startPoint = offsetToPoint(root, codePointsOf(text, at));
    const endPoint = offsetToPoint(root, codePointsOf(text, at + needle.length));
    window.getSelection().setBaseAndExtent(startPoint.node, startPoint.offset, endPoint.node, endPoint.offset);
    startPoint.node.parentElement?.scrollIntoView({ block: "center" });
    if (state.selected) {
      selectSpan(null);
    }
  });
  document.getElementById("ws-find-text").addEventListener("input", () => {
    delete find.dataset.after;
    document.getElementById("ws-find-status").textContent = "";
  });


  // The actions behind annotations/keymap.py's rows; which key runs which is that table's business.
  defineAction("undo", () => document.getElementById("ws-undo").requestSubmit());
  defineAction("delete", deleteSelected);
  defineAction("edit", editSelected);
  defineAction("status", () => {
    const form = document.getElementById("ws-status");
    if (!form.querySelector("button")) {
      announce(readOnly || "This article is reviewed: only a reviewer can reopen it.", { visible: true });
      return true;
    }
    form.requestSubmit();
    return true;
  });
  defineAction("next", () => {
    if (mayLeaveEditor()) {
      window.location.assign(workspace.dataset.nextUrl);
    }
  });
  defineAction("snap", () => {
    snap.checked = !snap.checked;
    snap.dispatchEvent(new Event("change"));
    announce(snap.checked ? "Selections snap to whole words." : "Selections keep exact characters.", { visible: true });
  });
  defineAction("help", () => help.showModal());
  defineAction("text", () => {
    if (caretOffset() === null) {
      placeCaret(0);
    } else {
      root.focus();
    }
  });
  defineAction("find", () => {
    const field = document.getElementById("ws-find-text");
    field.focus();
    field.select();
  });
  // Suggestions (static/js/suggestions.js): its actions, by the names annotations/keymap.py binds.
  const suggestions = suggestionBindings({ root, selected: () => state.selected, select: selectSpan, submit, announce });
  defineAction("suggestion-accept", suggestions.bindings.get("a"));
  defineAction("suggestion-reject", suggestions.bindings.get("x"));
  defineAction("suggestion-next", suggestions.bindings.get("s"));
  defineAction("cycle", (event) => {
    if (isSuggestion(state.selected) && root.contains(event.target)) {
      return suggestions.accept(); // Enter on a selected suggestion accepts it
    }
    const segment = event.target.closest?.(".seg.hl");
    if (!segment || !root.contains(segment)) {
      return false;
    }
    cycle(segment);
    return true;
  });
  defineAction("escape", (event) => {
    if (event.target.closest?.("#span-editor, #ws-find")) {
      root.focus();
      return true;
    }
    if (!window.getSelection().isCollapsed) {
      window.getSelection().removeAllRanges();
      return true;
    }
    if (state.selected) {
      selectSpan(null);
      return true;
    }
    return false;
  });
  const bindings = keymapBindings("ws-keys");
  for (const [key, button] of labelsByKey) {
    if (!bindings.has(key)) {
      bindings.set(key, () => applyLabel(button));
    }
  }
  installHotkeys(bindings);

  // htmx: show refusals, follow a lapsed login, keep selection and focus across swaps.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (loginPath && xhr.responseURL && new URL(xhr.responseURL).pathname === loginPath) {
      event.detail.shouldSwap = false;
      window.location.assign(`${loginPath}?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
      return;
    }
    showRefusal(event);
  });

  // A read-only page offers no change; a key or button that would post one (delete, undo, accept) says why instead.
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (readOnly && event.detail.requestConfig?.verb === "post" && workspace.contains(event.detail.elt)) {
      event.preventDefault();
      announce(readOnly, { visible: true });
    }
  });

  // Every post names the drawing of the text this page holds; the server splices only into the one it drew.
  document.body.addEventListener("htmx:configRequest", (event) => {
    const holder = document.getElementById("ws-body-patch");
    if (holder && event.detail.verb === "post" && workspace.contains(event.detail.elt)) {
      event.detail.parameters.body_version = holder.dataset.version;
    }
    // Deleting a span a claim names as speaker is refused once with a warning; the same delete again confirms.
    if (event.detail.verb === "post" && event.detail.path.includes("/spans/delete/")) {
      const span = String(event.detail.parameters.span ?? "");
      if (state.deleteWarned === span) {
        event.detail.parameters.confirm = span;
      }
      state.deleteWarned = span;
    }
  });

  // Failed requests: requests.js (idempotency keys, reconcile after a lost answer) says what happened here.
  function failed(text) {
    const region = document.getElementById("ws-error");
    const paragraph = document.createElement("p");
    paragraph.className = "error";
    paragraph.textContent = text;
    region.replaceChildren(paragraph);
  }
  installRequests(workspace, { failed });

  // At once, not at settle: a queued post may leave before the settle, and it names the drawing just received.
  document.body.addEventListener("htmx:afterSwap", () => spliceBodyPatch(document.getElementById("ws-body-patch"), root));
  document.body.addEventListener("htmx:afterSettle", (event) => {
    // The answer's selection: #span-editor comes with every write's answer (the whole panel, or its parts).
    const chosen = document.getElementById("span-editor")?.dataset.selected || null;
    if (event.detail.target?.id === "span-editor") {
      if (state.editAfterLoad) {
        state.editAfterLoad = false;
        document.querySelector("#span-editor textarea")?.focus();
      }
      return;
    }
    state.selected = chosen;
    markSelected();
    const active = document.activeElement;
    if (state.caretAt !== null && (!active || active === document.body || active === root)) {
      // The keyboard keeps its place: the caret goes back where the label was applied.
      placeCaret(state.caretAt);
    } else if (!active || active === document.body) {
      root.focus({ preventScroll: true });
    }
    state.caretAt = null;
    caret.show();
  });

  workspace.dataset.ready = "true";
}
