/* The survey form: live indicators, number parsing as officials type, cases, attachments, and never
   losing what was typed (a warning before leaving with unsaved changes, and a local backup that can
   be restored after a crash or an expired session). The server computes and validates everything
   again when saving: its values are the truth. */
(function () {
  "use strict";

  var form = document.getElementById("survey-form");
  var configNode = document.getElementById("live-config");
  if (!form || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var msg = config.messages;
  var backupKey = "gigacity-form-" + form.dataset.submission;
  var version = parseInt(form.dataset.version, 10);
  // The page came back from a refused save (errors, a conflict, a closed round): what it shows was
  // typed, not saved, so leaving it warns like any other unsaved change.
  var unsavedOnLoad = form.hasAttribute("data-unsaved");
  var dirty = false;
  // Times are the server's: the browser's clock may be wrong. The offset is measured once, at load.
  var clockOffset = (Date.parse(config.server_now) - Date.now()) || 0;

  function serverNow() { return new Date(Date.now() + clockOffset); }

  // "2026-10-31 14:05" in the server's time zone, as the server writes times on its pages.
  function serverTimeText(date) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: config.time_zone, year: "numeric", month: "2-digit", day: "2-digit",
                                       hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }

  // ---------------------------------------------------------------------------------------------
  // Numbers: "1,234,567", "1 234 567", full-width "１２３，４５６" and "123456.0" are all 123456.
  function parseCount(text) {
    var normalised = String(text || "")
      .replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
      .replace(/[\uFF0C\uFF0E]/g, function (c) { return c === "\uFF0C" ? "," : "."; })
      .replace(/[,\s_'\u2019\u3000]/g, "");
    if (normalised === "") return null;
    if (!/^\d+(\.0+)?$/.test(normalised)) return NaN;
    return parseInt(normalised, 10);
  }

  function field(name) { return form.elements.namedItem(name); }

  function value(name) {
    var el = field(name);
    return el ? parseCount(el.value) : null;
  }

  // Above the largest number the server accepts for the field (config.limits, from the catalogue).
  function tooLarge(name) {
    var number = value(name), limit = config.limits[name];
    return number !== null && !isNaN(number) && limit !== undefined && number > limit;
  }

  // Round half up to `decimals`, as the server does (Decimal ROUND_HALF_UP).
  function roundHalfUp(number, decimals) {
    var factor = Math.pow(10, decimals);
    return Math.round((number + Number.EPSILON) * factor) / factor;
  }

  function format(number, decimals, unit) {
    var text = number.toLocaleString("zh-CN", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    return unit === "%" ? text + "%" : text + " " + unit;
  }

  function compute(spec) {
    var numerator = value(spec.numerator);
    if (numerator === null || isNaN(numerator)) return null;
    if (spec.kind === "count") return numerator;
    var denominator = value(spec.denominator);
    if (!denominator || isNaN(denominator)) return null;
    var scale = spec.kind === "per_10k" ? 10000 : 100;
    return roundHalfUp(numerator * scale / denominator, spec.decimals);
  }

  function above100(code, number) {
    var spec = config.indicators.filter(function (s) { return s.code === code; })[0];
    return Boolean(spec && spec.kind === "share" && !spec.may_exceed_100 && number > 100);
  }

  function show(code, number, decimals, unit, threshold, problem) {
    var text = number === null || problem ? "—" : format(number, decimals, unit);
    document.querySelectorAll('[data-live-value="' + code + '"]').forEach(function (el) { el.textContent = text; });
    document.querySelectorAll('[data-live-threshold="' + code + '"]').forEach(function (el) {
      el.textContent = threshold === null || threshold === undefined ? "" : "≥ " + format(parseFloat(threshold), decimals, unit);
    });
    document.querySelectorAll('[data-live-badge="' + code + '"]').forEach(function (el) {
      if (problem) {
        el.className = "badge badge-warning";
        el.textContent = problem;
      } else if (number === null || threshold === null || threshold === undefined) {
        el.className = "badge";
        el.textContent = "";
      } else if (above100(code, number)) {
        el.className = "badge badge-warning";
        el.textContent = msg.above_100;
      } else if (number >= parseFloat(threshold)) {
        el.className = "badge badge-pass";
        el.textContent = msg.meets;
      } else {
        el.className = "badge badge-miss";
        el.textContent = msg.below;
      }
    });
  }

  function updateKeySites() {
    var total = 0, covered = 0, any = false;
    config.key_sites.forEach(function (pair) {
      var t = value(pair[0]), c = value(pair[1]);
      if (t !== null || c !== null) any = true;
      if (t > 0) total += t;
      if (c > 0) covered += c;
    });
    ["key_sites_total", "key_sites_5g_covered"].forEach(function (name, i) {
      var el = field(name);
      if (!el) return;
      el.readOnly = any;
      if (any) el.value = (i === 0 ? total : covered).toLocaleString("en-US");
    });
  }

  // Fields edited since the page loaded: their server messages are out of date and give way to the live check.
  var edited = {};

  // Adds or removes one id in an attribute that lists ids (aria-describedby).
  function toggleIdref(el, attribute, id, present) {
    var ids = (el.getAttribute(attribute) || "").split(/\s+/).filter(function (x) { return x && x !== id; });
    if (present) ids.push(id);
    if (ids.length) el.setAttribute(attribute, ids.join(" "));
    else el.removeAttribute(attribute);
  }

  function showFieldError(name, text) {
    var list = document.getElementById("err_" + name);
    var el = field(name);
    if (!list || !el) return;
    var wrapper = el.closest(".field");
    if (edited[name]) list.querySelectorAll("li:not([data-live])").forEach(function (li) { li.remove(); });
    var serverErrors = list.querySelectorAll("li:not([data-live])");
    var duplicate = Array.prototype.some.call(serverErrors, function (li) { return li.textContent === text; });
    var wanted = text && !duplicate ? text : "";
    var live = list.querySelector("li[data-live]");
    // The list sits in a live region: it changes only when the message does, so that a message is
    // announced once, not again at every key typed.
    if (live && live.textContent !== wanted) {
      live.remove();
      live = null;
    }
    if (wanted && !live) {
      var li = document.createElement("li");
      li.dataset.live = "1";
      li.textContent = wanted;
      list.appendChild(li);
    }
    var invalid = Boolean(text) || serverErrors.length > 0;
    if (wrapper) wrapper.classList.toggle("has-error", invalid);
    // A field in error says so, and which message is its own.
    if (invalid) el.setAttribute("aria-invalid", "true");
    else el.removeAttribute("aria-invalid");
    toggleIdref(el, "aria-describedby", list.id, invalid);
  }

  function refresh() {
    updateKeySites();
    // Parts above their wholes: said at the part's field and in the live panel, and they bring up
    // the box by which the city confirms it has checked them (the server asks for it too).
    var contradictions = config.part_of_whole.filter(function (pair) {
      var part = value(pair[0]), whole = value(pair[1]);
      return part !== null && whole !== null && !isNaN(part) && !isNaN(whole) && part > whole;
    });
    var fieldMessages = {};
    contradictions.forEach(function (pair) {
      fieldMessages[pair[0]] = msg.part_above_whole.replace("%(whole)s", pair[3]);
    });
    // A number above its limit is refused on saving whatever it is compared with: that is said first.
    form.querySelectorAll("input[data-number]").forEach(function (el) {
      var text = fieldMessages[el.name] || "";
      if (isNaN(parseCount(el.value))) text = msg.not_a_number;
      else if (tooLarge(el.name)) text = msg.too_large.replace("%(limit)s", config.limits[el.name].toLocaleString("en-US"));
      showFieldError(el.name, text);
    });
    var confirmBox = form.querySelector("[data-confirm-inconsistent]");
    if (confirmBox && contradictions.length) confirmBox.hidden = false;
    config.indicators.forEach(function (spec) {
      var problem = [spec.numerator, spec.denominator].some(function (name) { return name && tooLarge(name); });
      show(spec.code, compute(spec), spec.decimals, spec.unit, spec.threshold, problem ? msg.input_too_large : "");
    });
    var warnings = form.ownerDocument.querySelector("[data-live-warnings]");
    if (warnings) {
      warnings.innerHTML = "";
      contradictions.forEach(function (pair) {
        var li = document.createElement("li");
        li.className = "alert alert-warning";
        li.textContent = pair[2] + "：" + msg.part_above_whole.replace("%(whole)s", pair[3]);
        warnings.appendChild(li);
      });
    }
    updateCases();
    updateProgress();
  }

  // The left navigation's count of filled-in fields per section, as the server counts them on load.
  function updateProgress() {
    Object.keys(config.sections).forEach(function (key) {
      var names = config.sections[key];
      var filled = names.filter(function (name) { var el = field(name); return el && el.value.trim(); }).length;
      var counter = document.querySelector('[data-progress="' + key + '"]');
      if (counter) counter.textContent = filled + "/" + names.length;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Cases: add, remove, reorder. Names are renumbered so that the order on screen is the order saved.
  var caseList = form.querySelector("[data-case-list]");
  var template = document.getElementById("case-template");
  var totalInput = form.querySelector("[data-case-total]");

  function renumber() {
    var cards = caseList.querySelectorAll("[data-case]");
    cards.forEach(function (card, index) {
      card.querySelector("[data-case-number]").textContent = index + 1;
      var caseErrors = card.querySelector("[data-case-errors]");
      var oldCaseErrorsId = caseErrors ? caseErrors.id : "";
      if (caseErrors) caseErrors.id = "err_cases-" + index;
      card.querySelectorAll("[data-name]").forEach(function (el) {
        var name = "cases-" + index + "-" + el.dataset.name;
        var oldId = el.id;
        el.name = name;
        if (oldId) {
          el.id = "id_" + name;
          var label = card.querySelector('label[for="' + oldId + '"]');
          if (label) label.htmlFor = el.id;
        }
        // The field's error list (and the case's, for the title) move with the case's number.
        var list = el.closest(".field") && el.closest(".field").querySelector(".errorlist");
        if (list && list.id !== "err_" + name) {
          var described = el.getAttribute("aria-describedby") !== null;
          toggleIdref(el, "aria-describedby", list.id, false);
          list.id = "err_" + name;
          if (described && list.children.length) toggleIdref(el, "aria-describedby", list.id, true);
        }
        if (caseErrors && el.dataset.name === "title") {
          toggleIdref(el, "aria-describedby", oldCaseErrorsId, false);
          toggleIdref(el, "aria-describedby", caseErrors.id, true);
        }
      });
      var file = card.querySelector("[data-attachment-input]");
      if (file) {
        var fileLabel = card.querySelector('label[for="' + file.id + '"]');
        file.id = "file_case_" + index;
        if (fileLabel) fileLabel.htmlFor = file.id;
      }
      card.querySelector("[data-case-up]").disabled = index === 0;
      card.querySelector("[data-case-down]").disabled = index === cards.length - 1;
    });
    totalInput.value = cards.length;
  }

  function updateCases() {
    var filled = 0;
    caseList.querySelectorAll("[data-case]").forEach(function (card) {
      var any = false;
      card.querySelectorAll("[data-name]").forEach(function (el) {
        if (el.dataset.name !== "id" && el.value.trim()) any = true;
      });
      if (any || card.dataset.caseId) filled += 1;
      var title = card.querySelector('[data-name="title"]').value.trim();
      card.querySelector("[data-case-title]").textContent = title || msg.new_case;
    });
    var threshold = config.applications_threshold ? parseInt(config.applications_threshold, 10) : 5;
    show("applications", filled, 0, "", threshold);
    var counter = document.querySelector("[data-case-count]");
    if (counter) counter.textContent = filled + " / " + threshold;
    var progress = document.querySelector('[data-progress="cases"]');
    if (progress) progress.textContent = filled + "/" + threshold;
  }

  function markDirty() {
    dirty = true;
    var state = document.querySelector("[data-save-state]");
    if (state) state.textContent = msg.unsaved;
    scheduleBackup();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var card = button.closest("[data-case]");
    if (button.hasAttribute("data-case-add")) {
      var fragment = template.content.cloneNode(true);
      caseList.appendChild(fragment);
      renumber();
      var cards = caseList.querySelectorAll("[data-case]");
      var newCard = cards[cards.length - 1];
      newCard.querySelector('[data-name="title"]').focus();
      markDirty();
      refresh();
    } else if (card && button.hasAttribute("data-case-remove")) {
      if (window.confirm(msg.confirm_remove)) {
        card.remove();
        renumber();
        markDirty();
        refresh();
      }
    } else if (card && button.hasAttribute("data-case-up") && card.previousElementSibling) {
      caseList.insertBefore(card, card.previousElementSibling);
      renumber();
      button.focus();
      markDirty();
    } else if (card && button.hasAttribute("data-case-down") && card.nextElementSibling) {
      caseList.insertBefore(card.nextElementSibling, card);
      renumber();
      button.focus();
      markDirty();
    } else if (button.hasAttribute("data-attachment-remove")) {
      removeAttachment(button);
    }
  });

  // ---------------------------------------------------------------------------------------------
  // Attachments, through the API (they do not change the form's version, so no conflict arises).
  function apiError(response) {
    return response.json().then(function (body) { return body.detail || response.statusText; },
                                function () { return response.statusText; });
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("[data-attachment-input]") || !input.files.length) return;
    var card = input.closest("[data-case]");
    var hint = card.querySelector("[data-attachment-hint]");
    var body = new FormData();
    body.append("file", input.files[0]);
    body.append("case", card.dataset.caseId);
    hint.textContent = msg.uploading;
    fetch(form.dataset.uploadUrl, { method: "POST", body: body, credentials: "same-origin",
                                    headers: { "X-CSRFToken": form.dataset.csrf, "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) return apiError(response).then(function (detail) { throw new Error(detail); });
        return response.json();
      })
      .then(function (attachment) {
        var li = document.createElement("li");
        li.dataset.attachmentId = attachment.id;
        var link = document.createElement("a");
        link.href = attachment.url;
        link.textContent = attachment.name;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn-link";
        remove.dataset.attachmentRemove = attachment.id;
        remove.textContent = card.querySelector("[data-case-remove]").textContent;
        li.append(link, " ", remove);
        card.querySelector(".attachment-list").appendChild(li);
        hint.textContent = "";
        input.value = "";
      })
      .catch(function (error) {
        hint.textContent = msg.upload_failed + " " + error.message;
        hint.classList.add("error-text");
        input.value = "";
      });
  });

  function removeAttachment(button) {
    var id = button.dataset.attachmentRemove;
    fetch(form.dataset.attachmentUrl + id + "/", { method: "DELETE", credentials: "same-origin",
                                                     headers: { "X-CSRFToken": form.dataset.csrf } })
      .then(function (response) {
        if (!response.ok) return apiError(response).then(function (detail) { window.alert(detail); });
        button.closest("li").remove();
      });
  }

  // ---------------------------------------------------------------------------------------------
  // Never lose what was typed.
  var backupTimer = null;
  var baseline = null;  // the values the page was loaded with: a restore puts back only what differs

  function writeBackup(extra) {
    try {
      var entry = { version: version, at: serverNow().toISOString(), data: snapshot(), base: baseline };
      window.localStorage.setItem(backupKey, JSON.stringify(Object.assign(entry, extra || {})));
    } catch (e) { /* storage full or disabled: the unload warning still protects */ }
  }

  function snapshot() {
    var data = {};
    new FormData(form).forEach(function (v, k) {
      // Not the token, and not the confirmation box: a confirmation is given each time, not restored.
      if (k !== "csrfmiddlewaretoken" && k !== "confirm_inconsistent" && typeof v === "string") data[k] = v;
    });
    return data;
  }

  function scheduleBackup() {
    if (backupTimer) window.clearTimeout(backupTimer);
    backupTimer = window.setTimeout(writeBackup, 800);
  }

  function restore(data, base) {
    var wanted = parseInt(data["cases-TOTAL"] || "0", 10);
    while (caseList.querySelectorAll("[data-case]").length < wanted) {
      caseList.appendChild(template.content.cloneNode(true));
    }
    renumber();
    Object.keys(data).forEach(function (name) {
      var el = field(name);
      // Only what the person typed: fields saved since by somebody else keep their new value.
      var typed = !base || (base[name] || "") !== data[name];
      if (el && typed && el.type !== "file" && el.type !== "hidden") el.value = data[name];
    });
    markDirty();
    refresh();
  }

  function offerRestore() {
    var raw = null;
    try { raw = window.localStorage.getItem(backupKey); } catch (e) { return; }
    if (!raw) return;
    var backup = JSON.parse(raw);
    var current = snapshot();
    var reference = backup.base || current;
    var typed = Object.keys(backup.data).some(function (k) { return (reference[k] || "") !== backup.data[k]; });
    // Nothing new, or this page's own save went through (it was sent, and the form is newer now).
    if (!typed || (backup.sent && backup.version !== version)) {
      window.localStorage.removeItem(backupKey);
      return;
    }
    var names = Object.keys(backup.data).concat(Object.keys(current));
    if (names.every(function (k) { return (backup.data[k] || "") === (current[k] || ""); })) {
      // The page already shows exactly what the backup holds (it came back from a refused save with
      // what was typed): nothing to offer. The backup stays while the page is unsaved, and what was
      // typed is still measured from the values saved before.
      if (unsavedOnLoad) baseline = backup.base || null;
      else window.localStorage.removeItem(backupKey);
      return;
    }
    var bar = document.createElement("div");
    bar.className = "alert alert-warning restore-bar";
    bar.setAttribute("role", "alert");
    bar.dataset.testid = "restore-bar";
    bar.textContent = msg.restore.replace("%(when)s", serverTimeText(new Date(backup.at))) + " ";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "btn btn-small btn-primary";
    yes.textContent = msg.restore_yes;
    yes.dataset.testid = "restore";
    var no = document.createElement("button");
    no.type = "button";
    no.className = "btn btn-small";
    no.textContent = msg.restore_no;
    no.dataset.testid = "restore-discard";
    yes.addEventListener("click", function () { restore(backup.data, backup.base); bar.remove(); });
    no.addEventListener("click", function () { window.localStorage.removeItem(backupKey); bar.remove(); });
    bar.append(yes, " ", no);
    form.parentNode.parentNode.insertBefore(bar, form.parentNode);
  }

  form.addEventListener("input", function (event) {
    if (event.target.matches("[data-attachment-input]")) return;
    if (event.target.name) edited[event.target.name] = true;
    markDirty();
    refresh();
  });
  form.addEventListener("submit", function () {
    dirty = false;
    // Leaving to save: the backup stays, marked as sent, until the saved page is loaded. If the save
    // never arrives (an expired session, a lost connection), the next visit offers it back.
    if (backupTimer) window.clearTimeout(backupTimer);
    writeBackup({ sent: true });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = msg.unsaved;
      return msg.unsaved;
    }
    return undefined;
  });

  renumber();
  refresh();
  baseline = snapshot();
  offerRestore();
  if (unsavedOnLoad) markDirty();
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
