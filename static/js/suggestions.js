// Suggestions in the workspace: what the machine proposes, drawn with a dashed outline.
//
// The server draws them in the text like spans but with negative ids in data-spans / data-opens, so Tab,
// clicks and Enter reach them exactly as they reach highlights. This module adds the keys that answer them:
// a (or Enter) accepts the selected suggestion, x rejects it, s selects the next one. The hidden forms
// #suggestion-accept and #suggestion-reject carry the answer; the server's reply redraws the page regions.

/** Whether a selected id (as data-spans holds it) is a suggestion rather than a span. */
export function isSuggestion(id) {
  return typeof id === "string" && id.startsWith("-");
}

/** The next suggestion's id after `current` in text order (wrapping), or null when there is none. */
export function nextSuggestion(root, current) {
  const stops = [...root.querySelectorAll("[data-opens]")];
  const ids = stops.flatMap((stop) => stop.dataset.opens.split(" ").filter(isSuggestion));
  if (!ids.length) {
    return null;
  }
  const at = ids.indexOf(current);
  return ids[(at + 1) % ids.length];
}

/**
 * Key bindings for suggestions. `workspace` gives: root (the text), selected() (the selected id),
 * select(id, options), submit(formId, values), announce(text, options).
 */
export function suggestionBindings(workspace) {
  function answer(formId, verb) {
    const id = workspace.selected();
    if (!isSuggestion(id)) {
      return false;
    }
    workspace.select(null);
    workspace.submit(formId, { suggestion: id.slice(1) });
    workspace.announce(`${verb} the suggestion.`);
    return true;
  }
  const accept = () => answer("suggestion-accept", "Accepting");
  const reject = () => answer("suggestion-reject", "Rejecting");
  const next = () => {
    const id = nextSuggestion(workspace.root, workspace.selected());
    if (id === null) {
      workspace.announce("No suggestions wait on this article.", { visible: true });
      return true;
    }
    workspace.select(id, { focus: true, scroll: true });
    return true;
  };
  return { accept, bindings: new Map([["a", accept], ["x", reject], ["s", next]]) };
}
