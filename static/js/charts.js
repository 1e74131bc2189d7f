// Draws every plotly figure the server embedded, with the conventions of engine/charts.py:
// - <script type="application/json" data-chart="ID"> (or <div data-figure="ID"> reading #ID);
// - font, grid, axis and paper colours come from the page's CSS variables at draw time, and the
//   charts redraw when the system colour scheme changes;
// - each chart follows its card's width (ResizeObserver), never a fixed pixel width;
// - a click on a point opens the URL in its customdata (first item);
// - a zoom on a date axis opens the same page with from=/to= (ISO 8601 UTC), range and page
//   removed: the page's time range; a double-click (autorange) does nothing special;
// - once every figure of the loaded page is drawn, <html data-charts-drawn="1"> and the
//   performance mark "charts-drawn" say so (bench/browser.py and the browser tests wait for it).
(function () {
  "use strict";

  var CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };
  var drawn = [];

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function theme() {
    return {
      fg: cssVar("--fg", "#1d2330"),
      muted: cssVar("--muted", "#667085"),
      line: cssVar("--line", "#e3e6ec"),
      card: cssVar("--card", "#ffffff"),
    };
  }

  function themed(layout) {
    var t = theme();
    var out = JSON.parse(JSON.stringify(layout || {}));
    out.font = Object.assign({}, out.font, { color: t.fg });
    out.paper_bgcolor = "rgba(0,0,0,0)";
    out.plot_bgcolor = "rgba(0,0,0,0)";
    out.hoverlabel = Object.assign({ bgcolor: t.card, bordercolor: t.line, font: { color: t.fg } }, out.hoverlabel);
    if (out.legend) { out.legend.font = Object.assign({}, out.legend.font, { color: t.fg }); }
    Object.keys(out).forEach(function (key) {
      if (!/^[xy]axis\d*$/.test(key)) return;
      var axis = out[key];
      axis.gridcolor = t.line;
      axis.linecolor = t.line;
      axis.zerolinecolor = t.line;
      axis.tickcolor = t.line;
      axis.tickfont = Object.assign({}, axis.tickfont, { color: t.muted });
      if (axis.title && typeof axis.title === "object") {
        axis.title.font = Object.assign({}, axis.title.font, { color: t.muted });
      }
    });
    return out;
  }

  // Unrotated tick labels never overlap: at most one label per LABEL_PX of the chart's width
  // (a two-line date label, "00:00 / Nov 30, 2026", is about 80 px at 11 px).
  var LABEL_PX = 110;
  function fitTicks(layout, width) {
    Object.keys(layout).forEach(function (key) {
      var axis = layout[key];
      if (!/^xaxis\d*$/.test(key) || !axis || axis.tickmode === "array") return;
      var room = Math.max(2, Math.floor((width - 60) / LABEL_PX));
      axis.nticks = Math.min(axis.nticks || room, room);
    });
    return layout;
  }

  function pointUrl(point) {
    var data = point && point.customdata;
    var url = Array.isArray(data) ? data[0] : data;
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : "";
  }

  // plotly gives date-axis ranges as "2026-11-25 10:22:33.1234" in the figure's (UTC) time.
  function isoUtc(value) {
    if (typeof value === "number") return new Date(value).toISOString().replace(/\.\d+Z$/, "Z");
    var text = String(value).trim().replace(" ", "T");
    var m = /^(\d{4}-\d\d-\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d))?)?)?/.exec(text);
    if (!m) return "";
    return m[1] + "T" + (m[2] || "00") + ":" + (m[3] || "00") + ":" + (m[4] || "00") + "Z";
  }

  function rangeUrl(from, to) {
    var url = new URL(window.location.href);
    url.searchParams.delete("range");
    url.searchParams.delete("page");
    url.searchParams.set("from", from);
    url.searchParams.set("to", to);
    return url.pathname + url.search + url.hash;
  }

  function onRelayout(el, event) {
    if (!event || event["xaxis.autorange"]) return;
    var axis = el._fullLayout && el._fullLayout.xaxis;
    if (!axis || axis.type !== "date" || axis.fixedrange) return;
    var lo = event["xaxis.range[0]"], hi = event["xaxis.range[1]"];
    if (lo === undefined && Array.isArray(event["xaxis.range"])) {
      lo = event["xaxis.range"][0];
      hi = event["xaxis.range"][1];
    }
    if (lo === undefined || hi === undefined) return;
    var from = isoUtc(lo), to = isoUtc(hi);
    if (!from || !to) return;
    if (from > to) { var swap = from; from = to; to = swap; }
    window.location.assign(rangeUrl(from, to));
  }

  function plot(el, fig) {
    el._stageloopFigure = fig;
    var promise = Plotly.react(el, fig.data || [], fitTicks(themed(fig.layout), el.clientWidth), CONFIG);
    if (!el.dataset.drawn) {
      el.dataset.drawn = "1";
      drawn.push(el);
      el.on("plotly_click", function (event) {
        var url = pointUrl(event && event.points && event.points[0]);
        if (url) window.location.assign(url);
      });
      el.on("plotly_relayout", function (event) { onRelayout(el, event); });
      if (window.ResizeObserver) {
        var width = el.clientWidth;
        new ResizeObserver(function () {
          if (el.clientWidth !== width && el.isConnected) {
            width = el.clientWidth;
            var f = el._stageloopFigure;
            Plotly.react(el, f.data || [], fitTicks(themed(f.layout), width), CONFIG);
          }
        }).observe(el);
      }
    }
    return promise;
  }

  function draw(root) {
    var drawing = [];
    if (typeof Plotly === "undefined") return drawing;
    root.querySelectorAll('script[type="application/json"][data-chart]').forEach(function (tag) {
      var target = document.getElementById(tag.dataset.chart);
      if (!target || target.dataset.drawn) return;
      drawing.push(plot(target, JSON.parse(tag.textContent)));
    });
    root.querySelectorAll("[data-figure]").forEach(function (target) {
      var source = document.getElementById(target.dataset.figure);
      if (!source || target.dataset.drawn) return;
      drawing.push(plot(target, JSON.parse(source.textContent)));
    });
    return drawing;
  }

  function drawPage() {
    if (typeof Plotly === "undefined") return;  // no signal: the bundle did not load
    Promise.all(draw(document)).then(function () {
      document.documentElement.dataset.chartsDrawn = "1";
      if (window.performance && performance.mark) performance.mark("charts-drawn");
    });
  }

  function redrawAll() {
    drawn = drawn.filter(function (el) { return el.isConnected; });
    drawn.forEach(function (el) {
      var f = el._stageloopFigure;
      Plotly.react(el, f.data || [], fitTicks(themed(f.layout), el.clientWidth), CONFIG);
    });
  }

  if (window.matchMedia) {
    var scheme = window.matchMedia("(prefers-color-scheme: dark)");
    if (scheme.addEventListener) scheme.addEventListener("change", redrawAll);
  }
  window.stageloopCharts = { redraw: redrawAll };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawPage);
  } else {
    drawPage();
  }
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
