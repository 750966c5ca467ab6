/* Small behaviours shared by every page. No inline scripts anywhere: the CSP forbids them. */
(function () {
  "use strict";

  // A <select data-autosubmit> submits its form when changed (the language switch, filters).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  // Logging out forgets what forms this browser kept for their author (a shared office computer).
  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("form[data-logout]")) return;
    try {
      Object.keys(window.localStorage).forEach(function (key) {
        if (key.indexOf("gigacity-form-") === 0) window.localStorage.removeItem(key);
      });
    } catch (e) { /* storage disabled */ }
  });

  // Whether any input of the form with data-initial="…" now holds another number than that one.
  function changed(form) {
    return Array.prototype.some.call(form.querySelectorAll("input[data-initial]"), function (input) {
      var before = input.getAttribute("data-initial").trim();
      var now = input.value.trim();
      if (before === now) return false;
      return before === "" || now === "" || isNaN(Number(now)) || Number(now) !== Number(before);
    });
  }

  // A button or form with data-confirm="…" asks before it acts; "%(n)s" in the question is the
  // number of rows selected in a bulk form. A button with data-confirm-if-changed asks only when a
  // value differs from what the page was loaded with (saving nothing new warns of nothing).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (submitter && submitter.hasAttribute("data-confirm-if-changed") && !changed(form)) message = null;
    if (message) message = message.replace("%(n)s", String(selected(form).length));
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Bulk forms (data-bulk): a box that selects every row, the count of selected rows, and buttons
  // (data-needs-selection) that wait until a row is selected. Without script the server says
  // "select at least one city first".
  function selected(form) {
    return Array.prototype.filter.call(form.querySelectorAll('input[name="ids"]'), function (box) {
      return box.checked;
    });
  }
  document.querySelectorAll("form[data-bulk]").forEach(function (form) {
    var all = form.querySelector("[data-select-all]");
    var count = form.querySelector("[data-selected-count]");
    var boxes = form.querySelectorAll('input[name="ids"]');
    function update() {
      var n = selected(form).length;
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      }
      if (count) count.textContent = count.getAttribute("data-template").replace("%(n)s", String(n));
      form.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = n === 0; });
    }
    form.addEventListener("change", function (event) {
      if (all && event.target === all) {
        boxes.forEach(function (box) { box.checked = all.checked; });
      }
      update();
    });
    update();
  });
})();
