/* For a host page with liveblog iframes: <script src="https://live.example.com/embed-frame.js">.
 * Each iframe of this service tells its height (the iframe is set to it: no inner scrollbar);
 * it is told the host page's address, so posts link to the host's permalinks
 * (#lb-post-{id}), and a permalink the page was opened with scrolls to its post. */
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  function frames() {
    return Array.prototype.filter.call(document.getElementsByTagName("iframe"), function (f) {
      try { return new URL(f.src, location.href).origin === origin; } catch (e) { return false; }
    });
  }
  function frameOf(source) {
    return frames().filter(function (f) { return f.contentWindow === source; })[0];
  }
  window.addEventListener("message", function (event) {
    var frame = event.origin === origin && frameOf(event.source), data = event.data || {};
    if (!frame) return;
    if (data.type === "liveblog:height" && data.height > 0) {
      frame.style.height = data.height + "px";
      frame.setAttribute("scrolling", "no");
    } else if (data.type === "liveblog:ready") {
      frame.contentWindow.postMessage({type: "liveblog:host", url: location.href,
                                       hash: location.hash}, origin);
    } else if (data.type === "liveblog:scroll") {
      window.scrollTo(0, frame.getBoundingClientRect().top + window.scrollY + data.top);
    }
  });
})();
