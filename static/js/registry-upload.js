// The registry upload page: poll the upload's status (stage and row counts only) while the
// task runs, then reload to show the report.
(function () {
  "use strict";
  var box = document.getElementById("upload-progress");
  if (!box) return;
  var text = box.querySelector("[data-progress-text]");
  var bar = box.querySelector("[data-progress-bar]");
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (s) {
        if (s && s.finished) { window.location.reload(); return; }
        if (s && s.stage) {
          text.textContent = s.stage + ": " + s.done + (s.done === 1 ? " row" : " rows");
          if (s.total) { bar.max = s.total; bar.value = s.done; }
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
