/* The reader page's live updates. Plain JavaScript, no build step, nothing from outside.
 *
 * Polls /blogs/{slug}/live with its cursor, as often as the response's Cache-Control allows:
 * the answer carries each changed post's HTML from the server's template, and is the same for
 * every reader at the same state, so a shared cache answers them all. The browser's own cache
 * is asked to revalidate every time (cache: "no-cache"), so it never holds news back. New
 * posts wait behind a "N new posts" button so the text does not move under the reader's eyes;
 * edits and deletes apply in place. Polling slows down while the tab is hidden, backs off after
 * errors (saying "Reconnecting…") and resumes at once when the network comes back. A closed blog
 * is still polled, slowly (its answers' longer max-age): a redaction, a correction or a reopen
 * reaches a page left open on it.
 *
 * liveblogMount(root, scope, options) drives a blog wherever it is shown: on the reader page and
 * in the iframe embed (page.js: scope is the document) and in a host page's shadow root
 * (embed.js: scope is the shadow root, options.base the service's origin). It returns a
 * function that stops it. A LiveblogFeed holds one blog's state: the posts waiting behind the
 * button, the poll's cursor and timer, the page of older posts being loaded. */
/* exported liveblogMount */
// options: base (the service's origin, "" on its own pages), permalink (id → the href of a
// post's time; unset: "#lb-post-{id}"), reorder (order → called when the reader sorts; unset:
// the sort form is submitted), ready (called once it runs).
function liveblogMount(root, scope, options) {
  "use strict";
  var feed = new LiveblogFeed(root, scope, options || {});
  feed.start();
  return function stop() { feed.stop(); };
}

function LiveblogFeed(root, scope, options) {
  "use strict";
  this.root = root; this.scope = scope; this.options = options;
  this.base = options.base || "";
  this.slug = root.dataset.slug; this.order = root.dataset.order;
  this.cursor = root.dataset.cursor;
  this.firstPage = root.dataset.firstPage === "true";
  this.posts = this.byId("posts");
  this.button = this.byId("show-new");
  this.reconnecting = this.byId("reconnecting");
  this.more = this.byId("load-more");
  this.pending = [];          // ids of new posts waiting behind the button, oldest first
  this.pendingHtml = {};
  this.pendingPinned = {};    // whether each waiting post is pinned: its pinned copy waits too
  this.interval = 2000; this.failures = 0; this.timer = null; this.stopped = false;
  this.loading = null;        // the page of older posts being loaded (a promise)
  this.lastHeader = null;
  this.plurals = liveblogPlurals(root);
}

// -- what the blog's scripts share (liveblog.js comes first on a page and in embed.js) -------

// The page's words are its blog's language: the server wrote each plural form ("{n} Posts")
// into the page, and Intl.PluralRules picks the one a number takes.
function liveblogPlurals(root) {
  "use strict";
  return window.Intl && Intl.PluralRules ? new Intl.PluralRules(root.dataset.lang || "en-US") : null;
}

// The words of ``forms`` (a plural form a category, as JSON) for ``n``, split at "{n}".
function liveblogCounted(plurals, forms, n) {
  "use strict";
  var all = JSON.parse(forms || "{}");
  var text = all[plurals ? plurals.select(n) : (n === 1 ? "one" : "other")] || all.other || "{n}";
  return text.split("{n}");
}

// A sentence of the page's words with its {placeholders} filled.
function liveblogFill(template, values) {
  "use strict";
  return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] !== undefined ? values[k] : ""; });
}

// Bytes (a Uint8Array) as lowercase hex.
function liveblogHex(bytes) {
  "use strict";
  return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
}

LiveblogFeed.HIDDEN_INTERVAL = 30000;
LiveblogFeed.MAX_BACKOFF = 60000;

LiveblogFeed.prototype.byId = function (id) { return this.scope.getElementById(id); };
LiveblogFeed.prototype.blogUrl = function (path) {
  return this.base + "/blogs/" + encodeURIComponent(this.slug) + path;
};

