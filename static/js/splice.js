// Redrawn stretches of an article's text, spliced in (the workspace and the review page).
//
// After a change to one span the server draws again only the stretch of the text it touched: its segments come
// in a hidden holder (#ws-body-patch, #review-body-patch, swapped out of band) whose data-from and data-to are
// the code-point offsets of the stretch in the drawing the page named when it posted. Several stretches (a
// create that suggested its text elsewhere) come as data-windows="from to from to ...", their segments one
// after another. The text's own segments carry data-start, so a stretch replaces exactly the segments that
// start inside it.

/**
 * Move the segments `holder` carries into `root` in place of those they replace, leaving the text as a full
 * redraw would: focus inside the text is dropped and a selection in it collapsed. Nothing happens when the
 * holder carries no stretch (it is emptied and its offsets cleared once used). A stretch that does not line up
 * with the page's segments reloads the page.
 */
export function spliceBodyPatch(holder, root) {
  if (!holder || !root || (holder.dataset.from === undefined && holder.dataset.windows === undefined)) {
    return;
  }
  const bounds = (holder.dataset.windows ?? `${holder.dataset.from} ${holder.dataset.to}`).split(" ").map(Number);
  delete holder.dataset.from;
  delete holder.dataset.to;
  delete holder.dataset.windows;
  const fresh = [...holder.children];
  holder.replaceChildren();
  const children = [...root.children];
  const splices = [];
  for (let i = 0; i < bounds.length; i += 2) {
    const [from, to] = [bounds[i], bounds[i + 1]];
    const inside = (element) => {
      const at = Number(element.dataset.start);
      return at >= from && at < to;
    };
    const stale = children.filter(inside);
    const after = stale.length ? stale[stale.length - 1].nextElementSibling : null;
    if (!stale.length || Number(stale[0].dataset.start) !== from || (after && Number(after.dataset.start) !== to)) {
      // The server splices only into the drawing the page named, so this cannot line up wrongly; if it ever
      // does, a reload shows what is stored rather than a text whose offsets are off.
      window.location.reload();
      return;
    }
    splices.push([stale, fresh.filter(inside)]);
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
  for (const [stale, replacement] of splices) {
    stale[0].replaceWith(...replacement);
    for (const element of stale.slice(1)) {
      element.remove();
    }
  }
}
