// Redrawn stretches of an article's text, spliced in (the workspace and the review page).
//
// After a change to one span the server draws again only the stretch of the text it touched: its segments come
// in a hidden holder (#ws-body-patch, #review-body-patch, swapped out of band) whose data-from and data-to are
// the code-point offsets of the stretch in the drawing the page named when it posted. The text's own segments
// carry data-start, so the stretch replaces exactly the segments that start inside it.

/**
 * Move the segments `holder` carries into `root` in place of those they replace, leaving the text as a full
 * redraw would: focus inside the text is dropped and a selection in it collapsed. Nothing happens when the
 * holder carries no stretch (it is emptied and its offsets cleared once used). A stretch that does not line up
 * with the page's segments reloads the page.
 */
export function spliceBodyPatch(holder, root) {
  if (!holder || !root || holder.dataset.from === undefined) {
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
    // The server splices only into the drawing the page named, so this cannot line up wrongly; if it ever does,
    // a reload shows what is stored rather than a text whose offsets are off.
    window.location.reload();
    return;
  }
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