// a post's time links to its permalink (the host page's, in an embed)
LiveblogFeed.prototype.relink = function (el) {
  var permalink = this.options.permalink;
  if (!permalink) return el;
  Array.prototype.forEach.call(el.querySelectorAll("a.permalink"), function (a) {
    var id = (a.getAttribute("href") || "").split("#lb-post-")[1];
    if (id) a.href = permalink(id);
  });
  return el;
};

LiveblogFeed.prototype.parse = function (html) {
  var t = document.createElement("template");
  t.innerHTML = html.trim();
  return this.relink(t.content.firstElementChild);
};

// -- polling ------------------------------------------------------------------------------

LiveblogFeed.prototype.schedule = function (delay) {
  clearTimeout(this.timer);
  if (!this.stopped) this.timer = setTimeout(this.poll.bind(this), delay);
};

LiveblogFeed.prototype.nextDelay = function () {
  if (this.failures) {
    // doubling, with jitter: readers who saw the same outage do not all come back at once
    var delay = Math.min(LiveblogFeed.MAX_BACKOFF, this.interval * Math.pow(2, this.failures));
    return delay / 2 + Math.random() * delay / 2;
  }
  return document.hidden ? Math.max(this.interval, LiveblogFeed.HIDDEN_INTERVAL) : this.interval;
};

function liveblogMaxAge(response) {
  var m = /max-age=(\d+)/.exec(response.headers.get("Cache-Control") || "");
  return m ? Math.max(1, parseInt(m[1], 10)) * 1000 : 2000;
}

LiveblogFeed.prototype.poll = function () {
  var self = this;
  var url = this.blogUrl("/live?since=" + encodeURIComponent(this.cursor));
  // "no-cache": the browser revalidates each time (a shared cache still answers it)
  fetch(url, {cache: "no-cache", headers: {"Accept": "application/json"}}).then(function (r) {
    if (!r.ok) throw new Error("live " + r.status);
    self.interval = liveblogMaxAge(r);
    return r.json();
  }).then(function (data) {
    if (self.stopped) return;
    self.apply(data.changes);
    self.updateHeader(data.header);
    self.updateKeyEvents(data.key_events);
    self.cursor = data.cursor;
    self.failures = 0;
    self.connected(true);
    self.schedule(data.more ? 0 : self.nextDelay());
  }).catch(function () {
    self.failures += 1;
    self.connected(false);
    self.schedule(self.nextDelay());
  });
};

LiveblogFeed.prototype.connected = function (ok) {
  if (this.reconnecting) this.reconnecting.hidden = ok;
};

// -- what a poll brings -------------------------------------------------------------------

LiveblogFeed.prototype.updateHeader = function (info) {
  this.lastHeader = info;
  var updated = this.byId("updated");
  updated.textContent = info.updated;
  updated.setAttribute("datetime", info.updated_at);
  // the count says what the page shows: posts still behind the "new posts" button are not
  // counted until the reader brings them in
  var shown = Math.max(0, info.count - this.pending.length);
  var label = this.root.querySelector(".count"), count = this.byId("count");
  if (!count) { count = document.createElement("span"); count.id = "count"; }
  var parts = liveblogCounted(this.plurals, this.root.dataset.countForms, shown);
  count.textContent = shown;
  count.hidden = parts.length < 2;  // a form that names its number (the Arabic dual)
  label.textContent = "";
  label.append(parts[0], count, parts.slice(1).join(String(shown)));
  var status = this.byId("status");
  status.textContent = info.status === "live" ? this.root.dataset.liveLabel : this.root.dataset.closedLabel;
  status.className = "badge " + info.status;
};

// A post's copy in the pinned box gets ids of its own ("pinned-<id>…" for "post-<id>…"), so
// no id is on the page twice and aria-labelledby names the copy's own headline.
function liveblogRetarget(el, from, to) {
  var nodes = [el].concat(Array.prototype.slice.call(
    el.querySelectorAll("[id], [aria-labelledby], [aria-describedby]")));
  nodes.forEach(function (node) {
    ["id", "aria-labelledby", "aria-describedby"].forEach(function (name) {
      var value = node.getAttribute(name);
      if (value && value.indexOf(from) === 0) node.setAttribute(name, to + value.slice(from.length));
    });
  });
}

