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

  // Wider than a phone: tick labels are not checked one by one against the chart's edges (Plotly's "hide
  // past div", a bounding box per label: a fifth of the drawing time). The axes' automargin already makes
  // room for every label at these widths, so nothing was ever hidden: the same chart is drawn (compared
  // pixel for pixel at 600 to 1280 px on the national dataset's charts).
  function wide(layout) {
    ["xaxis", "yaxis"].forEach(function (name) {
      var axis = layout[name];
      if (axis && axis.ticklabeloverflow === undefined) layout[name] = Object.assign({}, axis, { ticklabeloverflow: "allow" });
    });
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
  var learnt = {};

  function marginKey(el, data, layout) {
    return JSON.stringify([
      el.clientWidth, layout.height, layout.margin, layout.legend, layout.xaxis, layout.showlegend,
      data.map(function (t) {
        var x = t.x || [];
        return [t.type, t.name, t.showlegend, t.mode, t.line, x[0], x[x.length - 1]];
      }),
    ]);
  }

  function drawOne(el) {
    if (el.hasAttribute("data-drawing")) return Promise.resolve();
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source) return Promise.resolve();
    el.setAttribute("data-drawing", String(++started));  // the order charts were drawn in
    var fig = JSON.parse(source.textContent);
    var layout = fig.layout || {};
    if (!layout.template && sharedTemplate()) layout.template = sharedTemplate();
    if (el.clientWidth && el.clientWidth < 560) narrow(layout);
    else wide(layout);
    // The bottom margin the legend and the quarter labels need, learnt from a chart drawn before with the
    // same width, axis and legend (every XmR chart of a priority page): given at once, Plotly has no margin
    // to push and draws the chart once, not twice. A lower bound only (a chart needing more still gets it),
    // put back afterwards so a resize finds its own.
    var key = marginKey(el, fig.data, layout);
    var base = layout.margin || {};
    if (learnt[key] !== undefined && learnt[key] > (base.b || 0)) layout.margin = Object.assign({}, base, { b: learnt[key] });
    // The server's SVG (shown until now) goes in the same task Plotly draws in: no frame shows neither.
    var drawn = el.querySelector("svg.xmr-svg");
    if (drawn) el.removeChild(drawn);
    return window.Plotly.newPlot(el, fig.data, layout, config).then(function () {
      var size = el._fullLayout && el._fullLayout._size;
      if (size && learnt[key] === undefined) learnt[key] = size.b;
      if (el.layout && el.layout.margin !== base) el.layout.margin = base;
      el.setAttribute("data-drawn", "true");  // "static": the server's SVG; "true": Plotly's chart
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
