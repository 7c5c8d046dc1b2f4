/* The script embed's own part (served as /embed.js, after liveblog.js, embeds.js, verify.js and
 * audience.js, all in one closure: the host page gets no globals). For each <div data-liveblog="<the blog's
 * reader page URL>"> on the host page it shows the blog in a shadow root, with the reader page's
 * markup and styles, driven by the reader page's own script:
 * - a host page that included /fragment (ESI, SSI) already has it there (a declarative shadow
 *   root): it is taken over as it is, not rendered again;
 * - else the fragment is fetched (a public answer, CORS: any origin may read it) and shown once
 *   its styles are loaded, so nothing paints unstyled.
 * Options, as the element's data attributes: data-header="false", data-order="oldest",
 * data-permalink-base (the host page's URL for permalinks; default its canonical URL). */
/* global liveblogMount, liveblogConsent, liveblogVerify, liveblogAudience */
(function () {
  "use strict";

  function canonical() {
    var link = document.querySelector('link[rel="canonical"]');
    return (link && link.href) || location.href.split("#")[0];
  }

  function fragmentUrl(service, order, header) {
    return service.page + "/fragment?order=" + order + (header ? "" : "&header=false");
  }

  // the service's address from the reader page URL: https://live.example.com/blogs/<slug>
  function serviceOf(host) {
    var url = new URL(host.dataset.liveblog, location.href);
    var match = /^(.*)\/blogs\/([^/]+)\/?$/.exec(url.origin + url.pathname);
    return match && {base: match[1], page: match[1] + "/blogs/" + match[2]};
  }

  function styled(shadow) {
    return Promise.all(Array.prototype.map.call(shadow.querySelectorAll('link[rel="stylesheet"]'),
      function (link) {
        return link.sheet ? null : new Promise(function (done) {
          link.addEventListener("load", done); link.addEventListener("error", done);
        });
      }));
  }

  // the fragment's HTML into the host's shadow root: its styles first, then its content
  function render(host, html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var inner = holder.content.querySelector("template");
    var content = inner ? inner.content : holder.content;
    var shadow = host.shadowRoot || host.attachShadow({mode: "open"});
    shadow.replaceChildren.apply(shadow, content.querySelectorAll('link[rel="stylesheet"]'));
    return styled(shadow).then(function () { shadow.append(content); return shadow; });
  }

  function start(host) {
    if (host.dataset.liveblogMounted) return;
    var service = serviceOf(host);
    if (!service) return;
    host.dataset.liveblogMounted = "true";
    var header = host.dataset.header !== "false";
    var base = host.dataset.permalinkBase || canonical();
    var stop = null;
    function mount(shadow) {
      var root = shadow.getElementById("liveblog");
      if (!header) root.querySelector("header.story").hidden = true;
      if (!host.dataset.liveblogConsent) {  // once per shadow root: they listen on it
        host.dataset.liveblogConsent = "true";
        liveblogConsent(shadow);
        liveblogVerify(shadow, service.base);
        liveblogAudience(shadow, service.base);
      }
      stop = liveblogMount(root, shadow, {
        base: service.base,
        permalink: function (id) { return base + "#lb-post-" + id; },
        reorder: function (order) {
          stop();
          fetch(fragmentUrl(service, order, header)).then(function (r) { return r.text(); })
            .then(function (html) { return render(host, html); }).then(mount);
        },
        ready: function () { host.dataset.live = "ready"; }
      });
    }
    var included = host.shadowRoot && host.shadowRoot.getElementById("liveblog");
    if (included) { mount(host.shadowRoot); return; }
    var order = host.dataset.order === "oldest" ? "oldest" : "newest";
    fetch(fragmentUrl(service, order, header)).then(function (r) {
      if (!r.ok) throw new Error("liveblog: " + r.status + " from " + r.url);
      return r.text();
    }).then(function (html) { return render(host, html); }).then(mount).catch(function (error) {
      host.dataset.live = "failed";
      if (window.console) console.info(error.message);  // the host's own content stays
    });
  }

  function startAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-liveblog]"), start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
