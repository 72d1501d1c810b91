/* Customer pages: remember the browser's time zone, and let Enter choose in the zone picker.
   Everything here is an enhancement: without it the pages show the provider's zone and the
   picker has its own button. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function hasZoneCookie() {
    return /(?:^|;\s*)tz=[^;]+/.test(document.cookie);
  }

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  if (!hasZoneCookie()) {
    var zone = browserZone();
    if (zone) {
      var secure = location.protocol === "https:" ? "; secure" : "";
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax" + secure;
      // The server showed a fallback zone; show this page again in the visitor's own zone.
      if (root.hasAttribute("data-tz-fallback") && root.getAttribute("data-tz") !== zone && hasZoneCookie()) {
        location.reload();
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A select has no implicit submission; Enter on the zone picker chooses, like its button.
    // Never on "change": arrow keys change the value while the visitor is still looking.
    var selects = document.querySelectorAll("select[data-submit-on-enter]");
    for (var i = 0; i < selects.length; i++) {
      selects[i].addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          event.target.form.requestSubmit ? event.target.form.requestSubmit() : event.target.form.submit();
        }
      });
    }
    var alert = document.querySelector("[data-focus-on-load]");
    if (alert) {
      alert.focus();
    }
  });
})();
