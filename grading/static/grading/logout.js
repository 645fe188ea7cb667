/* On log out, forget this user's local copies of drafts that already reached the server, so a
 * shared computer does not keep them. A copy with unsaved changes is kept: it is the only place
 * that work exists, and the assignment page offers it back after the next log in. */
(function () {
  "use strict";
  var form = document.getElementById("logout-form");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    var prefix = form.dataset.draftPrefix;
    try {
      for (var k = window.localStorage.length - 1; k >= 0; k--) {
        var key = window.localStorage.key(k);
        if (!key || key.indexOf(prefix) !== 0) { continue; }
        var copy = null;
        try { copy = JSON.parse(window.localStorage.getItem(key)); } catch (e) { copy = null; }
        if (!copy || !copy.dirty) { window.localStorage.removeItem(key); }
      }
    } catch (e) { /* storage unavailable: nothing to forget */ }
  });
})();
