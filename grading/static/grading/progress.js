// A regrade job's page: poll its progress until it finishes, then reload to show the result.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) return;
  var url = box.dataset.progressUrl;
  var finished = box.dataset.status === "done" || box.dataset.status === "failed";
  if (finished) return;
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        document.getElementById("job-done").textContent = data.done;
        document.getElementById("job-total").textContent = data.total;
        var bar = document.getElementById("job-bar");
        bar.max = Math.max(1, data.total);
        bar.value = data.done;
        // The status in the page's language (the server translates it), never the raw value.
        document.getElementById("job-status-text").textContent = data.status_text || data.status;
        if (data.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
