// Follow background exports on the downloads page: update each progress bar from the
// server every two seconds and reload the page once a file is ready or has failed.
// Without JavaScript the page offers a "Check again" link instead.
(function () {
  var bars = document.querySelectorAll("progress[data-progress-url]");
  if (!bars.length || !window.fetch) { return; }
  function poll() {
    var pending = Array.prototype.map.call(bars, function (bar) {
      return fetch(bar.getAttribute("data-progress-url"), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { return false; }
          bar.max = Math.max(job.rows_total, 1);
          bar.value = job.rows_done;
          var text = document.getElementById(bar.id + "-text");
          if (text && job.text) { text.textContent = job.text; }
          return job.status === "done" || job.status === "failed";
        })
        .catch(function () { return false; });
    });
    Promise.all(pending).then(function (finished) {
      if (finished.some(Boolean)) { window.location.reload(); } else { setTimeout(poll, 2000); }
    });
  }
  setTimeout(poll, 2000);
})();
