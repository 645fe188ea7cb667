/* Submit with eyes open: pressing Submit opens a dialog that counts the blank cells, the cells
 * that are not numbers and the blank Q1 rows, and says how many attempts are left; only its own
 * Submit button sends the form, so a mis-click spends nothing.
 *
 * The dialog's button sends the form with form.requestSubmit(Submit): the page's other scripts
 * see one ordinary submit (csrf.js refreshes the token and sends it again, autosave.js disables
 * the buttons and carries the action). requestSubmit fires no click, so the dialog does not
 * open twice. Without JavaScript, or without <dialog>, Submit posts at once as before (the
 * page's submit token makes a resent post harmless).
 */
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var button = document.getElementById("submit-button");
  var dialog = document.getElementById("submit-dialog");
  var messages = document.getElementById("sheet-messages");
  if (!form || !button || !dialog || typeof dialog.showModal !== "function" || !messages) { return; }
  var counts = document.getElementById("submit-dialog-counts");
  var list = document.getElementById("submit-dialog-invalid");

  function say(key, values) {
    var text = messages.dataset[key] || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
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
      counts.textContent = say("allFilled");
    } else {
      counts.textContent = say("counts", { blank: blank.length, cells: cells.length, invalid: invalid.length,
                                          rows: blankRows.length, formulas: rows.length });
    }
    list.textContent = "";
    invalid.slice(0, 12).forEach(function (input) {
      var problem = form.querySelector('[data-problem-for="' + CSS.escape(input.name) + '"]');
      var li = document.createElement("li");
      li.textContent = say("invalidCell", { name: nameOf(input),
                                            problem: (problem && problem.textContent) || say("notANumber") });
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
