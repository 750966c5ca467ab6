/* The exports page: follow the jobs still being written and show their download link when ready.
 * Without JavaScript, reloading the page shows the same. */
(function () {
  "use strict";

  var labelsElement = document.getElementById("export-labels");
  if (!labelsElement) {
    return;
  }
  var labels = JSON.parse(labelsElement.textContent);
  var FINISHED = { done: true, failed: true };
  var INTERVAL = 1500;

  function update(item, job) {
    item.setAttribute("data-state", job.state);
    item.querySelector(".progress > span").style.width = job.progress + "%";
    var state = labels.states[job.state] || job.state;
    item.querySelector(".job-state").textContent = job.state === "running" ? state + " · " + job.progress + "%" : state;
    if (job.state === "done" && job.download_url && !item.querySelector(".job-download")) {
      var link = document.createElement("a");
      link.className = "btn btn-small btn-primary job-download";
      link.href = job.download_url;
      link.textContent = labels.download;
      item.querySelector(".job-status").appendChild(link);
    }
  }

  function follow(item) {
    var url = item.getAttribute("data-job-url");
    function poll() {
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (job) {
          update(item, job);
          if (!FINISHED[job.state]) {
            window.setTimeout(poll, INTERVAL);
          }
        })
        .catch(function () {
          // A network hiccup: try again a little later rather than give up on the job.
          window.setTimeout(poll, INTERVAL * 4);
        });
    }
    window.setTimeout(poll, INTERVAL);
  }

  document.querySelectorAll(".job[data-job-url]").forEach(function (item) {
    if (!FINISHED[item.getAttribute("data-state")]) {
      follow(item);
    }
  });
})();
