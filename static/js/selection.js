// Selection → code-point offsets into the article body.
//
// The DOM measures text in UTF-16 code units; the server stores Unicode code points (Python str indices).
// The body is rendered as segment elements, each holding one text node and a data-start attribute with its first
// code point's offset, so a DOM point converts by counting code points inside one text node only.

const SEGMENT = "[data-start]";

/** Number of code points in the first `units` UTF-16 units of `text`; a split surrogate pair rounds per `up`. */
export function codePointsBefore(text, units, up = false) {
  let count = 0;
  let i = 0;
  while (i < units) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length;
    if (pair && i + 1 === units) {
      // The point sits between the halves of one character: count it only when rounding up.
      return up ? count + 1 : count;
    }
    i += pair ? 2 : 1;
    count += 1;
  }
  return count;
}

export function codePointLength(text) {
  return codePointsBefore(text, text.length);
}

/** UTF-16 index of the code point at `offset` in `text` (inverse of codePointsBefore). */
export function unitsBefore(text, offset) {
  let units = 0;
  for (let seen = 0; seen < offset && units < text.length; seen += 1) {
    const code = text.charCodeAt(units);
    units += code >= 0xd800 && code <= 0xdbff && units + 1 < text.length ? 2 : 1;
  }
  return units;
}

function segmentStart(element) {
  return Number(element.getAttribute("data-start"));
}

/** The code-point offset of the DOM point (node, offset) inside `root`, clamped to the body. */
export function pointToOffset(root, node, offset, up = false) {
  if (!root.contains(node)) {
    // A point outside the text (a drag that ran into the side panel): clamp to the nearer end.
    const before = node.compareDocumentPosition(root) & Node.DOCUMENT_POSITION_FOLLOWING;
    return before ? 0 : codePointLength(root.textContent);
  }
  if (node.nodeType === Node.TEXT_NODE) {
    const segment = node.parentElement.closest(SEGMENT);
    if (!segment || !root.contains(segment)) {
      return 0;
    }
    return segmentStart(segment) + codePointsBefore(node.data, offset, up);
  }
  // An element point: `offset` counts child nodes.
  if (node !== root && node.matches(SEGMENT)) {
    return offset === 0 ? segmentStart(node) : segmentStart(node) + codePointLength(node.textContent);
  }
  const child = node.childNodes[offset];
  if (child) {
    const segment = child.nodeType === Node.ELEMENT_NODE ? (child.matches(SEGMENT) ? child : child.querySelector(SEGMENT)) : null;
    if (segment) {
      return segmentStart(segment);
    }
  }
  // Past the last child: the end of the node's last segment.
  const segments = node === root ? root.querySelectorAll(SEGMENT) : node.querySelectorAll(SEGMENT);
  const last = segments[segments.length - 1];
  return last ? segmentStart(last) + codePointLength(last.textContent) : 0;
}

/** The selection's code-point range inside `root`, or null when it is collapsed or outside the text. */
export function selectionOffsets(root, selection = window.getSelection()) {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) {
    return null;
  }
  const range = selection.getRangeAt(0);
  if (!range.intersectsNode(root)) {
    return null;
  }
  const start = pointToOffset(root, range.startContainer, range.startOffset, false);
  const end = pointToOffset(root, range.endContainer, range.endOffset, true);
  return end > start ? { start, end } : null;
}

const SPACE = /^\s$/u;

/**
 * A word segmenter for the article's language. A tag the browser refuses (a stored `en_US`, say) throws a
 * RangeError; the default locale's word breaks are then used rather than losing the selection silently.
 */
export function wordSegmenter(locale) {
  try {
    return new Intl.Segmenter(locale || undefined, { granularity: "word" });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return new Intl.Segmenter(undefined, { granularity: "word" });
  }
}

function graphemeBounds(text) {
  const bounds = new Set([0, text.length]);
  for (const { index } of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) {
    bounds.add(index);
  }
  return bounds;
}

/**
 * Trim whitespace from both ends, widen to whole characters (grapheme clusters: emoji with ZWJ and skin tones,
 * letters with combining accents) and, when `snapWords`, to whole words. `body` is the text as a string,
 * `start`/`end` code-point offsets. Returns {start, end, text} in code points, or null if only space was selected.
 */
export function refine(body, start, end, { snapWords = true, locale } = {}) {
  const chars = Array.from(body);
  start = Math.max(0, Math.min(start, chars.length));
  end = Math.max(start, Math.min(end, chars.length));
  while (start < end && SPACE.test(chars[start])) start += 1;
  while (end > start && SPACE.test(chars[end - 1])) end -= 1;
  if (start === end) {
    return null;
  }
  // Segment only the paragraphs the selection touches: whole bodies can be long.
  let from = start;
  while (from > 0 && chars[from - 1] !== "\n") from -= 1;
  let to = end;
  while (to < chars.length && chars[to] !== "\n") to += 1;
  const window = chars.slice(from, to).join("");
  const toUnits = (offset) => unitsBefore(window, offset - from);
  const toOffset = (units) => from + codePointsBefore(window, units);
  let s = toUnits(start);
  let e = toUnits(end);

  const bounds = graphemeBounds(window);
  while (s > 0 && !bounds.has(s)) s -= 1;
  while (e < window.length && !bounds.has(e)) e += 1;

  if (snapWords) {
    for (const word of wordSegmenter(locale).segment(window)) {
      if (!word.isWordLike) continue;
      const wordEnd = word.index + word.segment.length;
      if (word.index < s && s < wordEnd) s = word.index;
      if (word.index < e && e < wordEnd) e = wordEnd;
    }
  }
  start = toOffset(s);
  end = toOffset(e);
  return { start, end, text: chars.slice(start, end).join("") };
}

/** The DOM point (text node, UTF-16 offset) of code-point `offset` inside `root`, or null for an empty text. */
export function offsetToPoint(root, offset) {
  let segment = null;
  for (const element of root.querySelectorAll(SEGMENT)) {
    if (segmentStart(element) > offset) break;
    segment = element;
  }
  if (!segment) {
    segment = root.querySelector(SEGMENT);
    if (!segment) return null;
  }
  const node = segment.firstChild ?? segment;
  if (node.nodeType !== Node.TEXT_NODE) return { node, offset: 0 };
  return { node, offset: Math.min(node.data.length, unitsBefore(node.data, offset - segmentStart(segment))) };
}
