// The annotate page: text selection and span selection, label keys, and the htmx round trips.
//
// Every change goes through a small hidden form (create, relabel, delete) or a visible one (note, status, undo)
// posted by htmx; the server answers with the re-rendered text and side panel as out-of-band swaps. After one
// span's create, delete or relabel the text comes back as just the stretch that changed (#ws-body-patch), which
// is spliced in here; every post says which drawing of the text the page holds, so a page that missed a
// change gets the whole text instead. Refusals
// come back as 4xx responses aimed (HX-Retarget) at the error region, which htmx would not swap by default.

import { installCaret } from "./caret.js";
import { installHotkeys } from "./hotkeys.js";
import { installRequests } from "./requests.js";
import { refine, selectionOffsets } from "./selection.js";

const SNAP_KEY = "newsnotes.snapWords";

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
  const state = { selected: null, editAfterLoad: false, keyboard: false };
  const labelButtons = [...document.querySelectorAll(".palette .label-btn")];
  const labelsByKey = new Map();
  for (const button of labelButtons) {
    if (button.dataset.hotkey) {
      labelsByKey.set(button.dataset.hotkey.toLowerCase(), button);
    }
  }
  const caret = installCaret(root, document.getElementById("ws-caret"));

  snap.checked = localStorage.getItem(SNAP_KEY) !== "0";
  snap.addEventListener("change", () => localStorage.setItem(SNAP_KEY, snap.checked ? "1" : "0"));

  function announce(text, { visible = false } = {}) {
    live.textContent = text;
    if (visible) {
      document.getElementById("ws-message").textContent = text;
    }
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
    state.selected = id ? String(id) : null;
    const panel = document.getElementById("ws-panel");
    if (panel) {
      panel.dataset.selected = state.selected ?? "";
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
      first.focus({ preventScroll: true });
    }
    announce(`Selected ${describe(state.selected)}. A label key relabels it, Delete deletes it, e edits the note.`);
    if (load) {
      const url = workspace.dataset.spanUrl.replace(/\/0\/$/, `/${state.selected}/`);
      window.htmx.ajax("GET", url, { target: "#span-editor", swap: "innerHTML" });
    }
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

  function applyLabel(button) {
    const range = textRange();
    if (range) {
      window.getSelection().removeAllRanges();
      submit("span-create", { label: button.dataset.label, start: range.start, end: range.end, text: range.text });
      announce(`Labelling “${range.text.slice(0, 60)}” as ${button.dataset.name}.`);
      return;
    }
    if (state.selected) {
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
    selectSpan(null);
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

  // Keyboard: Tab reaches each place where spans begin; reaching one selects its span.
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

  const bindings = new Map([
    ["ctrl+z", () => document.getElementById("ws-undo").requestSubmit()],
    ["delete", deleteSelected],
    ["backspace", deleteSelected],
    ["e", editSelected],
    [
      "d",
      () => {
        const form = document.getElementById("ws-status");
        if (!form.querySelector("button")) {
          return false;
        }
        form.requestSubmit();
        return true;
      },
    ],
    ["n", () => window.location.assign(workspace.dataset.nextUrl)],
    [
      "w",
      () => {
        snap.checked = !snap.checked;
        snap.dispatchEvent(new Event("change"));
        announce(snap.checked ? "Selections snap to whole words." : "Selections keep exact characters.");
      },
    ],
    ["?", () => help.showModal()],
    [
      "enter",
      (event) => {
        const segment = event.target.closest?.(".seg.hl");
        if (!segment || !root.contains(segment)) {
          return false;
        }
        cycle(segment);
        return true;
      },
    ],
    [
      "escape",
      (event) => {
        if (event.target.closest?.("#span-editor")) {
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
      },
    ],
  ]);
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
    if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Every post names the drawing of the text this page holds; the server splices only into the one it drew.
  document.body.addEventListener("htmx:configRequest", (event) => {
    const holder = document.getElementById("ws-body-patch");
    if (holder && event.detail.verb === "post" && workspace.contains(event.detail.elt)) {
      event.detail.parameters.body_version = holder.dataset.version;
    }
  });

  /** Splice a redrawn stretch of the text in place of the segments it replaces, leaving the page as a full redraw would. */
  function applyBodyPatch() {
    const holder = document.getElementById("ws-body-patch");
    if (!holder || holder.dataset.from === undefined) {
      return;
    }
    const from = Number(holder.dataset.from);
    const to = Number(holder.dataset.to);
    delete holder.dataset.from;
    delete holder.dataset.to;
    const fresh = [...holder.children];
    holder.replaceChildren();
    const stale = [...root.children].filter((element) => {
      const at = Number(element.dataset.start);
      return at >= from && at < to;
    });
    const after = stale.length ? stale[stale.length - 1].nextElementSibling : null;
    if (!stale.length || Number(stale[0].dataset.start) !== from || (after && Number(after.dataset.start) !== to)) {
      // The server splices only into the drawing this page named, so this cannot line up wrongly; if it ever
      // does, a reload shows what is stored rather than a text whose offsets are off.
      window.location.reload();
      return;
    }
    // A full redraw drops the focus and collapses a text selection held inside the text; so does this.
    const active = document.activeElement;
    if (active && active !== root && root.contains(active)) {
      active.blur();
    }
    const selection = window.getSelection();
    for (const node of [selection.anchorNode, selection.focusNode]) {
      if (node && node !== root && root.contains(node)) {
        selection.collapse(root, 0);
        break;
      }
    }
    stale[0].replaceWith(...fresh);
    for (const element of stale.slice(1)) {
      element.remove();
    }
  }

  function failed(text) {
    const region = document.getElementById("ws-error");
    const paragraph = document.createElement("p");
    paragraph.className = "error";
    paragraph.textContent = text;
    region.replaceChildren(paragraph);
  }
  installRequests(workspace, { failed });

  // At once, not at settle: a queued post may leave before the settle, and it names the drawing just received.
  document.body.addEventListener("htmx:afterSwap", applyBodyPatch);
  document.body.addEventListener("htmx:afterSettle", (event) => {
    const panel = document.getElementById("ws-panel");
    const chosen = panel?.dataset.selected || null;
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
    if (!active || active === document.body) {
      const first = state.selected ? root.querySelector(`[data-opens~="${CSS.escape(state.selected)}"]`) : null;
      (first ?? root).focus({ preventScroll: true });
    }
    caret.show();
  });

  workspace.dataset.ready = "true";
}
