// Live dashboard: re-fetch the server-rendered figures every few seconds while the tab is visible.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var busy = false;
  function refresh() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(live.getAttribute("data-src"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (reply) {
        if (reply.redirected || !reply.ok) { throw new Error("status " + reply.status); }
        return reply.text();
      })
      .then(function (html) { live.innerHTML = html; live.classList.remove("stale"); })
      .catch(function () { live.classList.add("stale"); })
      .then(function () { busy = false; });
  }
  window.setInterval(refresh, 5000);
  document.addEventListener("visibilitychange", refresh);
})();
