/* The service's own pages (the reader page, the iframe embed): the blog in the document, driven
 * by liveblog.js, embeds.js and verify.js, loaded before this. */
/* global liveblogMount, liveblogConsent, liveblogVerify */
(function () {
  "use strict";
  var root = document.getElementById("liveblog");
  if (!root) return;
  liveblogConsent(document);
  liveblogVerify(document, "");
  liveblogMount(root, document, {
    ready: function () { document.documentElement.dataset.live = "ready"; }  // for the tests
  });
})();
