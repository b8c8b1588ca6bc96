// Draws every chart on the page from its JSON (the same figure data the PDF renders): the charts of the
// first screen at once, the others after them one per task, or at once when scrolled to (and all of them
// before printing). Plain-dict charts carry no template: the page's shared one (#chart-template,
// Plotly's default, sent once) is applied to each.
(function () {
  // A phone: the heading above the chart names it, so the title goes; quarter ticks thin to about four
  // (every label is still in the table and the text below the chart); margins shrink.
  function narrow(layout) {
    if (layout.title) layout.title = { text: "" };
    layout.margin = Object.assign({}, layout.margin || {}, { l: 48, r: 8, t: 24 });
    var axis = layout.xaxis;
    if (axis && axis.tickmode === "array" && axis.tickvals && axis.tickvals.length > 4) {
      var step = Math.ceil(axis.tickvals.length / 4), vals = [], text = [];
      for (var i = axis.tickvals.length - 1; i >= 0; i -= step) {
        vals.unshift(axis.tickvals[i]);
        text.unshift(axis.ticktext[i]);
      }
      axis.tickvals = vals;
      axis.ticktext = text;
    }
  }

  var config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  };
  var template = null;

  function sharedTemplate() {
    if (template === null) {
      var source = document.getElementById("chart-template");
      template = source ? JSON.parse(source.textContent) : undefined;
    }
    return template;
  }

  var started = 0;

  function drawOne(el) {
    if (el.hasAttribute("data-drawing")) return Promise.resolve();
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source) return Promise.resolve();
    el.setAttribute("data-drawing", String(++started));  // the order charts were drawn in
    var fig = JSON.parse(source.textContent);
    var layout = fig.layout || {};
    if (!layout.template && sharedTemplate()) layout.template = sharedTemplate();
    if (el.clientWidth && el.clientWidth < 560) narrow(layout);
    return window.Plotly.newPlot(el, fig.data, layout, config).then(function () {
      el.setAttribute("data-drawn", "true");
    });
  }

  // The charts on the first screen are drawn at once, as soon as plotly.js has run (no wait for a frame);
  // then the others in page order, one per task (the browser paints and answers input between two), any
  // chart scrolled to first being drawn at once.
  function start() {
    if (!window.Plotly) return;
    var charts = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
    window.addEventListener("beforeprint", function () { charts.forEach(drawOne); });
    var bottom = window.innerHeight + 100;
    charts.forEach(function (el) {
      if (el.getBoundingClientRect().top < bottom) drawOne(el);
    });
    var rest = charts.filter(function (el) { return !el.hasAttribute("data-drawing"); });
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (!entry.isIntersecting) return;
          observer.unobserve(entry.target);
          drawOne(entry.target);
        });
      }, { rootMargin: "100px 0px" });
      rest.forEach(function (el) { observer.observe(el); });
    }
    function drawRest() {
      var next = rest.shift();
      while (next && next.hasAttribute("data-drawing")) next = rest.shift();
      if (next) drawOne(next).then(function () { setTimeout(drawRest, 0); });
    }
    setTimeout(drawRest, 0);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
