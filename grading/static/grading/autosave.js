/* Keep a student's answers as they type.
 *
 * - Every change is copied at once to localStorage (so a closed tab or an expired session
 *   loses nothing), then posted to the save-draft endpoint ~1 s after typing stops.
 * - The status line says "Saved 12:01:03" or "Not saved — retrying" (in the page's language:
 *   the JavaScript catalogue's gettext, loaded by base.html); failed saves retry with
 *   a growing delay. After a re-login elsewhere the form's CSRF token is stale: on a 403 the
 *   script fetches the session's current token (csrf.js) and tries once more at once.
 * - A body the server refuses as too large (413) is shown once and not sent again; the next
 *   edit makes a new body, which is tried.
 * - A save sends only the fields changed since the last save (an emptied cell is sent empty,
 *   which clears it) and the draft version it was based on ("base"); the server merges it.
 *   With no draft yet, every filled field is sent (the page may start from the last attempt).
 * - A save from a stale page (another tab or device saved newer values of the same cells) is
 *   refused (409): the message is shown with "Load the newer values" and "Keep mine"; nothing
 *   is saved until the student chooses, and what they typed stays in the inputs meanwhile.
 *   Cells another tab changed that this page did not touch come back with a save and are shown.
 * - On load, a local copy with unsaved changes that is newer than the server's draft is put
 *   back in the form, with a notice, and saved.
 * - A busy server (503, one app server down at a deadline) says when to try again (Retry-After):
 *   the status says the answers are kept here, and nothing is sent before then, typing or not.
 * - After each save, cells the server cannot read as numbers are marked with its message.
 * - Q1 fields get a live MathML preview from the server's own renderer.
 * Without JavaScript the Save and Submit buttons still work as plain form posts.
 */
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  if (!form || !form.dataset.autosaveUrl) { return; }
  var statusEl = document.getElementById("autosave-status");
  var noticeEl = document.getElementById("autosave-notice");
  var storageKey = form.dataset.storageKey;
  var serverVersion = form.dataset.serverVersion || "";
  var draftVersion = form.dataset.draftVersion || "0";  // the draft's save number: a save's base
  var baseInput = form.querySelector('input[name="base"]');
  var conflictEl = document.getElementById("autosave-conflict");
  var conflict = null;        // a refused stale save's answer, until the student chooses
  var DEBOUNCE_MS = 1000;
  var timer = null, inFlight = false, again = false, retryMs = 0, submitting = false;
  var notBefore = 0;          // a busy server's Retry-After: no save before this (Date.now() ms)
  var tokenRetried = false;   // one fresh-token retry per failure, not a loop
  var refusedBody = null;     // the answers the server refused as too large, not sent again
  // The page's language (Django's JavaScript catalogue); English if it did not load.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (m, k) { return String(obj[k]); });
  };
  function saved(ms) { return interpolate(gettext("Saved %(time)s"), { time: clock(ms) }, true); }

  function fields() { return Array.prototype.slice.call(form.querySelectorAll("[data-answer]")); }
  function currentValues() {
    var v = {};
    fields().forEach(function (f) { v[f.name] = f.value; });
    return v;
  }
  // What the server holds, as far as this page knows: a save sends the fields that differ.
  // No draft yet: nothing is held, so every filled field is sent.
  var lastSaved = draftVersion === "0" ? {} : currentValues();
  function changedValues() {
    var v = {};
    fields().forEach(function (f) {
      if (!f.disabled && f.value !== (lastSaved[f.name] || "")) { v[f.name] = f.value; }
    });
    return v;
  }
  function setBase(version) {
    draftVersion = String(version);
    if (baseInput) { baseInput.value = draftVersion; }
  }
  function byName(name) {
    return fields().filter(function (f) { return f.name === name; })[0] || null;
  }
  // Newer values from the server: shown in the inputs this page has not changed since its last save.
  function takeNewer(newer, force) {
    Object.keys(newer || {}).forEach(function (name) {
      var f = byName(name);
      if (!f) { return; }
      if (force || f.value === (lastSaved[name] || "")) { f.value = newer[name]; }
      lastSaved[name] = newer[name];
    });
  }
  function readLocal() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { return null; }
  }
  function writeLocal(copy) {
    try { window.localStorage.setItem(storageKey, JSON.stringify(copy)); } catch (e) { /* private mode, full */ }
  }
  // One clock for the whole page: the course's zone, named ("12:01:03 UTC+07"), as the server
  // writes "received" and the due time; never the device's own zone.
  var zone = form.dataset.timeZone || "", zoneName = form.dataset.zoneName || "";
  var zoneClock = null;
  try {
    if (zone) {
      zoneClock = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit",
                                                    second: "2-digit", hourCycle: "h23" });
    }
  } catch (e) { zoneClock = null; }  // an unknown zone: the device's clock, still named below
  function clock(ms) {
    var d = new Date(Number(ms));
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var text = zoneClock ? zoneClock.format(d)
      : two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
    return zoneClock && zoneName ? text + " " + zoneName : text;
  }
  function setStatus(text, state) { statusEl.textContent = text; statusEl.dataset.state = state; }
  function remember(dirty) {
    writeLocal({ values: currentValues(), t: Date.now(), base: serverVersion, dirty: dirty });
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  function retry(message) {
    retryMs = Math.min(retryMs ? retryMs * 2 : 2000, 60000);
    setStatus(message || gettext("Not saved — retrying"), "error");
    schedule(retryMs);
  }

  function save() {
    if (submitting || conflict) { return; }
    if (inFlight) { again = true; return; }
    if (Date.now() < notBefore) { schedule(notBefore - Date.now()); return; }
    var changed = changedValues();
    var names = Object.keys(changed);
    if (!names.length) {
      remember(false);
      setStatus(serverVersion ? saved(serverVersion) : gettext("Not saved yet"), serverVersion ? "saved" : "idle");
      return;
    }
    var body = new URLSearchParams();
    body.set("csrfmiddlewaretoken", form.querySelector('input[name="csrfmiddlewaretoken"]').value);
    body.set("base", draftVersion);
    names.forEach(function (name) { body.set(name, changed[name]); });
    var answers = answersOf(body);
    if (answers === refusedBody) { return; }  // already refused as too large; its message stays
    inFlight = true;
    var headers = { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" };
    setStatus(gettext("Saving…"), "saving");
    fetch(form.dataset.autosaveUrl, { method: "POST", body: body, headers: headers, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().catch(function () { return null; }).then(function (data) {
          if (resp.ok && data && data.ok) {
            serverVersion = String(data.version);
            names.forEach(function (name) { lastSaved[name] = changed[name]; });
            setBase(data.draft_version);
            takeNewer(data.newer, false);
            retryMs = 0;
            tokenRetried = false;
            remember(false);
            setStatus(saved(data.version), "saved");
            showProblems(data.problems || {});
          } else if (resp.status === 413) {
            // Too large: sending it again would fail the same way, so say it once and stop.
            refusedBody = answers;
            setStatus(data && data.error ? data.error : gettext("Not saved — what you typed is too " +
              "large to save. Shorten the longest answer; it is all still in this browser."), "error");
          } else if (resp.status === 409 && data && data.conflict) {
            // Another tab or device saved newer values of these cells: say so, keep what was
            // typed in the inputs, and save nothing until the student chooses.
            conflict = data;
            document.getElementById("autosave-conflict-message").textContent = data.error;
            conflictEl.classList.remove("d-none");
            setStatus(gettext("Not saved — newer values were saved elsewhere"), "error");
          } else if ((resp.status === 400 || resp.status === 409) && data) {
            // Bad input: retrying would fail the same way; the next keystroke tries again.
            setStatus(interpolate(gettext("Not saved — %(error)s"), { error: data.error }, true), "error");
          } else if (resp.status === 503 && data && data.busy) {
            var wait = Math.min(Math.max(Number(resp.headers.get("Retry-After")) || 5, 1), 60);
            notBefore = Date.now() + wait * 1000;
            setStatus(gettext("Server busy — your answers are kept in this browser; saving again in a few seconds"), "busy");
            schedule(wait * 1000);
          } else if (resp.status === 401) {
            retry(gettext("Not saved — your session has expired. Log in again in another tab; your answers are kept in this browser. Retrying"));
          } else if (resp.status === 403 && !tokenRetried && window.backpropCsrf) {
            // Logged in again in another tab: this page's token is stale. Fetch the current
            // one and try again at once, once; a second 403 falls back to retrying slowly.
            tokenRetried = true;
            again = false;
            return window.backpropCsrf.refresh(form).then(function (fresh) {
              if (fresh) { schedule(0); } else { retry(); }
            });
          } else {
            retry();
          }
        });
      })
      .catch(function () { retry(); })
      .then(function () {
        inFlight = false;
        if (again) { again = false; schedule(DEBOUNCE_MS); }
      });
  }

  // Cells the server could not read as numbers: marked at once, before any attempt is spent.
  function showProblems(problems) {
    fields().forEach(function (f) {
      if (f.hasAttribute("data-formula")) { return; }
      var message = problems[f.name] || "";
      var out = form.querySelector('[data-problem-for="' + CSS.escape(f.name) + '"]');
      f.classList.toggle("is-invalid", message !== "");
      // Tied to the input for a screen reader: invalid, and described by its message.
      if (message) {
        f.setAttribute("aria-invalid", "true");
        if (out && out.id) { f.setAttribute("aria-describedby", out.id); }
      } else {
        f.removeAttribute("aria-invalid");
        f.removeAttribute("aria-describedby");
      }
      if (out) { out.textContent = message; }
    });
  }

  // The answers of a body, without its token: what "the same body" means.
  function answersOf(body) {
    var copy = new URLSearchParams(body);
    copy.delete("csrfmiddlewaretoken");
    return copy.toString();
  }

  function onEdit() {
    remember(true);
    setStatus(gettext("Unsaved changes…"), "saving");
    schedule(DEBOUNCE_MS);
  }

  // The server wrote the save's time; written again here as every later save is.
  if (serverVersion && statusEl.dataset.state === "saved") { setStatus(saved(serverVersion), "saved"); }

  // Put back a newer local copy that the server never received.
  (function restore() {
    var local = readLocal();
    if (!local || !local.dirty || !local.values) { return; }
    var byName = {};
    fields().forEach(function (f) { byName[f.name] = f; });
    var differs = Object.keys(local.values).some(function (k) {
      return byName[k] && !byName[k].disabled && byName[k].value !== local.values[k];
    });
    var newer = local.base === serverVersion || !serverVersion || Number(local.t) > Number(serverVersion);
    if (!differs || !newer) { return; }
    Object.keys(local.values).forEach(function (k) { if (byName[k]) { byName[k].value = local.values[k]; } });
    noticeEl.textContent = interpolate(gettext("Restored what you typed in this browser at %(time)s, " +
      "which had not reached the server. It is being saved now."), { time: clock(local.t) }, true);
    noticeEl.classList.remove("d-none");
    schedule(0);
  })();

  form.addEventListener("input", function (e) {
    if (e.target && e.target.hasAttribute("data-answer")) { onEdit(); }
  });
  // The two ways out of a refused stale save.
  function resolve(loadNewer) {
    if (!conflict) { return; }
    var answer = conflict;
    conflict = null;
    conflictEl.classList.add("d-none");
    if (loadNewer) {
      takeNewer(answer.newer, true);
    } else {
      // Keep mine: the cells are saved over the newer values, based on the version now stored.
      Object.keys(answer.newer || {}).forEach(function (name) { lastSaved[name] = answer.newer[name]; });
    }
    setBase(answer.draft_version);
    remember(true);
    schedule(0);  // whatever else this page changed is saved now
  }
  if (conflictEl) {
    document.getElementById("autosave-load-newer").addEventListener("click", function () { resolve(true); });
    document.getElementById("autosave-keep-mine").addEventListener("click", function () { resolve(false); });
  }
  var buttons = Array.prototype.slice.call(form.querySelectorAll('button[type="submit"]'));
  form.addEventListener("submit", function (e) {
    // The post carries every value; a late autosave must not start a new draft after it.
    submitting = true;
    window.clearTimeout(timer);
    // No second click while this one is on its way (the page's submit token makes a resent
    // post harmless anyway). A disabled button is not sent, so its action travels in a field.
    var clicked = e.submitter;
    if (clicked && clicked.name) {
      var carry = form.querySelector('input[type="hidden"][data-carried]') || document.createElement("input");
      carry.type = "hidden"; carry.name = clicked.name; carry.value = clicked.value;
      carry.setAttribute("data-carried", "");
      form.appendChild(carry);
      clicked.dataset.label = clicked.textContent;
      clicked.textContent = clicked.value === "submit" ? gettext("Submitting…") : gettext("Saving…");
    }
    buttons.forEach(function (b) { b.disabled = true; });
  });
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) { return; }  // back from the next page: the buttons work again
    submitting = false;
    buttons.forEach(function (b) {
      b.disabled = b.hasAttribute("aria-disabled");
      if (b.dataset.label) { b.textContent = b.dataset.label; }
    });
  });

  // Live preview of Q1 formulas, rendered by the server's own MathML renderer.
  var previewUrl = form.dataset.previewUrl;
  var previewTimers = {};
  function preview(input) {
    var out = form.querySelector('[data-preview-for="' + CSS.escape(input.name) + '"]');
    if (!out || !previewUrl) { return; }
    if (!input.value.trim()) { out.textContent = ""; out.classList.remove("error"); return; }
    var row = input.name.replace(/^formulas\./, "");  // the row it answers: "s1 = ..." is fine for s1
    fetch(previewUrl + "&row=" + encodeURIComponent(row) + "&text=" + encodeURIComponent(input.value), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.mathml) { out.innerHTML = data.mathml; out.classList.remove("error"); }  // our renderer's MathML
        else { out.textContent = data.error || ""; out.classList.add("error"); }
      })
      .catch(function () { /* the preview is a convenience only */ });
  }
  form.addEventListener("input", function (e) {
    var input = e.target;
    if (!input || !input.hasAttribute("data-formula")) { return; }
    window.clearTimeout(previewTimers[input.name]);
    previewTimers[input.name] = window.setTimeout(function () { preview(input); }, 400);
  });
})();
