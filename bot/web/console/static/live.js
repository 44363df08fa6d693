// Optional live refresh: every page works without it. A page whose <main> names a data-live URL
// asks it (session-authenticated JSON) for a fingerprint; when it changes, the page's content is
// fetched again and swapped in, unless the person is typing in a form.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !main.dataset.live || !window.fetch) { return; }
  var url = main.dataset.live;
  var every = parseInt(main.dataset.pollMs || "2000", 10);
  var last = null;

  function busy() {
    var el = document.activeElement;
    if (!el || !main.contains(el)) { return false; }
    return /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && el.type !== "hidden";
  }

  function swap() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Signoff-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        if (fresh) { main.innerHTML = fresh.innerHTML; }
      });
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return null; }
        var changed = last !== null && body.fingerprint !== last;
        if (changed && busy()) { return null; }  // try again next tick
        last = body.fingerprint;
        return changed ? swap() : null;
      })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { window.setTimeout(tick, every); });
  }
  tick();
})();