LiveblogFeed.prototype.updateKeyEvents = function (html) {
  if (!this.firstPage || html === undefined) return;
  var nav = this.root.querySelector("nav.key-events");
  var fresh = html ? this.parse(html) : null;
  if (nav && fresh) nav.replaceWith(fresh);
  else if (nav) nav.remove();
  else if (fresh) this.root.insertBefore(fresh, this.root.querySelector(".new-posts"));
};

LiveblogFeed.prototype.removePost = function (id) {
  var self = this;
  ["post-", "pinned-"].forEach(function (prefix) {
    var el = self.byId(prefix + id);
    if (el) el.remove();
  });
  var at = this.pending.indexOf(id);
  if (at >= 0) { this.pending.splice(at, 1); delete this.pendingHtml[id]; delete this.pendingPinned[id]; }
  liveblogForgetStructuredData(id);
};

// A deleted (or redacted) post leaves the page's JSON-LD too (a host page's, from /jsonld):
// nothing of it stays in the page.
function liveblogForgetStructuredData(id) {
  var script = document.querySelector('script[type="application/ld+json"]');
  if (!script) return;
  try {
    var data = JSON.parse(script.textContent);
    var updates = data.liveBlogUpdate || [];
    var kept = updates.filter(function (u) { return !/#lb-post-/.test(u.url || "") ||
                                                    u.url.split("#lb-post-")[1] !== id; });
    if (kept.length === updates.length) return;
    data.liveBlogUpdate = kept;
    script.textContent = JSON.stringify(data);
  } catch (e) { /* leave what cannot be read */ }
}

LiveblogFeed.prototype.placePinned = function (id, html, pinned) {
  var section = this.byId("pinned");
  var existing = this.byId("pinned-" + id);
  if (!pinned || !this.firstPage) { if (existing) existing.remove(); return; }
  var el = this.parse(html);
  liveblogRetarget(el, "post-" + id, "pinned-" + id);
  if (existing) { existing.replaceWith(el); return; }
  if (!section) {
    section = document.createElement("section");
    section.id = "pinned"; section.className = "pinned-posts";
    section.setAttribute("aria-label", this.root.dataset.pinnedLabel || "Pinned");  // the page's language
    this.posts.parentNode.insertBefore(section, this.posts);
  }
  section.insertBefore(el, section.firstChild);
};

LiveblogFeed.prototype.apply = function (changes) {
  var self = this;
  changes.forEach(function (change) {
    var id = change.id;
    if (change.op === "delete") { self.removePost(id); return; }
    var current = self.byId("post-" + id);
    if (current) {
      current.replaceWith(self.parse(change.html));      // an edit: in place
      self.placePinned(id, change.html, change.pinned);
    } else if (self.firstPage || self.order === "oldest") {
      if (self.pending.indexOf(id) < 0) self.pending.push(id);
      self.pendingHtml[id] = change.html;                // new: behind the button, pinned or not
      self.pendingPinned[id] = change.pinned;
    }
  });
  this.showButton();
};

// -- the "N new posts" button -------------------------------------------------------------

LiveblogFeed.prototype.showButton = function () {
  // the list does not say "No updates yet" while the button offers the first ones
  var empty = this.byId("empty");
  if (empty) empty.hidden = this.pending.length > 0;
  if (!this.pending.length) { this.button.hidden = true; return; }
  this.button.textContent = liveblogCounted(this.plurals, this.root.dataset.newForms, this.pending.length)
    .join(String(this.pending.length));
  this.button.hidden = false;
};

LiveblogFeed.prototype.showPending = function () {
  var self = this;
  var empty = this.byId("empty");
  if (empty) empty.remove();
  var first = null;
  var ids = this.pending.slice();
  this.pending = [];
  ids.forEach(function (id) {
    var el = self.parse(self.pendingHtml[id]);
    self.placePinned(id, self.pendingHtml[id], self.pendingPinned[id]);
    delete self.pendingHtml[id];
    delete self.pendingPinned[id];
    if (self.byId("post-" + id)) return;
    if (self.order === "oldest") self.posts.appendChild(el);
    else self.posts.insertBefore(el, self.posts.firstChild);
    if (!first || self.order === "oldest") first = first || el;
    else first = el;
  });
  this.showButton();
  if (this.lastHeader) this.updateHeader(this.lastHeader);  // now the count may include them
  if (first) {
    first.setAttribute("tabindex", "-1");
    first.focus({preventScroll: false});
  }
};

