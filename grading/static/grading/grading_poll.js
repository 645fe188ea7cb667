// The feedback page of an attempt still being graded: ask whether it is graded, reload once it is.
// The asks slow down as the wait grows (0.8 s, then 1.5, 2.5, 4 and every 5 s): a class
// submitting at once is answered within a second or two while grading keeps up, and does not
// fill the servers with questions while it catches up after a deadline.
// Its one message is in the page's language (the JavaScript catalogue, loaded by base.html).
(function () {
  "use strict";
  var el = document.querySelector("[data-status-url]");
  if (!el) return;
  var gettext = window.gettext || function (text) { return text; };  // the page's language
  var DELAYS_MS = [800, 1500, 2500, 4000, 5000];  // before the 1st, 2nd, ... ask; the last repeats
  var started = Date.now(), tries = 0, warned = false;
  function next() {
    var delay = DELAYS_MS[Math.min(tries, DELAYS_MS.length - 1)];
    window.setTimeout(poll, delay);
  }
  function poll() {
    tries += 1;
    fetch(el.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (data.graded) { window.location.reload(); return; }
        if (!warned && Date.now() - started > 30000) {
          warned = true;
          el.textContent = gettext("Grading is taking longer than usual…");
        }
        next();
      })
      .catch(function () { tries = Math.max(tries, DELAYS_MS.length - 1); next(); });
  }
  next();
})();
