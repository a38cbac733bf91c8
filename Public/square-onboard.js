// square-onboard popup helper for partner pages.
//
//   <script src="https://onboard.example.com/assets/square-onboard.js"></script>
//   SquareOnboard.open(linkURL, function (result) { /* send result to your backend and verify its signature */ });
//
// Opens the onboarding link in a popup and calls back with the signed result ({status, result, merchant_id,
// reference, link_id, timestamp, signature, ...}) once the merchant is done. When the browser blocks the popup,
// the current page goes to the link instead, and the merchant comes back on the link's return URL (redirect flow).
(function (global) {
  "use strict";
  function open(linkURL, onResult) {
    var origin = new URL(linkURL, global.location.href).origin;
    var popup = global.open(linkURL, "square-onboard", "popup,width=520,height=720");
    if (!popup) {
      global.location.assign(linkURL);
      return null;
    }
    function listen(event) {
      if (event.origin !== origin || event.source !== popup) return;
      if (!event.data || event.data.type !== "square-onboard.result") return;
      global.removeEventListener("message", listen);
      if (typeof onResult === "function") onResult(event.data);
    }
    global.addEventListener("message", listen);
    return popup;
  }
  global.SquareOnboard = { open: open };
})(window);