// -- older posts and permalinks -----------------------------------------------------------

// "Load more" fetches the next page in place; it also fires when scrolled into view. Without
// script it is a plain link to the next page.
LiveblogFeed.prototype.loadMore = function (event) {
  var self = this;
  if (event) event.preventDefault();
  if (!this.more) return Promise.resolve();
  if (this.loading) return this.loading;
  var url = this.blogUrl("/fragments?order=" + this.order + "&cursor=" +
                         encodeURIComponent(this.more.dataset.cursor));
  this.loading = fetch(url).then(function (r) { return r.json(); }).then(function (info) {
    var holder = document.createElement("template");
    holder.innerHTML = info.page;
    Array.prototype.forEach.call(holder.content.querySelectorAll("article.post"),
      function (el) { if (!self.byId(el.id)) self.posts.appendChild(self.relink(el)); });
    if (info.next_cursor) { self.more.dataset.cursor = info.next_cursor; }
    else { self.more.parentNode.remove(); self.more = null; }
  }).finally(function () { self.loading = null; });
  return this.loading;
};

// Permalinks (#lb-post-{id}): the post is shown, older pages loaded until it is there (an
// iframe embed's frame.js asks with a "liveblog:show" event and hears "liveblog:shown").
LiveblogFeed.prototype.show = function (id, pages) {
  var self = this;
  var el = this.byId("post-" + id);
  if (el) {
    el.setAttribute("tabindex", "-1");
    el.classList.add("target");
    el.scrollIntoView({block: "start"});
    el.focus({preventScroll: true});
    document.dispatchEvent(new CustomEvent("liveblog:shown", {detail: el}));
  } else if (this.more && pages < 50 && !this.stopped) {
    this.loadMore().then(function () { self.show(id, pages + 1); }, function () {});
  }
};

LiveblogFeed.prototype.showTarget = function () {
  var match = /^#lb-post-([\w-]+)$/.exec(location.hash);
  if (match) this.show(match[1], 0);
};

// -- start and stop -----------------------------------------------------------------------

LiveblogFeed.prototype.start = function () {
  var self = this, options = this.options;
  this.button.addEventListener("click", this.showPending.bind(this));
  // Sort: submit the form on change (it works without script too), or, in an embed, ask it
  // to show the other order.
  var sort = this.byId("order");
  if (sort) {
    sort.form.querySelector(".sort-apply").hidden = true;
    sort.addEventListener("change", function () {
      if (options.reorder) options.reorder(sort.value); else sort.form.submit();
    });
  }
  if (this.more) {
    this.more.addEventListener("click", this.loadMore.bind(this));
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) self.loadMore();
      }, {rootMargin: "400px"}).observe(this.more);
    }
  }
  this.listening = [
    [window, "hashchange", this.showTarget.bind(this)],
    [document, "liveblog:show", function (event) { self.show(event.detail, 0); }],
    // back on the tab: catch up at once
    [document, "visibilitychange", function () { if (!document.hidden) self.schedule(0); }],
    // the network is back: ask at once
    [window, "online", function () { self.failures = 0; self.schedule(0); }]];
  this.listening.forEach(function (l) { l[0].addEventListener(l[1], l[2]); });
  this.relink(this.root);
  // the first poll waits what the page's own Cache-Control allowed (a closed blog's is longer)
  if (this.byId("status").classList.contains("closed")) {
    this.interval = parseInt(this.root.dataset.closedPoll || "8", 10) * 1000;
  }
  this.schedule(this.interval);
  this.showTarget();
  if (options.ready) options.ready();
};

LiveblogFeed.prototype.stop = function () {
  this.stopped = true;
  clearTimeout(this.timer);
  this.listening.forEach(function (l) { l[0].removeEventListener(l[1], l[2]); });
};
