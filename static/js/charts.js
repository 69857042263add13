// Renders every Plotly figure on the page. A figure is a <div class="plotly-chart"
// data-figure="ID"> next to {{ figure|json_script:"ID" }}: no inline script, so the
// page passes a Content Security Policy without 'unsafe-inline'.
(function () {
  "use strict";
  function render() {
    document.querySelectorAll("div.plotly-chart[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source || el.dataset.rendered) { return; }
      var fig = JSON.parse(source.textContent);
      var config = Object.assign({ responsive: true, displaylogo: false }, fig.config || {});
      window.Plotly.newPlot(el, fig.data || [], fig.layout || {}, config);
      el.dataset.rendered = "1";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
