// Live task states for the run and task pages: polls the run's state JSON and recolours what
// changed. The pages work without this script; it only saves reloading.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var POLL_MS = 2000;
  var ENDED = { merged: true, cancelled: true };

  function setState(el, state) {
    if (el.textContent === state) return;
    el.textContent = state;
    el.className = el.className.replace(/\bstate-\S+/g, "").trim() + " state-" + state;
  }

  function apply(data, head) {
    document.querySelectorAll("[data-task-state]").forEach(function (el) {
      var s = data.tasks[el.getAttribute("data-task-state")];
      if (s) setState(el, s);
    });
    document.querySelectorAll("[data-task-node]").forEach(function (g) {
      var s = data.tasks[g.getAttribute("data-task-node")];
      if (!s) return;
      g.setAttribute("class", "node state-" + s);
      var sub = g.querySelector("text.sub");
      if (sub) sub.textContent = s;
    });
    document.querySelectorAll("[data-run-state]").forEach(function (el) { setState(el, data.state); });
    if (String(data.seq) !== head.getAttribute("data-seq")) {
      var note = document.getElementById("live-note");
      if (note) note.hidden = false;
    }
  }

  function start(head) {
    var url = head.getAttribute("data-live-url");
    var timer = null;
    function tick() {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          apply(data, head);
          if (ENDED[data.state] && timer) { clearInterval(timer); timer = null; }
        })
        .catch(function () { /* the server may be restarting: try again next tick */ });
    }
    timer = setInterval(tick, POLL_MS);
  }

  function diffButtons() {
    document.querySelectorAll("[data-expand-all], [data-collapse-all]").forEach(function (b) {
      var open = b.hasAttribute("data-expand-all");
      b.addEventListener("click", function () {
        document.querySelectorAll(".diff details.file").forEach(function (d) { d.open = open; });
      });
    });
  }

  function forgetToken() {
    // The access token came in the address once; the server keeps it in a cookie now, so it
    // need not stay in the address bar or the history.
    var url = new URL(window.location.href);
    if (!url.searchParams.has("token")) return;
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  document.addEventListener("DOMContentLoaded", function () {
    forgetToken();
    var head = document.querySelector("[data-live-url]");
    if (head) start(head);
    diffButtons();
  });
})();
