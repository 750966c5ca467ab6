/* Excel uploads: a progress bar while the workbook is sent, then "checking…" while the server reads
   it, then the report page. Without this script the form posts and redirects the same way. */
(function () {
  "use strict";

  function setUp(form) {
    var input = form.querySelector("input[type=file]");
    var box = form.querySelector(".upload-progress");
    var meter = box.querySelector(".progress");
    var bar = meter.querySelector("span");
    var state = box.querySelector(".upload-state");
    var error = form.querySelector(".upload-error");
    var button = form.querySelector("button[type=submit]");
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);

    function fail(message) {
      error.textContent = message;
      error.hidden = false;
      box.hidden = true;
      box.classList.remove("is-checking");
      button.disabled = false;
    }

    function progress(percent) {
      bar.style.width = percent + "%";
      meter.setAttribute("aria-valuenow", String(percent));
    }

    input.addEventListener("change", function () {
      error.hidden = true;
      if (input.files[0] && input.files[0].size > max) {
        fail(form.getAttribute("data-msg-too-large"));
      }
    });

    form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      if (!file || !window.FormData || !window.XMLHttpRequest) {
        return; // the browser's own checks, or a plain form post
      }
      event.preventDefault();
      if (file.size > max) {
        fail(form.getAttribute("data-msg-too-large"));
        return;
      }
      error.hidden = true;
      box.hidden = false;
      button.disabled = true;
      progress(0);
      state.textContent = form.getAttribute("data-msg-uploading");

      var xhr = new XMLHttpRequest();
      xhr.open("POST", window.location.pathname);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          progress(Math.round((e.loaded * 100) / e.total));
        }
      });
      xhr.upload.addEventListener("load", function () {
        progress(100);
        box.classList.add("is-checking");
        state.textContent = form.getAttribute("data-msg-checking");
      });
      xhr.addEventListener("load", function () {
        var location = null;
        try {
          location = JSON.parse(xhr.responseText).location;
        } catch (ignored) {
          location = null;
        }
        if (xhr.status === 200 && location) {
          window.location.assign(location);
        } else {
          fail(form.getAttribute("data-msg-failed"));
        }
      });
      xhr.addEventListener("error", function () {
        fail(form.getAttribute("data-msg-failed"));
      });
      xhr.send(new FormData(form));
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.excel-upload"), setUp);
})();
