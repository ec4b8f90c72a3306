// The "Print or save this page" button: hidden in the page, shown only when this script runs.
// Without JavaScript the page says how to print from the browser's menu instead.
"use strict";
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
// With the button there, the sentence on printing from the menu is not needed.
document.querySelectorAll("[data-print-hint]").forEach(function (hint) { hint.hidden = true; });
// A printed result carries the answers, even when the person left them folded on screen.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details.answers").forEach(function (details) { details.open = true; });
});
