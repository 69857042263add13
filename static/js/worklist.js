// The worklist's tick boxes: one for the whole page, one per patient, one per item; and a
// count of the ticked items next to the actions. Without this script each item's own box
// still works.
(function () {
  "use strict";
  var form = document.getElementById("worklist-actions");
  if (!form) { return; }
  var items = function (patient) {
    var selector = 'input[name="item"]' + (patient ? '[data-patient="' + patient + '"]' : "");
    return Array.prototype.slice.call(form.querySelectorAll(selector));
  };
  var count = form.querySelector("[data-ticked-count]");
  function refresh() {
    var ticked = items().filter(function (box) { return box.checked; }).length;
    if (count) { count.textContent = ticked ? "(" + ticked + " ticked)" : "(tick items below)"; }
    form.querySelectorAll("[data-tick-patient]").forEach(function (box) {
      var own = items(box.dataset.tickPatient);
      var on = own.filter(function (b) { return b.checked; }).length;
      box.checked = on === own.length && on > 0;
      box.indeterminate = on > 0 && on < own.length;
    });
    var all = form.querySelector("[data-tick-all]");
    if (all) {
      all.checked = ticked === items().length && ticked > 0;
      all.indeterminate = ticked > 0 && ticked < items().length;
    }
  }
  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.dataset.tickPatient) {
      items(box.dataset.tickPatient).forEach(function (b) { b.checked = box.checked; });
    } else if (box.hasAttribute("data-tick-all")) {
      items().forEach(function (b) { b.checked = box.checked; });
    }
    refresh();
  });
  refresh();
})();
