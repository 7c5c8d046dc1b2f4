/* The newsroom console: editors publish from a browser through the same API as curl.
 *
 * The editor token lives in sessionStorage (this tab only); signing out forgets it. Every view
 * is fetched from the API when it is shown (the blog's post table then follows the log every
 * 5 s), so a reload shows what the API says; the one thing kept in the browser is work not yet
 * taken by the server (localStorage, until a save succeeds). Every POST carries an
 * Idempotency-Key kept until it is answered, and controls are disabled while saving, so nothing
 * is recorded twice. Text from the API is put in the page as text, never as HTML. */
(function () {
  "use strict";
  var KEY = "liveblog.token";
  var view = document.getElementById("view");
  var flash = "";
  var me = null;
  var PRESENCE_EVERY = 5000, REFRESH_EVERY = 5000;
  var BLOCK_FIELDS = {
    paragraph: [["text", "Text", "rich"]],
    heading: [["text", "Text", "input"]],
    quote: [["text", "Quote", "rich"], ["attribution", "Attribution", "input"]],
    image: [["url", "Image URL", "input"], ["caption", "Caption", "input"],
            ["credit", "Credit", "input"], ["alt", "Alt text", "input"]],
    embed: [["url", "URL", "input"], ["provider", "Provider", "input"]]
  };

  function token() { return sessionStorage.getItem(KEY); }

  // Every POST carries an Idempotency-Key, the same one for the same request until the server
  // has answered it: a retry after a lost answer, or a second click, records nothing twice.
  var idempotencyKeys = {};
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  var REFUSED = "Your token was refused: sign in again. Unsaved work is kept.";
  var OFFLINE = "Could not reach the server: nothing was sent, or its answer was lost. " +
                "Your work is kept in this browser; retry when you are back online.";

  function api(method, path, body, headers) {
    var all = {"Accept": "application/json", "Authorization": "Bearer " + token()};
    Object.keys(headers || {}).forEach(function (k) { all[k] = headers[k]; });
    var init = {method: method, headers: all, cache: "no-store"};
    if (body !== undefined) { all["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    var request = method + " " + path + "\n" + (init.body || "");
    if (method === "POST") {
      idempotencyKeys[request] = idempotencyKeys[request] || newKey();
      all["Idempotency-Key"] = idempotencyKeys[request];
    }
    return fetch(path, init).then(function (r) {
      delete idempotencyKeys[request];  // answered: a new attempt is a new request
      var etag = r.headers.get("ETag");
      if (r.status === 204) return {status: 204, data: null, etag: etag};
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) signOut(REFUSED);
        return {status: r.status, data: data, etag: etag};
      });
    }, function () {
      return {status: 0, data: {detail: OFFLINE}, etag: null};  // the key is kept for the retry
    });
  }

  // h("tag", {attr: value, onclick: fn, text: "..."}, [children]) -> element
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") el.textContent = value;
      else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
      else if (key === "value") el.value = value;
      else if (key === "checked") el.checked = !!value;
      else el.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }

  // The text of a sanitised HTML fragment (DOMParser documents run no script, load nothing).
  function text(fragment) {
    var doc = new DOMParser().parseFromString("<body>" + (fragment || "") + "</body>", "text/html");
    return doc.body.textContent;
  }

  function errorSlot(path) { return h("p", {"class": "error", "data-error-for": path, role: "alert"}); }

  // A block as the API takes it: its fields, and for an uploaded image its media_id (the
  // server fills in where it is served and its size).
  function blockOut(b) {
    var out = {type: b.type};
    (BLOCK_FIELDS[b.type] || []).forEach(function (f) { if (b[f[0]]) out[f[0]] = b[f[0]]; });
    if (b.type === "image" && b.media_id) out.media_id = b.media_id;
    return out;
  }

  // -- rich text ---------------------------------------------------------------------------------

  // A text field of a body block as a rich-text editor (Quill, vendored, served by the app):
  // bold, italic and links, no raw HTML in sight. The API keeps inline HTML, one line break
  // (<br>) between lines; the server sanitises it again.
  function richText(id, label, html, onchange) {
    var holder = h("div", {"class": "rich-text"});
    holder.innerHTML = html ? "<p>" + html.split(/<br\s*\/?>/i).join("</p><p>") + "</p>" : "";
    var labelEl = h("span", {"class": "label", id: id + "-label", text: label});
    var box = h("div", {"class": "rich-field"}, [labelEl, holder]);
    var quill = new window.Quill(holder, {
      theme: "snow", formats: ["bold", "italic", "link"], placeholder: label + "…",
      modules: {toolbar: [["bold", "italic", "link"]]}
    });
    var root = quill.root;
    root.id = id;
    root.setAttribute("role", "textbox");
    root.setAttribute("aria-multiline", "true");
    root.setAttribute("aria-labelledby", id + "-label");
    box.querySelectorAll(".ql-toolbar button").forEach(function (b) {
      b.setAttribute("aria-label", ({"ql-bold": "Bold", "ql-italic": "Italic", "ql-link": "Link"})[b.className] || b.className);
      b.setAttribute("tabindex", "-1");  // the editor's own shortcuts: Ctrl+B, Ctrl+I, Ctrl+K
    });
    box.querySelectorAll(".ql-tooltip input").forEach(function (input) {
      input.setAttribute("aria-label", "Link address");
    });
    quill.on("text-change", function (delta, old, source) {
      if (source === "user") onchange(inlineHtml(root));
    });
    return box;
  }

  function inlineHtml(root) {
    var lines = Array.prototype.map.call(root.children, function (line) {
      var html = line.innerHTML;
      return html === "<br>" ? "" : html;
    });
    while (lines.length && !lines[lines.length - 1]) lines.pop();
    return lines.join("<br>");
  }

  function showErrors(root, response, fallback) {
    root.querySelectorAll(".error").forEach(function (el) { el.textContent = ""; });
    var data = response.data || {};
    var general = root.querySelector("[data-error-for=_action]") || fallback;
    var unplaced = [];
    Object.keys(data.errors || {}).forEach(function (path) {
      var slot = root.querySelector('[data-error-for="' + path + '"]');
      var message = data.errors[path].join(" ");
      if (slot) slot.textContent = message; else unplaced.push(path + ": " + message);
    });
    var detail = data.detail || ("The request failed (" + response.status + ").");
    if (general) general.textContent = unplaced.length ? detail + " " + unplaced.join("; ") :
      (data.errors ? "Please correct the fields marked above." : detail);
  }

  // -- times in the blog's zone ------------------------------------------------------------------
  // Editors enter and read times on the blog's clock (a London editor on a New York blog types
  // New York time), never the browser's. A wall time the zone skips (clocks jump forward) is
  // refused; one it shows twice (clocks go back) is asked about; an unchanged field keeps the
  // exact instant it showed.

  function wallParts(t, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {timeZone: zone, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"})
      .formatToParts(new Date(t)).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  function wallOf(iso, zone) {  // "YYYY-MM-DDTHH:MM" on the zone's clock
    if (!iso) return "";
    var p = wallParts(Date.parse(iso), zone);
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }

  function offsetAt(t, zone) {
    var p = wallParts(t, zone);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
  }

  // every instant the zone's clock shows as ``wall``: none (skipped), one, or two (repeated)
  function instantsOf(wall, zone) {
    var asUtc = Date.parse(wall + ":00Z"), found = [];
    if (isNaN(asUtc)) return found;
    [-86400000, 0, 86400000].forEach(function (shift) {
      var t = asUtc - offsetAt(asUtc + shift, zone);
      if (wallOf(new Date(t).toISOString(), zone) === wall && found.indexOf(t) < 0) found.push(t);
    });
    return found.sort().map(function (t) { return new Date(t).toISOString(); });
  }

  // How the blog's pages name its zone at each moment ("CET", "ET"), fetched once per zone
  // from the server, so the console and the reader page never name one time differently.
  var zoneLabels = {};
  function loadZone(zone) {
    if (!zone || zoneLabels[zone]) return Promise.resolve();
    return fetch("/console/zones/" + zone).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) zoneLabels[zone] = data.labels; })
      .catch(function () { /* Intl's own name then */ });
  }
  function labelAt(zone, iso) {
    var steps = zoneLabels[zone], t = Date.parse(iso), found = null;
    if (!steps) return null;
    for (var lo = 0, hi = steps.length - 1; lo <= hi;) {
      var mid = (lo + hi) >> 1;
      if (steps[mid][0] <= t) { found = steps[mid][1]; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  function zoneAbbreviation(iso, zone) {
    var label = labelAt(zone, iso);
    if (label) return label;
    var name = "";
    new Intl.DateTimeFormat("en-US", {timeZone: zone, timeZoneName: "short"})
      .formatToParts(new Date(iso)).forEach(function (p) { if (p.type === "timeZoneName") name = p.value; });
    return name;
  }

  // A datetime-local input on the blog's clock. resolve() gives {iso} or {error}; a repeated
  // hour shows two choices beside the field and needs one picked.
  function zonedTime(input, zone, original, choices) {
    var originalWall = original ? wallOf(original, zone) : "";
    input.value = originalWall;
    var picked = null;
    function offer() {
      choices.textContent = "";
      picked = null;
      var wall = input.value;
      var found = wall && wall !== originalWall ? instantsOf(wall, zone) : [];
      if (found.length !== 2) return;
      choices.append(h("p", {"class": "hint", text: "That time happens twice in " + zone +
        " (the clocks go back): which one?"}));
      found.forEach(function (iso, i) {
        var id = input.id + "-choice-" + i;
        var radio = h("input", {type: "radio", name: input.id + "-choice", id: id, value: iso,
          onchange: function () { picked = iso; }});
        choices.append(h("div", {"class": "inline"}, [radio, h("label", {"for": id,
          text: wall.slice(11) + " " + zoneAbbreviation(iso, zone) + (i ? " (the second time)" : " (the first time)")})]));
      });
    }
    input.addEventListener("change", offer);
    input.addEventListener("input", offer);
    return {
      resolve: function () {
        var wall = input.value;
        if (!wall) return {iso: null};
        if (wall === originalWall) return {iso: original};  // unchanged: the very same instant
        var found = instantsOf(wall, zone);
        if (!found.length) return {error: wall.replace("T", " ") + " does not exist in " + zone +
          " (the clocks jump forward then): choose another time."};
        if (found.length === 1) return {iso: found[0]};
        return picked ? {iso: picked} : {error: "That time happens twice in " + zone +
          ": choose which one below."};
      }
    };
  }

  // a time on the blog's clock (else this browser's), the zone named
  function when(iso, zone) {
    if (!iso) return "";
    var label = zone ? labelAt(zone, iso) : null;
    var shown = new Date(iso).toLocaleString(undefined, {year: "numeric", month: "short",
      day: "numeric", hour: "numeric", minute: "2-digit", timeZone: zone || undefined,
      timeZoneName: label ? undefined : "short"});
    return label ? shown + " " + label : shown;
  }

  // -- sign in / out ---------------------------------------------------------------------------

  var CONSOLE_ROLES = ["editor", "legal"];
  function withArticle(word) { return (/^[aeiou]/i.test(word) ? "an " : "a ") + word; }
  function isLegal() { return me && me.role === "legal"; }

  function signOut(message) {
    leaving.splice(0).forEach(function (fn) { fn(); });
    sessionStorage.removeItem(KEY);
    document.getElementById("app").hidden = true;
    document.getElementById("signin").hidden = false;
    document.getElementById("signin-error").textContent = message || "";
    view.textContent = "";
  }

  function start() {
    if (!token()) { signOut(); return; }
    api("GET", "/api/me").then(function (r) {
      if (r.status !== 200) { signOut("That token is unknown or revoked."); return; }
      if (CONSOLE_ROLES.indexOf(r.data.role) < 0) {
        signOut("The console needs an editor token (or the legal desk's): " +
                withArticle(r.data.role) + " token cannot sign in here.");
        return;
      }
      me = r.data;
      document.getElementById("who").textContent = "Signed in as " + r.data.name;
      document.getElementById("signin").hidden = true;
      document.getElementById("app").hidden = false;
      route();
    });
  }

  document.getElementById("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("token").value.trim());
    document.getElementById("token").value = "";
    start();
  });
  document.getElementById("signout").addEventListener("click", function () { signOut(); });

  // -- routes ----------------------------------------------------------------------------------

  var leaving = [];   // what the shown view does when another replaces it
  function route() {
    leaving.splice(0).forEach(function (fn) { fn(); });
    if (!token()) return;
    var parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    view.textContent = "";
    if (parts[0] === "blogs" && parts[2] === "new") return editor(parts[1], null);
    if (parts[0] === "blogs" && parts[2] === "posts" && parts[3]) {
      return isLegal() ? review(parts[1], parts[3]) : editor(parts[1], parts[3]);
    }
    if (parts[0] === "blogs" && parts[1]) return blogView(parts[1]);
    return blogsView();
  }
  window.addEventListener("hashchange", route);

  function takeFlash() {
    var message = flash; flash = "";
    return message ? h("p", {"class": "hint", role: "status", id: "flash", text: message}) : null;
  }

  // -- blogs -----------------------------------------------------------------------------------

  function blogsView() {
    api("GET", "/api/blogs").then(function (r) {
      var list = h("ul", {"class": "blogs", id: "blog-list"}, r.data.blogs.map(function (b) {
        return h("li", {}, [h("a", {href: "#/blogs/" + b.id, text: text(b.title)}), " ",
          h("span", {"class": "status " + b.status, text: b.status}), " ",
          h("span", {"class": "hint", text: b.post_count + " published"})]);
      }));
      var form = h("form", {id: "new-blog"}, [
        h("h2", {text: "New blog"}),
        h("label", {"for": "blog-title", text: "Title"}), h("input", {id: "blog-title", type: "text", required: true}), errorSlot("title"),
        h("label", {"for": "blog-slug", text: "Slug (optional)"}), h("input", {id: "blog-slug", type: "text"}), errorSlot("slug"),
        h("label", {"for": "blog-authors", text: "Authors (comma-separated)"}), h("input", {id: "blog-authors", type: "text"}), errorSlot("authors"),
        h("label", {"for": "blog-timezone", text: "Time zone"}), zoneSelect(), errorSlot("timezone"),
        h("div", {"class": "actions"}, [h("button", {type: "submit", "class": "button primary", text: "Create blog"})]),
        errorSlot("_action")
      ]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = {title: form.querySelector("#blog-title").value,
                    timezone: form.querySelector("#blog-timezone").value || "UTC"};
        var slug = form.querySelector("#blog-slug").value.trim();
        if (slug) body.slug = slug;
        var authors = form.querySelector("#blog-authors").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        if (authors.length) body.authors = authors;
        api("POST", "/api/blogs", body).then(function (res) {
          if (res.status === 201) { flash = "Blog created."; location.hash = "#/blogs/" + res.data.id; }
          else showErrors(form, res);
        });
      });
      view.append(h("h1", {text: "Blogs"}), takeFlash() || "", list, form);
    });
  }

  // The blog's time zone from the IANA list (the browser's own first), never free text.
  function zoneSelect() {
    var zones = (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).slice();
    if (zones.indexOf("UTC") < 0) zones.unshift("UTC");
    var mine = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    return h("select", {id: "blog-timezone"}, zones.map(function (zone) {
      var option = h("option", {value: zone, text: zone.replace(/_/g, " ")});
      option.selected = zone === mine;
      return option;
    }));
  }

  // -- one blog --------------------------------------------------------------------------------

  function withZone(rs) {
    var blog = rs[0] && rs[0].status === 200 ? rs[0].data : null;
    return loadZone(blog && blog.timezone).then(function () { return rs; });
  }

  function blogView(blogId) {
    Promise.all([api("GET", "/api/blogs/" + blogId),
                 api("GET", "/api/blogs/" + blogId + "/posts?status=draft,scheduled,published,deleted")])
    .then(withZone).then(function (rs) {
      var blog = rs[0].data, posts = rs[1].data.posts;
      if (rs[0].status !== 200) { view.append(h("p", {"class": "error", text: blog.detail})); return; }
      var actionError = errorSlot("_action");
      var toggle = h("button", {type: "button", "class": "button", id: "blog-status",
        text: blog.status === "live" ? "Close blog" : "Reopen blog",
        onclick: function () {
          api("POST", "/api/blogs/" + blogId + (blog.status === "live" ? "/close" : "/reopen"))
            .then(function (res) { if (res.status === 200) route(); else showErrors(view, res, actionError); });
        }});
      var tbody = h("tbody", {}, posts.map(function (p) { return postRow(blogId, p, actionError, [], blog.timezone); }));
      view.append(
        h("h1", {text: text(blog.title)}),
        h("p", {}, [h("span", {"class": "status " + blog.status, text: blog.status}), " ",
          h("a", {href: "/blogs/" + blog.slug, text: "Reader page"})].concat(isLegal() ? [] : [" · ",
          h("a", {href: "#/blogs/" + blogId + "/new", id: "write", "class": "button primary", text: "Write a post"}), " ", toggle])),
        takeFlash() || "", actionError,
        h("table", {id: "posts-table"}, [
          h("thead", {}, [h("tr", {}, ["Headline", "Status", "Version", "Time", "Actions"].map(function (t) { return h("th", {text: t}); }))]),
          tbody]));
      if (!posts.length) view.append(h("p", {"class": "hint", id: "no-posts", text: "No posts yet."}));
      // Live: the table follows the log (a scheduled post going live, others' edits) and shows
      // who is editing what; a row whose delete is being confirmed is left alone meanwhile.
      var shown = JSON.stringify(posts), shownEditing = "[]";
      function refresh() {
        Promise.all([api("GET", "/api/blogs/" + blogId + "/posts?status=draft,scheduled,published,deleted"),
                     api("GET", "/api/blogs/" + blogId + "/presence")]).then(function (rs) {
          if (!document.body.contains(tbody) || rs[0].status !== 200 || rs[1].status !== 200) return;
          if (tbody.querySelector("input:not([hidden])")) return;
          var fresh = rs[0].data.posts, editing = rs[1].data.editors.filter(function (e) {
            return !me || e.name !== me.name; });
          if (JSON.stringify(fresh) === shown && JSON.stringify(editing) === shownEditing) return;
          shown = JSON.stringify(fresh); shownEditing = JSON.stringify(editing);
          tbody.textContent = "";
          fresh.forEach(function (p) {
            tbody.append(postRow(blogId, p, actionError, editing.filter(function (e) {
              return e.post === p.id; }).map(function (e) { return e.name; }), blog.timezone));
          });
          var empty = byId("no-posts"); if (empty && fresh.length) empty.remove();
        });
      }
      refresh();
      var timer = setInterval(refresh, REFRESH_EVERY);
      leaving.push(function () { clearInterval(timer); });
    });
  }

  function byId(id) { return document.getElementById(id); }

  function postRow(blogId, p, actionError, editing, zone) {
    var url = "/api/blogs/" + blogId + "/posts/" + p.id;
    var reason = h("input", {type: "text", "aria-label": "Reason for deleting", placeholder: "Reason", hidden: true});
    var confirm = h("button", {type: "button", "class": "button danger", hidden: true, text: "Confirm delete",
      onclick: function () {
        api("DELETE", url + "?reason=" + encodeURIComponent(reason.value), undefined, {"If-Match": '"' + p.version + '"'})
          .then(function (res) { if (res.status === 204) { flash = "Post deleted."; route(); } else showErrors(view, res, actionError); });
      }});
    var live = p.status !== "deleted";
    return h("tr", {"data-post-id": p.id}, [
      h("td", {}, [live || isLegal() ? h("a", {href: "#/blogs/" + blogId + "/posts/" + p.id, text: text(p.headline) || "(redacted)"}) : h("span", {text: text(p.headline)}),
        editing.length ? h("span", {"class": "presence", text: " · " + editing.join(", ") + (editing.length === 1 ? " is" : " are") + " editing"}) : null]),
      h("td", {}, [h("span", {"class": "status " + p.status, text: p.status})]),
      h("td", {"data-label": "Version", text: String(p.version)}),
      h("td", {text: p.status === "scheduled" ? "goes live " + when(p.publish_at, zone) : when(p.display_time || p.updated_at, zone)}),
      h("td", {}, live && !isLegal() ? [
        h("button", {type: "button", "class": "button", text: p.pinned ? "Unpin" : "Pin",
          "aria-label": (p.pinned ? "Unpin " : "Pin ") + "“" + text(p.headline) + "”",
          onclick: function () {
            api("PATCH", url, {pinned: !p.pinned}, {"If-Match": '"' + p.version + '"'}).then(function (res) {
              if (res.status === 200) route();
              else if (res.status === 412) { flash = "Someone changed that post meanwhile; here it is now."; route(); }
              else showErrors(view, res, actionError);
            });
          }}), " ",
        h("button", {type: "button", "class": "button danger", text: "Delete",
          "aria-label": "Delete “" + text(p.headline) + "”",
          onclick: function () { reason.hidden = false; confirm.hidden = false; reason.focus(); }}),
        reason, confirm] : [])
    ]);
  }

  // -- presence --------------------------------------------------------------------------------

  // While a post is open: a heartbeat every 5 s says so to other editors, and the line above
  // the form names the others who have it open. Leaving the view (or the page) says so too.
  function watchPresence(url, line) {
    function beat() {
      api("PUT", url).then(function () { return api("GET", url); }).then(function (res) {
        if (res.status !== 200) return;
        var others = res.data.editors.filter(function (e) { return !me || e.name !== me.name; })
          .map(function (e) { return e.name; });
        line.textContent = others.length ? others.join(", ") + (others.length === 1 ? " is" : " are") +
          " editing this post too." : "";
      });
    }
    function leave() {
      clearInterval(timer);
      window.removeEventListener("pagehide", leave);
      fetch(url, {method: "DELETE", keepalive: true,
                  headers: {"Authorization": "Bearer " + token()}}).catch(function () {});
    }
    beat();
    var timer = setInterval(beat, PRESENCE_EVERY);
    window.addEventListener("pagehide", leave);
    leaving.push(leave);
  }

  // -- compose / edit --------------------------------------------------------------------------

  function editor(blogId, postId) {
    Promise.all([api("GET", "/api/blogs/" + blogId),
                 postId ? api("GET", "/api/blogs/" + blogId + "/posts/" + postId) : null])
    .then(withZone).then(function (rs) {
      var failed = rs.filter(function (r) { return r && r.status !== 200; })[0];
      if (failed) { view.append(h("p", {"class": "error", text: failed.data.detail})); return; }
      renderEditor(blogId, rs[1] ? rs[1].data : null, rs[0].data.timezone);
    });
  }

  function renderEditor(blogId, post, zone) {
    var base = "/api/blogs/" + blogId + "/posts";
    var version = post ? post.version : null;
    var blocks = post ? post.body.map(function (b) { return Object.assign({}, b); }) : [];
    var byline = post ? post.byline : {contributors: []};
    function field(id, label, input, path, hint) {
      input.id = id;
      if (input.tagName === "INPUT" && input.type === "text") {
        // Enter in a one-line field must not publish a half-written post
        input.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
      }
      return h("div", {}, [h("label", {"for": id, text: label}), input,
        hint ? h("p", {"class": "hint", text: hint}) : null, errorSlot(path)]);
    }
    var headline = h("input", {type: "text", value: post ? text(post.headline) : ""});
    var contributors = h("input", {type: "text", value: (byline.contributors || []).map(text).join(", ")});
    var place = h("input", {type: "text", value: byline.location ? text(byline.location) : ""});
    var shown = h("input", {type: "datetime-local", id: "display-time"});
    var shownChoices = h("div", {id: "display-time-choices"});
    var shownTime = zonedTime(shown, zone, post && post.display_time !== post.published_at ? post.display_time : null, shownChoices);
    var pinned = h("input", {type: "checkbox", id: "pinned", checked: post && post.pinned});
    var keyEvent = h("input", {type: "checkbox", id: "key-event", checked: post && post.key_event});
    var blockList = h("div", {id: "blocks"});
    var publishAt = h("input", {type: "datetime-local", id: "publish-at"});
    var publishChoices = h("div", {id: "publish-at-choices"});
    var publishTime = zonedTime(publishAt, zone, post && post.publish_at ? post.publish_at : null, publishChoices);
    var conflict = h("div", {id: "conflict"});
    var presenceLine = h("p", {"class": "presence", id: "presence", role: "status"});
    var retry = h("button", {type: "button", "class": "button", id: "retry", text: "Retry", hidden: true});
    var saving = false;

    // What the editor started from: a save sends only the fields changed since (so it never
    // reverts a pin or anything else someone else set meanwhile), and merges on a conflict.
    var initial = post ? content() : null;

    // Unsent work is kept in this browser (it survives a reload, a refused token, going
    // offline) until the server has taken it.
    var draftKey = "liveblog.draft." + blogId + "." + (post ? post.id : "new");
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) { kept = null; }
    if (kept && kept.content) {
      var c = kept.content;
      headline.value = c.headline || "";
      contributors.value = ((c.byline || {}).contributors || []).join(", ");
      place.value = (c.byline || {}).location || "";
      blocks = (c.body || []).map(function (b) { return Object.assign({}, b); });
      pinned.checked = !!c.pinned; keyEvent.checked = !!c.key_event;
      shown.value = c.display_time ? wallOf(c.display_time, zone) : "";
      if (post && kept.version) version = kept.version;  // the version this work started from
      if (post && kept.base) initial = kept.base;
    }
    function persist() {
      try {
        localStorage.setItem(draftKey, JSON.stringify({content: content(), version: version,
                                                       base: initial,
                                                       saved_at: new Date().toISOString()}));
      } catch (e) { /* storage full or refused: the form still holds the work */ }
    }
    function forget() { localStorage.removeItem(draftKey); }

    function renderBlocks(changed) {
      blockList.textContent = "";
      blocks.forEach(function (block, i) {
        var fields = (BLOCK_FIELDS[block.type] || []).map(function (f) {
          var id = "block-" + i + "-" + f[0];
          if (f[2] === "rich") {
            return h("div", {}, [richText(id, f[1], block[f[0]] || "", function (html) {
              block[f[0]] = html; persist();
            }), errorSlot("body." + i + "." + f[0])]);
          }
          if (block.type === "image" && f[0] === "url" && block.media_id) return null;
          var input = h(f[2] === "textarea" ? "textarea" : "input", {type: f[2] === "textarea" ? undefined : "text",
            id: id, value: block[f[0]] || "",
            oninput: function (e) { block[f[0]] = e.target.value; }});
          return h("div", {}, [h("label", {"for": id, text: f[1]}), input, errorSlot("body." + i + "." + f[0])]);
        });
        if (block.type === "image") fields.unshift(uploader(block, i));
        blockList.append(h("div", {"class": "block", "data-index": String(i)}, [
          h("div", {"class": "block-head"}, [h("strong", {text: block.type}),
            h("button", {type: "button", "class": "button", text: "↑", "aria-label": "Move block " + (i + 1) + " up", disabled: i === 0,
              onclick: function () { blocks.splice(i - 1, 0, blocks.splice(i, 1)[0]); renderBlocks(true); focusBlock(i - 1, "up"); }}),
            h("button", {type: "button", "class": "button", text: "↓", "aria-label": "Move block " + (i + 1) + " down", disabled: i === blocks.length - 1,
              onclick: function () { blocks.splice(i + 1, 0, blocks.splice(i, 1)[0]); renderBlocks(true); focusBlock(i + 1, "down"); }}),
            h("button", {type: "button", "class": "button danger", text: "Remove", "aria-label": "Remove block " + (i + 1),
              onclick: function () { blocks.splice(i, 1); renderBlocks(true); focusBlock(Math.min(i, blocks.length - 1), "field"); }})]),
          errorSlot("body." + i), errorSlot("body." + i + ".type")].concat(fields)));
      });
      if (changed) persist();
    }

    // -- images: chosen, pasted or dropped, uploaded with progress -------------------------------

    var IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

    function uploader(block, i) {
      var id = "block-" + i + "-file";
      var status = h("p", {"class": "upload-status", id: "block-" + i + "-upload-status", role: "status",
        text: block.uploading ? "Uploading " + (block.file || "") + "…" :
              block.media_id ? "Uploaded" + (block.width ? " (" + block.width + " × " + block.height + " px)" : "") : ""});
      var bar = h("progress", {id: "block-" + i + "-progress", max: "100", value: String(block.progress || 0),
                              "aria-label": "Upload progress", hidden: !block.uploading});
      block.show = function () {
        bar.value = block.progress || 0;
        status.textContent = "Uploading " + (block.file || "") + "… " + (block.progress || 0) + "%";
      };
      var input = h("input", {type: "file", id: id, accept: IMAGE_TYPES.join(","),
        onchange: function (e) { if (e.target.files[0]) upload(block, e.target.files[0]); }});
      var preview = block.media_id && block.url ?
        h("img", {"class": "preview", src: block.url, alt: "", width: block.width, height: block.height}) : null;
      return h("div", {"class": "uploader"}, [preview,
        h("label", {"for": id, text: block.media_id ? "Replace the image" : "Upload an image (or paste or drop one)"}),
        input, bar, status, errorSlot("body." + i + ".media_id"),
        block.uploadError ? h("p", {"class": "error", role: "alert", text: block.uploadError}) : null]);
    }

    // XMLHttpRequest, not fetch: only it reports the upload's progress.
    function upload(block, file) {
      block.uploadError = null;
      if (IMAGE_TYPES.indexOf(file.type) < 0) {
        block.uploadError = (file.name || "That file") + " is not a JPEG, PNG, WebP or GIF image.";
        renderBlocks(false);
        return;
      }
      block.uploading = true; block.progress = 0; block.file = file.name || "image";
      renderBlocks(false);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/media");
      xhr.setRequestHeader("Authorization", "Bearer " + token());
      xhr.setRequestHeader("Content-Type", file.type);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        block.progress = Math.round(100 * e.loaded / e.total);
        if (block.show) block.show();
      };
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        block.uploading = false;
        if ((xhr.status === 200 || xhr.status === 201) && data) {
          block.progress = 100;
          block.media_id = data.id; block.url = data.url;
          block.width = data.width; block.height = data.height;
          renderBlocks(true);
        } else {
          if (xhr.status === 401) signOut(REFUSED);
          block.uploadError = (data && data.detail) || "The upload failed (" + xhr.status + ").";
          renderBlocks(false);
        }
      };
      xhr.onerror = function () {
        block.uploading = false;
        block.uploadError = "Could not reach the server: the image was not uploaded. Try again.";
        renderBlocks(false);
      };
      xhr.send(file);
    }

    // Images pasted or dropped anywhere on the form become image blocks, uploaded at once.
    function imagesIn(list) {
      return Array.prototype.filter.call(list || [], function (f) { return f.type.indexOf("image/") === 0; });
    }
    function addImages(files) {
      files.forEach(function (file) {
        var block = {type: "image"};
        blocks.push(block);
        upload(block, file);
      });
      focusBlock(blocks.length - 1, "field");
    }

    // After a block moves, goes or comes, focus stays with it (the same button, or the block's
    // first field; the headline when no block is left), never on <body>.
    function focusBlock(index, what) {
      var block = blockList.querySelector('[data-index="' + index + '"]');
      if (!block) { headline.focus(); return; }
      var up = block.querySelector("[aria-label^='Move block'][aria-label$='up']");
      var down = block.querySelector("[aria-label^='Move block'][aria-label$='down']");
      // the same button again, else the other one (at the top, "up" is disabled)
      var target = what === "up" ? (up.disabled ? down : up) : what === "down" ? (down.disabled ? up : down) : null;
      if (!target || target.disabled) target = block.querySelector("input[type=text], textarea, [contenteditable=true]") || block.querySelector("button");
      target.focus();
    }

    function content() {
      var body = {headline: headline.value,
        byline: {contributors: contributors.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean)},
        body: blocks.map(blockOut),
        pinned: pinned.checked, key_event: keyEvent.checked};
      if (place.value.trim()) body.byline.location = place.value.trim();
      var shownAt = shownTime.resolve().iso;  // an unresolved time is refused by save()
      if (shownAt) body.display_time = shownAt; else if (post) body.display_time = null;
      return body;
    }

    function done(res, message) {
      forget();
      flash = message + " (version " + res.data.version + ").";
      location.hash = "#/blogs/" + blogId;
    }

    function busy(on) {
      saving = on;
      form.setAttribute("aria-busy", on ? "true" : "false");
      form.querySelectorAll(".actions button").forEach(function (b) { b.disabled = on; });
    }

    function failed(res, again) {
      showErrors(form, res);
      retry.hidden = res.status !== 0;
      retry.onclick = again;
      if (res.status === 0) retry.focus();
    }

    // fields: after a merge, the fields this editor changed from the version they started from
    // (the base is now the other editor's version, which the form does not show)
    function save(extra, message, fields) {
      if (saving) return Promise.resolve();  // a second click while the first is on its way
      if (blocks.some(function (b) { return b.uploading; })) {
        showErrors(form, {status: 409, data: {detail: "An image is still uploading: save when it is done."}});
        return Promise.resolve();
      }
      var times = [["display_time", shownTime.resolve()]];
      if (extra && "publish_at" in extra) times.push(["publish_at", publishTime.resolve()]);
      var unresolved = times.filter(function (t) { return t[1].error; });
      if (unresolved.length) {
        var errors = {};
        unresolved.forEach(function (t) { errors[t[0]] = [t[1].error]; });
        showErrors(form, {status: 422, data: {errors: errors}});
        return Promise.resolve();
      }
      if (extra && "publish_at" in extra && !publishTime.resolve().iso) {
        showErrors(form, {status: 422, data: {errors: {publish_at: ["Choose the date and time it goes live."]}}});
        publishAt.focus();
        return Promise.resolve();
      }
      if (extra && "publish_at" in extra) extra = Object.assign({}, extra, {publish_at: publishTime.resolve().iso});
      var body = Object.assign(content(), extra || {});
      var again = function () { save(extra, message, fields); };
      persist();
      busy(true);
      retry.hidden = true;
      if (!post) {
        return api("POST", base, body).then(function (res) {
          busy(false);
          if (res.status === 201) done(res, message); else failed(res, again);
        });
      }
      var mine = fields || changedFields(body, initial);
      var patch = {};
      mine.forEach(function (f) { patch[f] = body[f]; });
      Object.keys(extra || {}).forEach(function (k) { patch[k] = extra[k]; });
      if (!Object.keys(patch).length) {
        busy(false); forget(); flash = "Nothing changed."; location.hash = "#/blogs/" + blogId;
        return Promise.resolve();
      }
      return api("PATCH", base + "/" + post.id, patch, {"If-Match": '"' + version + '"'}).then(function (res) {
        busy(false);
        if (res.status === 200) done(res, merged ? message + ", merged with changes made meanwhile to " + merged : message);
        else if (res.status === 412) merge(body, mine, extra, message);
        else failed(res, again);
      });
    }

    var FIELDS = ["headline", "byline", "body", "display_time", "pinned", "key_event"];
    var LABELS = {headline: "headline", byline: "byline", body: "body", display_time: "shown time",
                  pinned: "pin", key_event: "key event"};
    var merged = "";

    function changedFields(now, from) {
      return FIELDS.filter(function (f) { return JSON.stringify(now[f]) !== JSON.stringify(from[f]); });
    }

    // A post as the form would show it, to compare with what the editor started from.
    function contentOf(p) {
      var out = {headline: text(p.headline),
        byline: {contributors: (p.byline.contributors || []).map(text)},
        body: p.body.map(blockOut),
        pinned: !!p.pinned, key_event: !!p.key_event};
      if (p.byline.location && text(p.byline.location).trim()) out.byline.location = text(p.byline.location).trim();
      out.display_time = p.display_time && p.display_time !== p.published_at ? p.display_time : null;
      return out;
    }

    // Someone saved meanwhile: a three-way merge against what this editor started from.
    // Different fields merge by themselves (and the flash says so); the same field changed on
    // both sides is shown side by side to choose.
    function merge(body, mine, extra, message) {
      api("GET", base + "/" + post.id).then(function (res) {
        if (res.status !== 200) { failed(res, function () { merge(body, mine, extra, message); }); return; }
        var theirs = res.data, now = contentOf(theirs);
        var theirsChanged = changedFields(now, initial);
        var both = mine.filter(function (f) { return theirsChanged.indexOf(f) >= 0; });
        if (!both.length) {
          merged = theirsChanged.map(function (f) { return LABELS[f]; }).join(", ") || "nothing";
          version = theirs.version; initial = now;
          save(extra, message, mine);
          return;
        }
        showConflict(body, mine, both, theirs, now, extra, message);
      });
    }

    function describe(field, value) {
      if (field === "body") return value.map(function (b) { return "[" + b.type + "] " + text(b.text || b.caption || b.url || ""); }).join("\n");
      if (field === "byline") return (value.contributors || []).join(", ") + (value.location ? " in " + value.location : "");
      if (field === "display_time") return value ? when(value, zone) : "(publication time)";
      if (typeof value === "boolean") return value ? "yes" : "no";
      return String(value);
    }

    function showConflict(body, mine, both, theirs, now, extra, message) {
      conflict.textContent = "";
      var who = (theirs.updated_by && theirs.updated_by.name) || "Another editor";
      var rows = both.map(function (f) {
        return h("div", {"class": "sides", "data-field": f}, [
          h("div", {}, [h("h3", {text: who + "’s " + LABELS[f]}), h("pre", {"class": "theirs", text: describe(f, now[f])})]),
          h("div", {}, [h("h3", {text: "Your " + LABELS[f]}), h("pre", {"class": "yours", text: describe(f, body[f])})])]);
      });
      conflict.append(h("div", {"class": "conflict", role: "alert"}, [
        h("h2", {id: "conflict-title", text: who + " changed this post meanwhile"}),
        h("p", {text: "You started from version " + version + "; " + who + " saved it as version " + theirs.version +
                     " at " + when(theirs.updated_at, zone) + ", changing the same " +
                     both.map(function (f) { return LABELS[f]; }).join(", ") +
                     " as you. Nothing was overwritten; their other changes are kept either way."}),
        h("div", {id: "conflict-fields"}, rows),
        h("div", {"class": "actions"}, [
          h("button", {type: "button", "class": "button primary", id: "keep-mine", text: "Save mine over version " + theirs.version,
            onclick: function () { version = theirs.version; initial = now; conflict.textContent = ""; save(extra, message, mine); }}),
          h("button", {type: "button", "class": "button", id: "take-theirs", text: "Discard mine, load theirs",
            onclick: function () { forget(); route(); }})])]));
      conflict.scrollIntoView();
    }

    var addButtons = Object.keys(BLOCK_FIELDS).map(function (type) {
      return h("button", {type: "button", "class": "button", text: "+ " + type, "data-add": type,
        onclick: function () { blocks.push({type: type}); renderBlocks(true); focusBlock(blocks.length - 1, "field"); }});
    });
    var actions;
    if (!post) {
      actions = [
        h("button", {type: "submit", "class": "button primary", id: "publish", text: "Publish now"}),
        h("button", {type: "button", "class": "button", id: "save-draft", text: "Save draft",
          onclick: function () { save({status: "draft"}, "Draft saved"); }}),
        h("label", {"for": "publish-at", "class": "inline-label", text: "Publish at (" + zone + ")"}), publishAt,
        h("button", {type: "button", "class": "button", id: "schedule", text: "Schedule",
          onclick: function () { save({publish_at: "missing"}, "Scheduled"); }})];
    } else {
      actions = [h("button", {type: "submit", "class": "button primary", id: "save", text: "Save changes"})];
      if (post.status !== "published") {
        actions.push(h("button", {type: "button", "class": "button", id: "publish", text: "Publish now",
          onclick: function () { save({status: "published"}, "Published"); }}),
          h("label", {"for": "publish-at", "class": "inline-label", text: "Publish at (" + zone + ")"}), publishAt,
          h("button", {type: "button", "class": "button", id: "schedule",
            text: post.status === "scheduled" ? "Reschedule" : "Schedule",
            onclick: function () { save({publish_at: "missing"},
                                        post.status === "scheduled" ? "Rescheduled" : "Scheduled"); }}));
      }
    }
    var form = h("form", {id: "post-form", novalidate: true}, [
      field("headline", "Headline", headline, "headline"),
      field("contributors", "Contributors (comma-separated)", contributors, "byline.contributors"),
      field("location", "Location", place, "byline.location"),
      field("display-time", "Shown time (" + zone + ")", shown, "display_time",
            "On the blog's clock (" + zone + "). Leave empty to show the publication time."),
      shownChoices,
      h("div", {"class": "inline"}, [pinned, h("label", {"for": "pinned", text: "Pinned"}), keyEvent,
                                     h("label", {"for": "key-event", text: "Key event"})]),
      h("h2", {text: "Body"}), blockList, errorSlot("body"),
      h("div", {"class": "actions"}, addButtons),
      h("div", {"class": "actions"}, actions), publishChoices, errorSlot("publish_at"), errorSlot("status"), errorSlot("_action"), retry, conflict]);
    form.addEventListener("input", persist);
    form.addEventListener("change", persist);
    // Image files pasted or dropped: taken here, in the capture phase, before the rich-text
    // editor would take them as text.
    function takeImages(e, files) {
      files = imagesIn(files);
      if (!files.length) return;
      e.preventDefault(); e.stopPropagation();
      addImages(files);
    }
    form.addEventListener("paste", function (e) {
      takeImages(e, e.clipboardData && e.clipboardData.files);
    }, true);
    form.addEventListener("dragover", function (e) {
      if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0) {
        e.preventDefault(); form.classList.add("dropping");
      }
    });
    form.addEventListener("dragleave", function () { form.classList.remove("dropping"); });
    form.addEventListener("drop", function (e) {
      form.classList.remove("dropping");
      takeImages(e, e.dataTransfer && e.dataTransfer.files);
    }, true);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save(post ? {} : {}, post ? "Saved" : "Published");
    });
    renderBlocks();
    var restored = kept && kept.content ? h("p", {"class": "hint", id: "draft-restored", role: "status"}, [
      "Restored your unsaved work from " + when(kept.saved_at) + ". ",
      h("button", {type: "button", "class": "button", id: "discard-draft", text: "Discard it",
        onclick: function () { forget(); route(); }})]) : null;
    view.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId, text: "← Back to the blog"})]),
      h("h1", {text: post ? "Edit post" : "New post"}),
      takeFlash() || "",
      post ? h("p", {"class": "hint", id: "editing", text: "Editing version " + post.version + " · " + post.status}) : "",
      presenceLine, restored || "", form,
      post && post.status === "published" ? corrections(blogId, post) : "");
    headline.focus();
    if (post) watchPresence(base + "/" + post.id + "/presence", presenceLine);
  }

  // -- corrections (editors) -------------------------------------------------------------------
  // A published post's public corrections, and a form to add one: the text and its reason go
  // under the post on the reader page and into its history. The post's version goes up, so
  // the editor is opened again from what the server now holds (unsaved work is kept).

  var CORRECTION_REASONS = ["factual", "spelling", "attribution", "update", "other"];

  function corrections(blogId, post) {
    var url = "/api/blogs/" + blogId + "/posts/" + post.id + "/corrections";
    var body = h("textarea", {id: "correction-text", rows: "3"});
    var reason = h("select", {id: "correction-reason"}, CORRECTION_REASONS.map(function (r) {
      return h("option", {value: r, text: r.charAt(0).toUpperCase() + r.slice(1)}); }));
    var add = h("button", {type: "submit", "class": "button", id: "add-correction", text: "Add correction"});
    var form = h("form", {id: "correction-form", "class": "panel", "aria-labelledby": "corrections-title"}, [
      h("h2", {id: "corrections-title", text: "Corrections"}),
      post.corrections.length ? h("ul", {id: "correction-list"}, post.corrections.map(function (c) {
        return h("li", {}, [h("strong", {text: c.reason + ": "}), text(c.text) + " ",
                            h("span", {"class": "hint", text: when(c.recorded_at, null)})]);
      })) : h("p", {"class": "hint", text: "None yet. A correction is shown under the post, with its reason."}),
      h("div", {}, [h("label", {"for": "correction-text", text: "Correction"}), body, errorSlot("text")]),
      h("div", {}, [h("label", {"for": "correction-reason", text: "Reason"}), reason, errorSlot("reason")]),
      h("div", {"class": "actions"}, [add]), errorSlot("_correction")]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      add.disabled = true;
      api("POST", url, {text: body.value.trim(), reason: reason.value},
          {"If-Match": '"' + post.version + '"'}).then(function (res) {
        add.disabled = false;
        if (res.status === 201) { flash = "Correction added."; route(); return; }
        if (res.status === 412) { flash = "The post changed meanwhile: here it is now; add the correction again."; route(); return; }
        showErrors(form, res, form.querySelector("[data-error-for=_correction]"));
      });
    });
    return form;
  }

  // -- review and redaction (legal) ------------------------------------------------------------
  // The legal desk opens a post, reads its history, and redacts it with a reason after a
  // confirmation that names what will be erased: every event's content, for good.

  function review(blogId, postId) {
    var path = "/api/blogs/" + blogId + "/posts/" + postId;
    Promise.all([api("GET", "/api/blogs/" + blogId), api("GET", path + "/history")])
    .then(withZone).then(function (rs) {
      var failed = rs.filter(function (r) { return r.status !== 200; })[0];
      if (failed) { view.append(h("p", {"class": "error", text: failed.data.detail})); return; }
      var zone = rs[0].data.timezone, revisions = rs[1].data.revisions;
      var now = revisions[revisions.length - 1].post;
      var redacted = revisions.some(function (r) { return r.redacted; });
      view.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId, text: "← Back to the blog"})]),
        h("h1", {text: redacted ? "Redacted post" : text(now.headline)}), takeFlash() || "",
        h("h2", {text: "History"}),
        h("ol", {id: "history"}, revisions.map(function (r) { return revisionItem(r, zone); })),
        redacted ? h("p", {"class": "hint", id: "redacted-note", text: "This post was redacted: its content is erased from storage."})
                 : redaction(path, now, revisions));
    });
  }

  function revisionItem(r, zone) {
    var fields = Object.keys(r.changes || {}).concat(r.redacted_fields || []);
    return h("li", {}, [
      h("strong", {text: "Version " + r.version + " · " + r.event_type.replace(/^Post/, "")}),
      " by " + ((r.actor || {}).name || "unknown") + ", " + when(r.recorded_at, zone),
      r.reason ? h("span", {text: " · reason: " + r.reason}) : null,
      fields.length ? h("span", {"class": "hint", text: " · " + fields.join(", ")}) : null]);
  }

  function redaction(path, now, revisions) {
    var reason = h("input", {type: "text", id: "redact-reason"});
    var panel = h("div", {id: "redact-confirm", role: "alertdialog", "aria-labelledby": "redact-what", hidden: true});
    var start = h("button", {type: "button", "class": "button danger", id: "redact", text: "Redact…"});
    var section = h("section", {"class": "panel", "aria-labelledby": "redact-title"}, [
      h("h2", {id: "redact-title", text: "Redact"}),
      h("p", {"class": "hint", text: "A legal redaction erases the post's content from storage for good and takes it off every reader view; the record keeps who, when and why."}),
      h("div", {}, [h("label", {"for": "redact-reason", text: "Reason (kept in the record)"}), reason, errorSlot("reason")]),
      h("div", {"class": "actions"}, [start]), panel, errorSlot("_action")]);
    start.addEventListener("click", function () {
      if (!reason.value.trim()) {
        showErrors(section, {status: 422, data: {errors: {reason: ["Give the reason for the redaction."]}}});
        reason.focus();
        return;
      }
      var corrections = (now.corrections || []).length;
      panel.textContent = "";
      panel.append(
        h("p", {id: "redact-what", text: "Erase “" + text(now.headline) + "” for good? The headline, byline, body" +
          (corrections ? " and " + corrections + (corrections === 1 ? " correction" : " corrections") : "") +
          " of all " + revisions.length + (revisions.length === 1 ? " version" : " versions") +
          " are erased from storage. This cannot be undone."}),
        h("button", {type: "button", "class": "button danger", id: "redact-confirm-button", text: "Erase for good",
          onclick: function (event) {
            event.target.disabled = true;
            api("POST", path + "/redact", {reason: reason.value.trim()}).then(function (res) {
              if (res.status === 200) { flash = "Post redacted."; route(); return; }
              event.target.disabled = false;
              showErrors(section, res);
            });
          }}), " ",
        h("button", {type: "button", "class": "button", id: "redact-cancel", text: "Cancel",
          onclick: function () { panel.hidden = true; start.focus(); }}));
      panel.hidden = false;
      panel.querySelector("#redact-confirm-button").focus();
    });
    return section;
  }

  start();
})();
