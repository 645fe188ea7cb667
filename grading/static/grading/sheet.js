/* The round tables behave like a spreadsheet.
 *
 * - Pasting several values into a cell (lines and/or tabs, as Excel, LibreOffice and Google
 *   Sheets copy a column, a row or a block; \r\n too) fills the round's cells from there: value
 *   (i, j) of the paste goes to row i below and column j to the right of the cell. The round's
 *   status line says what was filled; a value with no cell to go to, or one that would change a
 *   given cell, is named there, never dropped silently. Filled cells are autosaved as typed ones.
 * - Enter goes to the next cell (down the column, then the next column), Shift+Enter back; the
 *   up and down arrows move within a column, left and right to the next column when the caret
 *   is at the end (or start) of the text.
 * - "Copy round N" puts the round's table on the clipboard as tab-separated text, given values
 *   included, in the table's rows and columns (pasting it back into the first cell fills all).
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

  // Each round's grid: "col:row" -> the input, or the span of a given value.
  var grids = {};
  Array.prototype.forEach.call(form.querySelectorAll("[data-cell], [data-given]"), function (el) {
    var r = el.dataset.round;
    (grids[r] = grids[r] || {})[el.dataset.col + ":" + el.dataset.row] = el;
  });
  function at(round, col, row) { return (grids[round] || {})[col + ":" + row] || null; }
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

  // ------------------------------------------------------------------ paste

  function readNumber(text) {
    // As the server reads a cell: Thai and full-width digits are digits.
    var t = "";
    for (var k = 0; k < text.length; k++) {
      var c = text.charCodeAt(k);
      if (c >= 0x0E50 && c <= 0x0E59) { c = 48 + c - 0x0E50; }
      else if (c >= 0xFF01 && c <= 0xFF5E) { c = c - 0xFF01 + 0x21; }
      else if (c === 0x2212) { c = 45; }
      t += String.fromCharCode(c);
    }
    t = t.trim();
    return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
  }
  window.backpropNumber = readNumber;  // the submit confirmation counts invalid cells with it

  function grid(text) {
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") { lines.pop(); }  // a copied range ends with one
    return lines.map(function (line) { return line.split("\t").map(function (v) { return v.trim(); }); });
  }

  function paste(input, text) {
    var round = input.dataset.round, col0 = Number(input.dataset.col), row0 = Number(input.dataset.row);
    var rows = grid(text), filled = [], extra = [], kept = [];
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
    var round = input.dataset.round, col = Number(input.dataset.col);
    for (var row = Number(input.dataset.row) + step; row >= 0 && row < 1000; row += step) {
      var el = at(round, col, row);
      if (el && el.tagName === "INPUT" && !el.disabled) { return el; }
      if (!el && !hasRow(round, row)) { return null; }
    }
    return null;
  }
  function hasRow(round, row) {
    for (var c = 0; c < 4; c++) { if (at(round, c, row)) { return true; } }
    return false;
  }
  function besideColumn(input, step) {
    // The input of the next column on the same row, or the nearest row that has one.
    var round = input.dataset.round, row = Number(input.dataset.row);
    for (var col = Number(input.dataset.col) + step; col >= 0 && col < 4; col += step) {
      var best = null, distance = Infinity;
      Object.keys(grids[round] || {}).forEach(function (k) {
        var el = grids[round][k];
        if (el.tagName !== "INPUT" || el.disabled || Number(el.dataset.col) !== col) { return; }
        var d = Math.abs(Number(el.dataset.row) - row);
        if (d < distance) { best = el; distance = d; }
      });
      if (best) { return best; }
    }
    return null;
  }

  form.addEventListener("keydown", function (e) {
    var input = e.target;
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

  // ------------------------------------------------------------------ copy a round out

  function roundText(round) {
    var cells = grids[round] || {}, maxRow = -1;
    Object.keys(cells).forEach(function (k) { maxRow = Math.max(maxRow, Number(k.split(":")[1])); });
    var lines = [];
    for (var row = 0; row <= maxRow; row++) {
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
