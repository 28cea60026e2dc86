// Display preferences on every page: dark or light (the system's choice until the editor picks one), kept in
// localStorage. The stylesheet reads html[data-theme]; nothing here styles anything itself.

const KEY = "newsnotes.theme";
const html = document.documentElement;
const button = document.getElementById("theme-toggle");

function dark() {
  const chosen = html.dataset.theme;
  return chosen ? chosen === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function show() {
  if (button) {
    button.setAttribute("aria-pressed", String(dark()));
  }
}

const saved = localStorage.getItem(KEY);
if (saved === "dark" || saved === "light") {
  html.dataset.theme = saved;
}
show();
button?.addEventListener("click", () => {
  html.dataset.theme = dark() ? "light" : "dark";
  localStorage.setItem(KEY, html.dataset.theme);
  show();
});
