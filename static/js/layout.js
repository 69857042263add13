// Small screens: the main navigation folds behind a "Menu" button, and each table cell
// gets its column's name (data-label) so tables can reflow into one card per row. Loaded
// in <head> so the "js" class is set before the page is drawn; without this script the
// navigation simply wraps and the cells stack without their labels.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function ready() {
    var bar = document.querySelector(".topbar");
    var toggle = bar && bar.querySelector(".menu-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var open = bar.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    document.querySelectorAll("table.data").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) { return; }
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (!cell.hasAttribute("data-label") && heads[column]) { cell.setAttribute("data-label", heads[column]); }
          column += cell.colSpan || 1;
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
