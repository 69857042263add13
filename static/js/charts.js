// Renders every Plotly figure on the page. A figure is a <div class="plotly-chart"
// data-figure="ID"> next to {{ figure|json_script:"ID" }}: no inline script, so the
// page passes a Content Security Policy without 'unsafe-inline'.
(function () {
  "use strict";
  // A figure may carry `layout.meta.narrow = {width, data: {traceIndex: {...}}, layout: {...}}`:
  // trace and layout overrides for a chart drawn narrower than `width` (e.g. fewer labels,
  // or room for a legend of one entry a line, on a phone).
  function narrowed(fig, width) {
    var narrow = fig.layout && fig.layout.meta && fig.layout.meta.narrow;
    if (!narrow || width >= narrow.width) { return fig; }
    Object.keys(narrow.data || {}).forEach(function (i) {
      Object.assign(fig.data[Number(i)], narrow.data[i]);
    });
    Object.assign(fig.layout, narrow.layout || {});
    return fig;
  }
  // A point whose `customdata` (its study's id) is in `layout.meta.study_urls` opens that
  // study's page when clicked.
  function linkPoints(el, fig) {
    var urls = fig.layout && fig.layout.meta && fig.layout.meta.study_urls;
    if (!urls) { return; }
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var url = point && point.customdata !== undefined && urls[String(point.customdata)];
      if (url) { window.location.assign(url); }
    });
  }
  function render() {
    document.querySelectorAll("div.plotly-chart[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source || el.dataset.rendered) { return; }
      var fig = narrowed(JSON.parse(source.textContent), el.clientWidth);
      // On a phone the toolbar, always shown on touch screens, covered the treatment
      // lines' labels: left out there (a double tap still resets the zoom).
      var config = Object.assign({ responsive: true, displaylogo: false,
                                   displayModeBar: el.clientWidth < 600 ? false : "hover" },
                                 fig.config || {});
      window.Plotly.newPlot(el, fig.data || [], fig.layout || {}, config);
      linkPoints(el, fig);
      el.dataset.rendered = "1";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
  // Printing: draw the charts at the paper's width, not the screen's (else they are cut off).
  function each(fn) {
    document.querySelectorAll("div.plotly-chart[data-rendered]").forEach(fn);
  }
  window.addEventListener("beforeprint", function () {
    each(function (el) { window.Plotly.relayout(el, { width: 700, autosize: false }); });
  });
  window.addEventListener("afterprint", function () {
    each(function (el) { window.Plotly.relayout(el, { width: null, autosize: true }); });
  });
})();
