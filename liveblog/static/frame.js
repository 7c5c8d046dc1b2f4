/* Inside the iframe embed (/blogs/{slug}/embed): tells the host page its height whenever it
 * changes ({"type": "liveblog:height", "height": N}, which the host's embed-frame.js applies:
 * no inner scrollbar), and takes the host's address from it, so that a post's time links to the
 * host page's permalink (#lb-post-{id}, opened on the whole page) and a permalink the host page
 * was opened with shows its post. Until the host's script answers, it asks again every second. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = -1, host = null;
  function tell(message) { window.parent.postMessage(message, host ? host.origin : "*"); }
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) { last = height; tell({type: "liveblog:height", height: height}); }
  }
  new ResizeObserver(report).observe(document.documentElement);
  report();
  function relink(root) {
    if (!host) return;
    Array.prototype.forEach.call(root.querySelectorAll("a.permalink"), function (a) {
      var id = (a.getAttribute("href") || "").split("#lb-post-")[1];
      if (id) { a.href = host.url + "#lb-post-" + id; a.target = "_top"; }
    });
  }
  new MutationObserver(function () { relink(document); })
    .observe(document.getElementById("posts") || document.body, {childList: true, subtree: true});
  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.source !== window.parent || data.type !== "liveblog:host") return;
    host = {url: String(data.url).split("#")[0], origin: event.origin};
    relink(document);
    var match = /^#lb-post-([\w-]+)$/.exec(String(data.hash || ""));
    if (match) document.dispatchEvent(new CustomEvent("liveblog:show", {detail: match[1]}));
  });
  document.addEventListener("liveblog:shown", function (event) {
    report();  // the host fits the frame to the loaded pages first, then scrolls within it
    tell({type: "liveblog:scroll", top: Math.round(event.detail.getBoundingClientRect().top +
                                                   window.scrollY)});
  });
  // the host's script may load after this one: ask (and say the height) until it answers
  var asked = 0;
  (function ask() {
    if (host || asked++ > 30) return;
    tell({type: "liveblog:ready"});
    last = -1; report();
    setTimeout(ask, 1000);
  })();
})();
