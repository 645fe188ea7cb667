// The feedback page of an attempt still being graded: ask every second, reload once graded.
// Its one message is in the page's language (the JavaScript catalogue, loaded by base.html).
(function () {
  "use strict";
  var el = document.querySelector("[data-status-url]");
  if (!el) return;
  var gettext = window.gettext || function (text) { return text; };  // the page's language
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(el.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (data.graded) { window.location.reload(); return; }
        if (tries === 30) { el.textContent = gettext("Grading is taking longer than usual…"); }
        window.setTimeout(poll, tries < 30 ? 1000 : 5000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 700);
})();
