// Refusals shown in words (the workspace and the review page).
//
// The server refuses a change with a 4xx whose body is a sentence and whose HX-Retarget names the page's error
// region (#ws-error, #review-error). htmx swaps no error answer by itself, so without this the sentence never
// shows. Any other error answer (a 5xx, a 4xx without HX-Retarget) is left to htmx and the page's own handlers.

/** An htmx:beforeSwap handler: swap a refusal into the region it names, as htmx swaps a 200. */
export function showRefusal(event) {
  const xhr = event.detail.xhr;
  if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
}
