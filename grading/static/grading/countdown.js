/* The due time's countdown on the assignment page: "Time left: 2 days 3 hours", redrawn every
 * 20 s from the server's clock (the page carries the server's time at rendering, so a device
 * whose clock is wrong still counts right). Under an hour it turns red; past the due time it
 * says so. The server already wrote the first text; without JavaScript it stays as written.
 * Worded in the page's language (the JavaScript catalogue's gettext and ngettext).
 */
(function () {
  "use strict";
  var box = document.getElementById("due-countdown");
  if (!box) { return; }
  var out = box.querySelector("[data-left]") || box;
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  function fill(text, values) {
    if (window.interpolate) { return window.interpolate(text, values, true); }
    return text.replace(/%\((\w+)\)s/g, function (m, k) { return String(values[k]); });
  }
  var due = Number(box.dataset.dueMs);  // milliseconds: a whole second's truncation would show
  var offset = Number(box.dataset.nowMs) - Date.now();  // server clock minus this device's
  function unit(n, one, many) { return fill(ngettext(one, many, n), { n: n }); }
  function left(ms) {
    var minutes = Math.floor(ms / 60000), hours = Math.floor(minutes / 60), days = Math.floor(hours / 24);
    if (days >= 1) {
      return unit(days, "%(n)s day", "%(n)s days") + " " + unit(hours % 24, "%(n)s hour", "%(n)s hours");
    }
    if (hours >= 1) {
      return unit(hours, "%(n)s hour", "%(n)s hours") + " " + unit(minutes % 60, "%(n)s minute", "%(n)s minutes");
    }
    if (minutes >= 1) { return unit(minutes, "%(n)s minute", "%(n)s minutes"); }
    return gettext("less than a minute");
  }
  function draw() {
    var ms = due - (Date.now() + offset);
    if (ms <= 0) {
      out.textContent = gettext("The due time has passed.");
      box.classList.add("text-danger");
      return;
    }
    out.textContent = fill(gettext("Time left: %(left)s"), { left: left(ms) });
    box.classList.toggle("text-danger", ms < 3600000);
    box.classList.toggle("fw-semibold", ms < 3600000);
    window.setTimeout(draw, 20000);
  }
  draw();
})();
