/* Submit with eyes open: pressing Submit opens a dialog that counts the blank cells, the cells
 * that are not numbers and the blank Q1 rows, and says how many attempts are left; only its own
 * Submit button sends the form, so a mis-click spends nothing.
 *
 * The dialog's button sends the form with form.requestSubmit(Submit): the page's other scripts
 * see one ordinary submit (csrf.js refreshes the token and sends it again, autosave.js disables
 * the buttons and carries the action). requestSubmit fires no click, so the dialog does not
 * open twice. Without JavaScript, or without <dialog>, Submit posts at once as before (the
 * page's submit token makes a resent post harmless). The counts are worded in the page's
 * language (the JavaScript catalogue's gettext, loaded by base.html).
 */
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var button = document.getElementById("submit-button");
  var dialog = document.getElementById("submit-dialog");
  if (!form || !button || !dialog || typeof dialog.showModal !== "function") { return; }
  var counts = document.getElementById("submit-dialog-counts");
  var list = document.getElementById("submit-dialog-invalid");
  var gettext = window.gettext || function (text) { return text; };

  // A translated message with its %(name)s placeholders filled in.
  function say(text, values) {
    if (window.interpolate) { return window.interpolate(text, values || {}, true); }
    return text.replace(/%\((\w+)\)s/g, function (m, k) { return String(values[k]); });
  }
  function isNumber(text) {
    return window.backpropNumber ? !isNaN(window.backpropNumber(text)) : text.trim() !== "";
  }
  function nameOf(input) {
    return input.getAttribute("aria-label") || input.name;
  }

  function summarize() {
    var cells = Array.prototype.slice.call(form.querySelectorAll("input[data-cell]"));
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-formula]"));
    var blank = cells.filter(function (i) { return i.value.trim() === ""; });
    var invalid = cells.filter(function (i) {
      return i.value.trim() !== "" && (i.getAttribute("aria-invalid") === "true" || !isNumber(i.value));
    });
    var blankRows = rows.filter(function (i) { return i.value.trim() === ""; });
    if (!blank.length && !invalid.length && !blankRows.length) {
      counts.textContent = gettext("Every cell and Q1 row is filled in and every cell is a number.");
    } else {
      counts.textContent = say(gettext("Blank cells: %(blank)s of %(cells)s. Cells that are not numbers: %(invalid)s. Blank Q1 rows: %(rows)s of %(formulas)s."),
                               { blank: blank.length, cells: cells.length, invalid: invalid.length,
                                 rows: blankRows.length, formulas: rows.length });
    }
    list.textContent = "";
    invalid.slice(0, 12).forEach(function (input) {
      var problem = form.querySelector('[data-problem-for="' + CSS.escape(input.name) + '"]');
      var li = document.createElement("li");
      li.textContent = say(gettext("%(name)s: %(problem)s"),
                           { name: nameOf(input), problem: (problem && problem.textContent) || gettext("not a number") });
      list.appendChild(li);
    });
  }

  button.addEventListener("click", function (e) {
    e.preventDefault();  // only the dialog's own button submits
    summarize();
    dialog.showModal();
  });
  document.getElementById("submit-dialog-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("submit-dialog-confirm").addEventListener("click", function () {
    dialog.close();
    form.requestSubmit(button);
  });
  dialog.addEventListener("close", function () {
    if (document.activeElement === document.body) { button.focus(); }
  });
})();
