// Keyboard shortcuts: one keydown listener on the document, a table from key name to action.
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
    const typing = typingIn(event.target);
    const dialogOpen = document.querySelector("dialog[open]");
    if ((typing || dialogOpen) && name !== "escape") {
      return;
    }
    const action = bindings.get(name);
    if (action && action(event) !== false) {
      event.preventDefault();
    }
  });
}
