// The web desk's little script: the CSRF token on every htmx request, and the
// charts drawn from the JSON a page puts in <script type="application/json"
// class="chart-data" data-target="canvas-id"> (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta && meta.content) event.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // A refused step answers its row with the reason (400/409): show it in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if ((xhr.status === 400 || xhr.status === 409) && xhr.getResponseHeader("X-Desk-Fragment")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("script.chart-data").forEach(function (node) {
      var canvas = document.getElementById(node.dataset.target);
      if (!canvas || canvas.dataset.drawn) return;
      canvas.dataset.drawn = "1";
      var config = JSON.parse(node.textContent);
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
      // "links": one address per bar (报表's funnel): a click on the bar opens it.
      var links = config.links;
      delete config.links;
      if (links) {
        config.options.onClick = function (_event, items) {
          if (items.length && links[items[0].index]) window.location.href = links[items[0].index];
        };
        config.options.onHover = function (event, items) {
          event.native.target.style.cursor = items.length ? "pointer" : "default";
        };
      }
      new Chart(canvas, config);
    });
  }
  // Canvas text uses only fonts already loaded: draw once the desk's own CJK font
  // is in (else a PC with no Chinese font gets boxes), and in the page's font.
  function whenFontReady(draw) {
    if (typeof Chart !== "undefined") Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    if (!document.fonts || !document.fonts.load) return draw();
    document.fonts.load('12px "DeskCJK"', "线索").then(draw, draw);
  }
  document.addEventListener("DOMContentLoaded", function () {
    whenFontReady(function () { drawCharts(document); });
  });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
