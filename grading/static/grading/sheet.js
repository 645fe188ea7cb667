/* The round tables behave like a spreadsheet.
 *
 * - Pasting several values into a cell (lines and/or tabs, as Excel, LibreOffice and Google
 *   Sheets copy a column, a row or a block; \r\n too) fills the round's cells from there: value
 *   (i, j) of the paste goes i cells further down the column, as the page shows it (a hidden
 *   layer's band is a heading, not a row), and j columns to the right. The round's
 *   status line says what was filled; a value with no cell to go to, or one that would change a
 *   given cell, is named there, never dropped silently. Filled cells are autosaved as typed ones.
 * - Enter goes to the next cell (down the column, then the next column), Shift+Enter back; the
 *   up and down arrows move within a column, left and right to the next column when the caret
 *   is at the end (or start) of the text.
 * - "Copy round N" puts the round's table on the clipboard as tab-separated text, given values
 *   included, in the table's rows and columns. Pasted back into any cell of the same round (its
 *   first line starts at a given value, which has no input), it fills the round as it was.
 * - Q1: Enter goes to the next row's field (down the forward column, then the backward one),
 *   Shift+Enter back; it never submits the form.
 * - A focused field is never left under the sticky Submit bar or the round's given values
 *   (WCAG 2.2 SC 2.4.11): the page scrolls it clear.
 * Without JavaScript the inputs are plain text fields. Messages are in the page's language (the
 * JavaScript catalogue's gettext and ngettext, loaded by base.html).
 */
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  if (!form) { return; }
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };

  // A translated message with its %(name)s placeholders filled in.
  function fill(text, values) {
    if (window.interpolate) { return window.interpolate(text, values, true); }
    return text.replace(/%\((\w+)\)s/g, function (m, k) { return String(values[k]); });
  }

  // Each round's columns in the order the page shows them: columns[round][col] is the list of
  // that column's cells (inputs and the spans of given values) top to bottom. A cell's place in
  // the paste grid is (its column, its position in that list): the layer bands of a network with
  // hidden layers are headings, not rows, so a pasted column runs on across them with no gap.
  var columns = {}, place = new Map();
  Array.prototype.forEach.call(form.querySelectorAll("[data-cell], [data-given]"), function (el) {
    var r = el.dataset.round, c = Number(el.dataset.col);
    var list = ((columns[r] = columns[r] || [[], [], [], []])[c] = columns[r][c] || []);
    place.set(el, { round: r, col: c, row: list.length });
    list.push(el);
  });
  function at(round, col, row) {
    var list = (columns[round] || [])[col];
    return (list && row >= 0 && list[row]) || null;
  }
  function height(round) {
    return (columns[round] || []).reduce(function (n, list) { return Math.max(n, list ? list.length : 0); }, 0);
  }
  function inputs() { return Array.prototype.slice.call(form.querySelectorAll("input[data-cell]:not([disabled])")); }
  function nameOf(el) {
    if (el.dataset.given !== undefined) {
      var th = el.closest("tr") && el.closest("tr").querySelector("th");
      return th ? th.textContent.replace(/\s*=\s*$/, "").trim() : "";
    }
    var label = form.querySelector('label[for="' + CSS.escape(el.id) + '"]');
    return label ? label.textContent.trim() : el.name;
  }
  function status(round, text) {
    var out = document.getElementById("round-" + round + "-status");
    if (out) { out.textContent = text; }
  }

  // The cells ask a phone for its decimal keypad (inputmode="decimal"), except on iOS, whose
  // decimal keypad has no minus sign: many gradients are negative, so there the cells keep the
  // full keyboard rather than make a negative number impossible to type.
  var ios = /iP(hone|ad|od)/.test(navigator.userAgent)
    || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);  // iPadOS says "Mac"
  if (ios) { inputs().forEach(function (el) { el.removeAttribute("inputmode"); }); }

  // ------------------------------------------------------------------ paste

  function readNumber(text) {
    // As the server reads a cell (grading/marking/numbers.py): at most 40 characters as typed;
    // Thai and full-width digits are digits, the Unicode minus a minus; an exponent beyond ±99
    // is refused (1e999 is no number, nor is a 590-digit one).
    if (text.length > 40) { return NaN; }
    var t = "";
    for (var k = 0; k < text.length; k++) {
      var c = text.charCodeAt(k);
      if (c >= 0x0E50 && c <= 0x0E59) { c = 48 + c - 0x0E50; }
      else if (c >= 0xFF01 && c <= 0xFF5E) { c = c - 0xFF01 + 0x21; }
      else if (c === 0x2212) { c = 45; }
      else if (c === 0x3000) { c = 32; }
      t += String.fromCharCode(c);
    }
    t = t.trim();
    var m = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?$/.exec(t);
    if (!m || (m[1] && Math.abs(Number(m[1])) > 99)) { return NaN; }
    var value = Number(t);
    return isFinite(value) ? value : NaN;
  }
  window.backpropNumber = readNumber;  // the submit confirmation counts invalid cells with it

  function grid(text) {
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") { lines.pop(); }  // a copied range ends with one
    return lines.map(function (line) { return line.split("\t").map(function (v) { return v.trim(); }); });
  }

  // A paste that is a whole round as "Copy round N" wrote it (as many lines as the round has
  // rows, its given values where the round has them) goes back where it came from, whichever
  // cell it is pasted into: its first line starts at a given value that has no input.
  function copiedRound(round, rows) {
    if (rows.length !== height(round)) { return false; }
    var matched = 0, wrong = 0;
    rows.forEach(function (values, i) {
      values.forEach(function (value, j) {
        var target = at(round, j, i);
        if (value === "" || !target || target.dataset.given === undefined) { return; }
        if (readNumber(value) === Number(target.dataset.given)) { matched += 1; } else { wrong += 1; }
      });
    });
    return matched > 0 && wrong === 0;
  }

  function paste(input, text) {
    var here = place.get(input);
    var round = here.round, col0 = here.col, row0 = here.row;
    var rows = grid(text), filled = [], extra = [], kept = [];
    if ((col0 !== 0 || row0 !== 0) && copiedRound(round, rows)) { col0 = 0; row0 = 0; }
    rows.forEach(function (values, i) {
      values.forEach(function (value, j) {
        var target = at(round, col0 + j, row0 + i);
        if (!target) {
          if (value !== "") { extra.push(value); }
        } else if (target.dataset.given !== undefined) {
          // A given value stays; saying so only when the paste would have changed it.
          if (value !== "" && readNumber(value) !== Number(target.dataset.given)) {
            kept.push(nameOf(target) + " = " + target.dataset.given + " (" + value + ")");
          }
        } else if (!target.disabled) {
          target.value = value;
          filled.push(target);
        }
      });
    });
    filled.forEach(function (el) { el.dispatchEvent(new Event("input", { bubbles: true })); });
    var parts = [];
    if (filled.length === 1) { parts.push(fill(gettext("1 value pasted into %(first)s."), { first: nameOf(filled[0]) })); }
    else if (filled.length > 1) {
      parts.push(fill(gettext("%(count)s values pasted into %(first)s … %(last)s."),
                      { count: filled.length, first: nameOf(filled[0]), last: nameOf(filled[filled.length - 1]) }));
    }
    if (extra.length) {
      parts.push(fill(ngettext("%(count)s value had no cell to go to and was not pasted: %(values)s.",
                               "%(count)s values had no cell to go to and were not pasted: %(values)s.", extra.length),
                      { count: extra.length, values: extra.join(", ") }));
    }
    if (kept.length) {
      parts.push(fill(gettext("Given cells keep their values; not pasted over them: %(values)s."), { values: kept.join("; ") }));
    }
    status(round, parts.join(" "));
  }

  form.addEventListener("paste", function (e) {
    var input = e.target;
    if (!input || !input.hasAttribute || !input.hasAttribute("data-cell") || !e.clipboardData) { return; }
    var text = e.clipboardData.getData("text/plain");
    var body = text.replace(/\r\n?/g, "\n").replace(/\n$/, "");
    if (body.indexOf("\n") < 0 && body.indexOf("\t") < 0) { return; }  // one value: the browser pastes it
    e.preventDefault();
    paste(input, text);
  });

  // ------------------------------------------------------------------ moving like a spreadsheet

  function move(from, to) {
    if (!to) { return false; }
    to.focus();
    to.select();
    return true;
  }
  function inColumn(input, step) {
    var here = place.get(input);
    for (var row = here.row + step; ; row += step) {
      var el = at(here.round, here.col, row);
      if (!el) { return null; }
      if (el.tagName === "INPUT" && !el.disabled) { return el; }
    }
  }
  function besideColumn(input, step) {
    // The input of the next column at the same place down the column, or the nearest one.
    var here = place.get(input);
    for (var col = here.col + step; col >= 0 && col < 4; col += step) {
      var best = null, distance = Infinity;
      ((columns[here.round] || [])[col] || []).forEach(function (el, row) {
        if (el.tagName !== "INPUT" || el.disabled) { return; }
        var d = Math.abs(row - here.row);
        if (d < distance) { best = el; distance = d; }
      });
      if (best) { return best; }
    }
    return null;
  }

  form.addEventListener("keydown", function (e) {
    var input = e.target;
    if (input && input.hasAttribute && input.hasAttribute("data-formula") && e.key === "Enter"
        && !e.altKey && !e.ctrlKey && !e.metaKey) {
      // Q1: on to the next row (Shift: back), never a submit and a reload.
      e.preventDefault();
      var rows = Array.prototype.slice.call(form.querySelectorAll("input[data-formula]:not([disabled])"));
      var next = rows[rows.indexOf(input) + (e.shiftKey ? -1 : 1)];
      if (!next && !e.shiftKey) { next = inputs()[0]; }
      move(input, next || null);
      return;
    }
    if (!input || !input.hasAttribute || !input.hasAttribute("data-cell") || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var caretAtEnd = input.selectionStart === input.value.length && input.selectionEnd === input.value.length;
    var caretAtStart = input.selectionStart === 0 && input.selectionEnd === 0;
    var all = inputs(), k = all.indexOf(input), done = false;
    if (e.key === "Enter") {
      // Never submits the form: the next cell, as in a spreadsheet.
      e.preventDefault();
      move(input, all[k + (e.shiftKey ? -1 : 1)] || null);
      return;
    }
    if (e.shiftKey) { return; }
    if (e.key === "ArrowDown") { done = move(input, inColumn(input, 1)); }
    else if (e.key === "ArrowUp") { done = move(input, inColumn(input, -1)); }
    else if (e.key === "ArrowRight" && caretAtEnd) { done = move(input, besideColumn(input, 1)); }
    else if (e.key === "ArrowLeft" && caretAtStart) { done = move(input, besideColumn(input, -1)); }
    if (done) { e.preventDefault(); }
  });

  // ------------------------------------------------------------------ each round's progress

  // Under each round's heading: how many of its cells are filled, blank and not numbers (as the
  // server reads them, or as the last autosave marked them), redrawn as the student types.
  function progress(round) {
    var out = document.getElementById("round-" + round + "-progress");
    if (!out) {
      var section = document.getElementById("round-" + round);
      var heading = section && section.querySelector("h2");
      if (!heading) { return; }
      out = document.createElement("p");
      out.id = "round-" + round + "-progress";
      out.className = "round-progress small mb-1";
      heading.insertAdjacentElement("afterend", out);
    }
    var filled = 0, blank = 0, invalid = 0;
    (columns[round] || []).forEach(function (list) {
      (list || []).forEach(function (el) {
        if (el.tagName !== "INPUT") { return; }
        if (el.value.trim() === "") { blank += 1; }
        else if (isNaN(readNumber(el.value))) { invalid += 1; }
        else { filled += 1; }
      });
    });
    out.textContent = fill(gettext("Progress: %(filled)s filled, %(blank)s blank, %(invalid)s not numbers."),
                           { filled: filled, blank: blank, invalid: invalid });
    out.classList.toggle("text-danger", invalid > 0);
    out.classList.toggle("text-body-secondary", invalid === 0);
  }
  Object.keys(columns).forEach(progress);
  form.addEventListener("input", function (e) {
    var here = e.target && place.get(e.target);
    if (here) { progress(here.round); }
  });

  // ------------------------------------------------------------------ keep the focused field in view

  // The sticky bar's height, for the CSS scroll margins (it grows when a message wraps).
  var bar = document.getElementById("save-bar");
  function barHeight() {
    if (bar) { document.documentElement.style.setProperty("--save-bar-height", bar.offsetHeight + "px"); }
  }
  barHeight();
  if (bar && window.ResizeObserver) { new ResizeObserver(barHeight).observe(bar); }

  // After the browser's own scrolling: a field still under the bar, or under its round's sticky
  // given values, is scrolled clear with a small gap.
  form.addEventListener("focusin", function (e) {
    var el = e.target;
    if (!el || el.tagName !== "INPUT" || el.type === "hidden") { return; }
    window.requestAnimationFrame(function () {
      if (document.activeElement !== el) { return; }
      var box = el.getBoundingClientRect(), gap = 8, delta = 0;
      var bottom = bar ? bar.getBoundingClientRect().top : window.innerHeight;
      var section = el.closest(".round-section");
      var given = section ? section.querySelector(".round-given") : null;
      var top = given ? given.getBoundingClientRect().bottom : 0;
      if (box.bottom + gap > bottom) { delta = box.bottom + gap - bottom; }
      else if (box.top - gap < top && top < bottom) { delta = box.top - gap - top; }
      if (delta) { window.scrollBy(0, delta); }
    });
  });

  // ------------------------------------------------------------------ copy a round out

  function roundText(round) {
    var lines = [];
    for (var row = 0; row < height(round); row++) {
      var line = [];
      for (var col = 0; col < 4; col++) {
        var el = at(round, col, row);
        line.push(!el ? "" : el.tagName === "INPUT" ? el.value : el.dataset.given);
      }
      while (line.length && line[line.length - 1] === "") { line.pop(); }
      lines.push(line.join("\t"));
    }
    return { text: lines.join("\n") + "\n", rows: lines.length };
  }

  form.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest("[data-copy-round]") : null;
    if (!button) { return; }
    var round = button.dataset.copyRound, out = roundText(round);
    var done = function () {
      status(round, fill(gettext("Round %(round)s copied as tab-separated text (%(rows)s rows)."), { round: round, rows: out.rows }));
    };
    var fallback = function () {
      var area = document.getElementById("copy-out-" + round);
      if (!area) {
        area = document.createElement("textarea");
        area.id = "copy-out-" + round;
        area.className = "form-control copy-out mb-2";
        area.readOnly = true;
        area.rows = Math.min(12, out.rows + 1);
        area.setAttribute("aria-label", button.textContent);
        button.parentNode.appendChild(area);
      }
      area.value = out.text;
      area.focus();
      area.select();
      status(round, gettext("Could not reach the clipboard: the text is selected below; press Ctrl+C (⌘C) to copy it."));
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(out.text).then(done, fallback);
    } else {
      fallback();
    }
  });
})();
