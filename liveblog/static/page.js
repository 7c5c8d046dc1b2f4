/* The service's own pages (the reader page, the iframe embed): the blog in the document, driven
 * by liveblog.js, embeds.js, verify.js and audience.js, loaded before this. */
/* global liveblogMount, liveblogConsent, liveblogVerify, liveblogAudience */
(function () {
  "use strict";
  var root = document.getElementById("liveblog");
  if (!root) return;
  liveblogConsent(document);
  liveblogVerify(document, "");
  liveblogAudience(document, "");
  liveblogMount(root, document, {
    ready: function () { document.documentElement.dataset.live = "ready"; }  // for the tests
  });
})();
