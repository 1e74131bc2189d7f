// Draw every plotly figure the server embedded as <script type="application/json" data-chart="id">.
(function () {
  "use strict";

  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll('script[type="application/json"][data-chart]').forEach(function (tag) {
      var target = document.getElementById(tag.dataset.chart);
      if (!target || target.dataset.drawn) return;
      var fig = JSON.parse(tag.textContent);
      Plotly.newPlot(target, fig.data, fig.layout, { displayModeBar: false, responsive: true });
      target.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
