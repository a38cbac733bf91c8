// Ends a popup-mode flow: posts the signed result to the window that opened it, then closes.
// The result goes to each of the partner's allowed origins in turn; the browser delivers it only when the
// opener is on that origin, so a page on any other origin never receives it.
(function () {
  "use strict";
  var holder = document.getElementById("popup-result");
  if (!holder) return;
  var result = JSON.parse(holder.getAttribute("data-result") || "{}");
  var origins = JSON.parse(holder.getAttribute("data-origins") || "[]");
  var returnURL = holder.getAttribute("data-return-url");
  var opener = window.opener;
  if (!opener || opener.closed) {
    // No opener: the popup was blocked and the flow ran in this page; go back the redirect way.
    if (returnURL) window.location.replace(returnURL);
    return;
  }
  origins.forEach(function (origin) {
    try { opener.postMessage(result, origin); } catch (ignored) { /* another origin: not ours to reach */ }
  });
  window.setTimeout(function () { window.close(); }, 50);
})();
