// Tell the server the visitor's time zone, so session times can also be shown in it.
// Without JavaScript the pages show each session in its own time zone only.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* old browsers: nothing to do */ }
})();
