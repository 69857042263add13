// "Print" buttons: the browser's print dialog (no inline script: the CSP forbids it).
document.querySelectorAll("[data-print]").forEach(function (button) {
  "use strict";
  button.addEventListener("click", function () { window.print(); });
});
