// Polls an upload's progress and reloads the page when the work is done.
(function () {
  var script = document.currentScript;
  var url = script && script.getAttribute("data-url");
  if (!url) return;
  var working = (script.getAttribute("data-working") || "checking,writing").split(",");
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (bar) bar.value = data.percent;
        if (text) text.textContent = data.message ? data.state + ": " + data.message : data.state + ": " + data.rows_done + " of " + (data.rows_total || "?") + " rows.";
        if (working.indexOf(data.state) >= 0) { setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
