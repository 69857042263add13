// Study entry: "Add a row" for the calcification-group and lesion formsets, and the marks
// of values proposed from the report text.
// The empty row is a <template data-empty-row="PREFIX"> rendered by Django with
// "__prefix__" in its names; each new row takes the next index and bumps TOTAL_FORMS.
(function () {
  "use strict";
  function addRow(prefix) {
    var template = document.querySelector('template[data-empty-row="' + prefix + '"]');
    var rows = document.querySelector('[data-rows="' + prefix + '"]');
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (!template || !rows || !total) { return; }
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    numberRows(prefix);
    var first = row.querySelector("input, select");
    if (first) { first.focus(); }
  }
  function numberRows(prefix) {
    var rows = document.querySelectorAll('[data-rows="' + prefix + '"] [data-row] .row-number');
    rows.forEach(function (el, i) { el.textContent = String(i + 1); });
  }
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () { addRow(button.dataset.addRow); });
  });
  ["calc", "enh"].forEach(numberRows);
  // A value proposed from the report text that the user changes is marked as changed.
  document.querySelectorAll("[data-proposed]").forEach(function (input) {
    var mark = function () {
      var field = input.closest(".field");
      if (field) { field.classList.add("edited"); }
    };
    input.addEventListener("change", mark);
    input.addEventListener("input", mark);
  });
})();
