/* The authoring page's live preview.
 *
 * - Typing in the form posts it (after a short pause) to the preview endpoint, which answers
 *   with each field's errors and the preview's HTML: the network drawing, why the problem is
 *   refused if it is, and the full key and loss plot of its problem. Errors are put on the
 *   field they are about (class is-invalid, aria-invalid, the message under it).
 * - Changing the network's structure (inputs, layers, units, activations, loss, rounds) asks
 *   the server to lay the grids out again, keeping every cell that still exists.
 * - A reply that arrives after a newer request was sent is dropped. While the form has errors
 *   the last key stays, dimmed.
 * - After a re-login elsewhere the form's CSRF token is stale: on a 403 the current token is
 *   fetched (csrf.js) and the preview asked once more.
 * Without JavaScript, "Update the grids and the preview" posts the page and renders it again.
 * The state line's words come from the JavaScript catalogue (gettext, loaded before this script).
 */
(function () {
  "use strict";
  var form = document.getElementById("authoring-form");
  if (!form || !form.dataset.previewUrl) { return; }
  var url = form.dataset.previewUrl;
  var pane = document.getElementById("preview");
  var stateEl = document.getElementById("preview-state");
  var problemsEl = document.getElementById("form-problems");
  var STRUCTURE = /^(n_inputs|n_layers|units_\d|activation_\d|loss|update_biases|rounds|batch)$/;
  var DEBOUNCE_MS = 350;
  var timer = null, sent = 0, shown = 0, example = 0;

  function setState(text) { if (stateEl) { stateEl.textContent = text; } }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".is-invalid"), function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (el) {
      el.textContent = "";
    });
  }

  function showErrors(errors) {
    Object.keys(errors).forEach(function (name) {
      var input = form.querySelector('[name="' + CSS.escape(name) + '"]');
      var line = form.querySelector('[data-error-for="' + CSS.escape(name) + '"]');
      if (input) {
        input.classList.add("is-invalid");
        input.setAttribute("aria-invalid", "true");
      }
      if (line) { line.textContent = errors[name].join(" "); }
    });
  }

  function showProblems(problems) {
    if (!problemsEl) { return; }
    var list = problemsEl.querySelector("ul");
    list.textContent = "";
    problems.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    problemsEl.classList.toggle("d-none", problems.length === 0);
    var heading = problemsEl.querySelector("p");
    if (heading) { heading.classList.toggle("d-none", true); }
  }

  // The preview's parts come as one piece of HTML from our own template; the key part is kept
  // (dimmed) when the new one has none, so a half-typed number does not blank the page.
  function showPreview(html, hasKey) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    ["preview-drawing", "preview-status"].forEach(function (id) {
      var fresh = holder.querySelector("#" + id), old = document.getElementById(id);
      if (fresh && old) { old.replaceWith(fresh); }
    });
    var oldKey = document.getElementById("preview-key");
    var freshKey = holder.querySelector("#preview-key");
    if (hasKey && freshKey && oldKey) {
      oldKey.replaceWith(freshKey);
    } else if (oldKey) {
      oldKey.classList.add("stale");
    }
  }

  function body(resize) {
    var data = new FormData(form);
    data.delete("action");
    data.set("example", String(example));
    if (resize) { data.set("resize", "1"); }
    return data;
  }

  function send(resize, retried) {
    var number = ++sent;
    setState(gettext("updating…"));
    return fetch(url, {
      method: "POST", body: body(resize), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (resp) {
      if (resp.status === 403 && !retried && window.backpropCsrf) {
        return window.backpropCsrf.refresh(form).then(function (ok) {
          if (ok) { return send(resize, true); }
          setState(gettext("not updated: reload the page"));
          return null;
        });
      }
      if (!resp.ok) {
        setState(interpolate(gettext("not updated (%(status)s)"), {status: resp.status}, true));
        return null;
      }
      return resp.json().then(function (data) {
        if (number < shown) { return; }  // an older answer than the one on the page
        shown = number;
        if (data.grids) {
          var grids = document.getElementById("grids");
          var focused = document.activeElement && document.activeElement.name;
          grids.innerHTML = data.grids;
          if (focused) {
            var again = form.querySelector('[name="' + CSS.escape(focused) + '"]');
            if (again) { again.focus(); }
          }
        }
        clearErrors();
        showErrors(data.errors || {});
        showProblems(data.problems || []);
        showPreview(data.preview || "", data.has_key);
        setState(data.ok ? gettext("up to date") : gettext("see the marked fields"));
      });
    }).catch(function () { setState(gettext("not updated: no connection")); });
  }

  function schedule(resize) {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { send(resize); }, resize ? 0 : DEBOUNCE_MS);
  }

  form.addEventListener("input", function (e) {
    if (e.target && e.target.name && !STRUCTURE.test(e.target.name)) { schedule(false); }
  });
  form.addEventListener("change", function (e) {
    if (e.target && e.target.name && STRUCTURE.test(e.target.name)) { schedule(true); }
  });
  pane.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("#another-example") : null;
    if (!button) { return; }
    example = Number(button.dataset.example || "0");
    send(false);
  });
  // The grids are laid out as the structure changes: the no-script button is not needed.
  var resize = document.getElementById("resize-button");
  if (resize) { resize.classList.add("d-none"); }
})();
