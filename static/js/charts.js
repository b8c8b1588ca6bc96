// Draws every chart on the page from its JSON (the same Plotly figure the PDF renders).
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
  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      if (el.clientWidth && el.clientWidth < 560) narrow(fig.layout);
      window.Plotly.newPlot(el, fig.data, fig.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
      }).then(function () { el.setAttribute("data-drawn", "true"); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
