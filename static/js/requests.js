// Workspace writes and lost answers.
//
// Every post from the workspace carries a fresh Idempotency-Key, so the server applies it at most once and
// answers a retry with its first outcome. When the answer is lost (network error, timeout, a 5xx without a
// message of its own) the request may or may not have been stored, so the page says so and asks the server
// (GET data-write-check-url with the same key), which redraws the page from the database and says whether the
// change was saved. Refusals with their own message (HX-Retarget) are shown as they are (refusals.js).

export const KEY_HEADER = "Idempotency-Key";
export const CHECKING = "The server did not answer; checking what was saved…";
export const UNREACHABLE =
  "The server still does not answer, so whether your last change was saved is unknown. Reload the page when it is back.";

/** A random key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Give the workspace's posts keys and reconcile after a lost answer. `failed(text)` shows a sentence in the
 * page's error region.
 */
export function installRequests(workspace, { failed }) {
  const checkUrl = workspace.dataset.writeCheckUrl;

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.verb === "post" && workspace.contains(event.detail.elt)) {
      event.detail.headers[KEY_HEADER] = newKey();
    }
  });

  /** Ask whether the write with `key` was saved; the answer redraws the page (out-of-band swaps) and says which. */
  async function check(key) {
    let response;
    try {
      // Plain fetch, not htmx.ajax: its promise for this request can reject with nobody to catch it.
      response = await fetch(checkUrl, { headers: { [KEY_HEADER]: key, "HX-Request": "true" } });
    } catch {
      failed(UNREACHABLE);
      return;
    }
    if (!response.ok) {
      failed(UNREACHABLE);
      return;
    }
    window.htmx.swap(document.body, await response.text(), { swapStyle: "none" });
  }

  function lost(detail) {
    const key = detail.requestConfig?.headers?.[KEY_HEADER];
    if (detail.requestConfig?.verb !== "post" || !key) {
      failed("The server did not answer. Reload the page to see what is stored.");
      return;
    }
    failed(CHECKING);
    check(key);
  }

  document.body.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.getResponseHeader("HX-Retarget")) {
      return; // a refusal with its own message, already shown
    }
    if (xhr.status >= 500) {
      lost(event.detail);
    } else {
      failed(`The server refused that (error ${xhr.status}). Reload the page and try again.`);
    }
  });
  document.body.addEventListener("htmx:sendError", (event) => lost(event.detail));
  document.body.addEventListener("htmx:timeout", (event) => lost(event.detail));
}
