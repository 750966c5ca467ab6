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

  // A button or form with data-confirm="…" asks before it acts.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
