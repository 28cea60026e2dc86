// Keyboard shortcuts: one keydown listener on the document, a table from key name to action.
//
// Which key does what is not decided here: annotations/keymap.py holds the one table (also drawn as the `?`
// dialog, and checked by the admin against label hotkeys); the page hands it over as JSON (#ws-keys). A script
// registers the function behind each row's action name with `defineAction`; `keymapBindings` joins the two.
//
// Shortcuts stay quiet while the editor types in a field (note, speaker) or a dialog is open, so a note can
// contain "d" and "1" without marking the article done or labelling anything.

const TYPING = "textarea, select, [contenteditable]:not([contenteditable='false'])";
// Inputs that take no typed text (a checkbox such as "Snap to words") leave the shortcuts on.
const KEYLESS_INPUTS = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]);

function typingIn(target) {
  if (!(target instanceof Element)) {
    return false;
  }
  if (target.closest(TYPING)) {
    return true;
  }
  return target instanceof HTMLInputElement && !KEYLESS_INPUTS.has(target.type);
}

/** The name of a key press as the bindings use it ("1", "d", "?", "delete", "ctrl+z"), or null. */
export function shortcutName(event) {
  if (event.isComposing || event.key === "Dead" || event.key === "Unidentified") {
    return null;
  }
  const key = event.key.toLowerCase();
  if (event.ctrlKey || event.metaKey) {
    // Ctrl+Z on Windows and Linux, Cmd+Z on macOS; every other chord belongs to the browser.
    return key === "z" && !event.shiftKey && !event.altKey ? "ctrl+z" : null;
  }
  if (event.altKey) {
    return null;
  }
  return key;
}

const ACTIONS = new Map();

/** Register the function behind an action name of annotations/keymap.py (return false to decline the key). */
export function defineAction(name, action) {
  ACTIONS.set(name, action);
}

/** The key table the page embeds (json_script id), as bindings from key name to its registered action. */
export function keymapBindings(scriptId = "ws-keys") {
  const element = document.getElementById(scriptId);
  const bindings = new Map();
  for (const { action, keys } of element ? JSON.parse(element.textContent) : []) {
    // Looked up at the key press: a script loaded after this one may register its actions later.
    const run = (event) => {
      const registered = ACTIONS.get(action);
      if (!registered) {
        console.error(`No action "${action}" is registered for this key (see annotations/keymap.py).`);
        return false;
      }
      return registered(event);
    };
    for (const key of keys) {
      bindings.set(key, run);
    }
  }
  return bindings;
}

/**
 * Call `bindings.get(name)(event)` for each shortcut press; an action that returns false declines the key,
 * which then keeps its default behaviour (Enter on a button, Backspace in a field).
 */
export function installHotkeys(bindings, target = document) {
  target.addEventListener("keydown", (event) => {
    const name = shortcutName(event);
    if (name === null || event.defaultPrevented) {
      return;
    }
    // An open dialog takes every key, Esc included: Esc is how the browser closes it, and an action that took
    // Esc first (dropping a text selection behind the dialog) would leave the dialog open.
    if (document.querySelector("dialog[open]")) {
      return;
    }
    if (typingIn(event.target) && name !== "escape") {
      return;
    }
    const action = bindings.get(name);
    if (action && action(event) !== false) {
      event.preventDefault();
    }
  });
}
