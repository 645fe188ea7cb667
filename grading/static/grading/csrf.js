/* Keep a page's CSRF token fresh, so logging in again in another tab never costs a post.
 *
 * Logging in (or out) rotates the session's CSRF token; a page opened before that still holds
 * the old one, and its next post would be refused. So, before any post form on the page is
 * sent, the current token is fetched from the server (GET /csrf/, login required) and put in
 * the form; then the form is sent as the click asked, with the same button. If the token
 * cannot be fetched in time (offline, session expired), the form is sent as it is and the
 * server says what happened. The autosave script uses backpropCsrf.refresh after a 403.
 */
(function () {
  "use strict";
  var url = document.body.dataset.csrfUrl;
  if (!url) { return; }
  var WAIT_MS = 4000;

  // Fetch the session's token and write it into the form; resolves true when it did.
  function refresh(form) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, WAIT_MS) : null;
    return fetch(url, { credentials: "same-origin", cache: "no-store",
                        headers: { "Accept": "application/json" },
                        signal: controller ? controller.signal : undefined })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (!data || !data.token) { return false; }
        Array.prototype.forEach.call(document.querySelectorAll('input[name="csrfmiddlewaretoken"]'),
          function (input) { input.value = data.token; });  // every form on the page goes stale together
        return true;
      })
      .catch(function () { return false; })
      .then(function (ok) { if (timer) { window.clearTimeout(timer); } return ok; });
  }

  function send(form, submitter) {
    form.dataset.tokenFresh = "1";
    if (form.requestSubmit) {
      form.requestSubmit(submitter || undefined);  // fires "submit" again, for the page's own handlers
      return;
    }
    if (submitter && submitter.name) {  // form.submit() would drop the clicked button's value
      var carry = document.createElement("input");
      carry.type = "hidden"; carry.name = submitter.name; carry.value = submitter.value;
      form.appendChild(carry);
    }
    form.submit();
  }

  // Capture on window: this runs before the form's own submit handlers, which then see only
  // the one submit that really goes out.
  window.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") { return; }
    if (!form.querySelector('input[name="csrfmiddlewaretoken"]')) { return; }
    if (form.dataset.tokenFresh === "1") { delete form.dataset.tokenFresh; return; }
    e.preventDefault();
    e.stopImmediatePropagation();
    if (form.dataset.tokenPending === "1") { return; }  // a second click while fetching
    form.dataset.tokenPending = "1";
    var submitter = e.submitter || null;
    refresh(form).then(function () {
      delete form.dataset.tokenPending;
      send(form, submitter);
    });
  }, true);

  window.backpropCsrf = { refresh: refresh };
})();
