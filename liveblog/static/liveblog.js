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
 * One function, liveblogMount(root, scope, options), drives a blog wherever it is shown: on the
 * reader page and in the iframe embed (page.js: scope is the document) and in a host page's
 * shadow root (embed.js: scope is the shadow root, options.base the service's origin). It
 * returns a function that stops it. */
/* exported liveblogMount */
// options: base (the service's origin, "" on its own pages), permalink (id → the href of a
// post's time; unset: "#lb-post-{id}"), reorder (order → called when the reader sorts; unset:
// the sort form is submitted), ready (called once it runs).
function liveblogMount(root, scope, options) {
  "use strict";
  options = options || {};
  var base = options.base || "";
  var slug = root.dataset.slug, order = root.dataset.order;
  var cursor = root.dataset.cursor;
  var firstPage = root.dataset.firstPage === "true";
  var posts = byId("posts");
  var button = byId("show-new");
  var reconnecting = byId("reconnecting");
  var pending = [];           // ids of new posts waiting behind the button, oldest first
  var pendingHtml = {};
  var pendingPinned = {};     // whether each waiting post is pinned: its pinned copy waits too
  var interval = 2000, failures = 0, timer = null, stopped = false;
  var HIDDEN_INTERVAL = 30000, MAX_BACKOFF = 60000;
  var CLOSED_INTERVAL = parseInt(root.dataset.closedPoll || "8", 10) * 1000;

  function byId(id) { return scope.getElementById(id); }
  function blogUrl(path) { return base + "/blogs/" + encodeURIComponent(slug) + path; }

  // The page's words are its blog's language: the server wrote each plural form ("{n} Posts")
  // into the page, and Intl.PluralRules picks the one a number takes.
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(root.dataset.lang || "en-US") : null;
  function counted(forms, n) {
    var all = JSON.parse(forms || "{}");
    var text = all[plurals ? plurals.select(n) : (n === 1 ? "one" : "other")] || all.other || "{n}";
    return text.split("{n}");
  }

  // a post's time links to its permalink (the host page's, in an embed)
  function relink(el) {
    if (!options.permalink) return el;
    Array.prototype.forEach.call(el.querySelectorAll("a.permalink"), function (a) {
      var id = (a.getAttribute("href") || "").split("#lb-post-")[1];
      if (id) a.href = options.permalink(id);
    });
    return el;
  }

  function parse(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return relink(t.content.firstElementChild);
  }

  function maxAge(response) {
    var m = /max-age=(\d+)/.exec(response.headers.get("Cache-Control") || "");
    return m ? Math.max(1, parseInt(m[1], 10)) * 1000 : 2000;
  }

  function schedule(delay) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, delay);
  }

  function nextDelay() {
    if (failures) {
      // doubling, with jitter: readers who saw the same outage do not all come back at once
      var delay = Math.min(MAX_BACKOFF, interval * Math.pow(2, failures));
      return delay / 2 + Math.random() * delay / 2;
    }
    return document.hidden ? Math.max(interval, HIDDEN_INTERVAL) : interval;
  }

  var lastHeader = null;
  function updateHeader(info) {
    lastHeader = info;
    var updated = byId("updated");
    updated.textContent = info.updated;
    updated.setAttribute("datetime", info.updated_at);
    // the count says what the page shows: posts still behind the "new posts" button are not
    // counted until the reader brings them in
    var shown = Math.max(0, info.count - pending.length);
    var label = root.querySelector(".count"), count = byId("count");
    if (!count) { count = document.createElement("span"); count.id = "count"; }
    var parts = counted(root.dataset.countForms, shown);
    count.textContent = shown;
    count.hidden = parts.length < 2;  // a form that names its number (the Arabic dual)
    label.textContent = "";
    label.append(parts[0], count, parts.slice(1).join(String(shown)));
    var status = byId("status");
    status.textContent = info.status === "live" ? root.dataset.liveLabel : root.dataset.closedLabel;
    status.className = "badge " + info.status;
  }

  // A post's copy in the pinned box gets ids of its own ("pinned-<id>…" for "post-<id>…"), so
  // no id is on the page twice and aria-labelledby names the copy's own headline.
  function retarget(el, from, to) {
    var nodes = [el].concat(Array.prototype.slice.call(
      el.querySelectorAll("[id], [aria-labelledby], [aria-describedby]")));
    nodes.forEach(function (node) {
      ["id", "aria-labelledby", "aria-describedby"].forEach(function (name) {
        var value = node.getAttribute(name);
        if (value && value.indexOf(from) === 0) node.setAttribute(name, to + value.slice(from.length));
      });
    });
  }

  function updateKeyEvents(html) {
    if (!firstPage || html === undefined) return;
    var nav = root.querySelector("nav.key-events");
    var fresh = html ? parse(html) : null;
    if (nav && fresh) nav.replaceWith(fresh);
    else if (nav) nav.remove();
    else if (fresh) root.insertBefore(fresh, root.querySelector(".new-posts"));
  }

  function removePost(id) {
    ["post-", "pinned-"].forEach(function (prefix) {
      var el = byId(prefix + id);
      if (el) el.remove();
    });
    var at = pending.indexOf(id);
    if (at >= 0) { pending.splice(at, 1); delete pendingHtml[id]; delete pendingPinned[id]; }
    forgetStructuredData(id);
  }

  // A deleted (or redacted) post leaves the page's JSON-LD too (a host page's, from /jsonld):
  // nothing of it stays in the page.
  function forgetStructuredData(id) {
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

  function placePinned(id, html, pinned) {
    var section = byId("pinned");
    var existing = byId("pinned-" + id);
    if (!pinned || !firstPage) { if (existing) existing.remove(); return; }
    var el = parse(html);
    retarget(el, "post-" + id, "pinned-" + id);
    if (existing) { existing.replaceWith(el); return; }
    if (!section) {
      section = document.createElement("section");
      section.id = "pinned"; section.className = "pinned-posts";
      section.setAttribute("aria-label", root.dataset.pinnedLabel || "Pinned");  // the page's language
      posts.parentNode.insertBefore(section, posts);
    }
    section.insertBefore(el, section.firstChild);
  }

  function showButton() {
    // the list does not say "No updates yet" while the button offers the first ones
    var empty = byId("empty");
    if (empty) empty.hidden = pending.length > 0;
    if (!pending.length) { button.hidden = true; return; }
    button.textContent = counted(root.dataset.newForms, pending.length).join(String(pending.length));
    button.hidden = false;
  }

  function apply(changes) {
    changes.forEach(function (change) {
      var id = change.id;
      if (change.op === "delete") { removePost(id); return; }
      var current = byId("post-" + id);
      if (current) {
        current.replaceWith(parse(change.html));      // an edit: in place
        placePinned(id, change.html, change.pinned);
      } else if (firstPage || order === "oldest") {
        if (pending.indexOf(id) < 0) pending.push(id);
        pendingHtml[id] = change.html;                // new: behind the button, pinned or not
        pendingPinned[id] = change.pinned;
      }
    });
    showButton();
  }

  function connected(ok) {
    if (reconnecting) reconnecting.hidden = ok;
  }

  function poll() {
    var url = blogUrl("/live?since=" + encodeURIComponent(cursor));
    // "no-cache": the browser revalidates each time (a shared cache still answers it)
    fetch(url, {cache: "no-cache", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) throw new Error("live " + r.status);
      interval = maxAge(r);
      return r.json();
    }).then(function (data) {
      if (stopped) return;
      apply(data.changes);
      updateHeader(data.header);
      updateKeyEvents(data.key_events);
      cursor = data.cursor;
      failures = 0;
      connected(true);
      schedule(data.more ? 0 : nextDelay());
    }).catch(function () {
      failures += 1;
      connected(false);
      schedule(nextDelay());
    });
  }

  function showPending() {
    var empty = byId("empty");
    if (empty) empty.remove();
    var first = null;
    var ids = pending.slice();
    pending = [];
    ids.forEach(function (id) {
      var el = parse(pendingHtml[id]);
      placePinned(id, pendingHtml[id], pendingPinned[id]);
      delete pendingHtml[id];
      delete pendingPinned[id];
      if (byId("post-" + id)) return;
      if (order === "oldest") posts.appendChild(el);
      else posts.insertBefore(el, posts.firstChild);
      if (!first || order === "oldest") first = first || el;
      else first = el;
    });
    showButton();
    if (lastHeader) updateHeader(lastHeader);  // now the count may include them
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus({preventScroll: false});
    }
  }
  button.addEventListener("click", showPending);

  // Sort: submit the form on change (it works without script too), or, in an embed, ask it
  // to show the other order.
  var sort = byId("order");
  if (sort) {
    sort.form.querySelector(".sort-apply").hidden = true;
    sort.addEventListener("change", function () {
      if (options.reorder) options.reorder(sort.value); else sort.form.submit();
    });
  }

  // Older posts: "Load more" fetches the next page in place; it also fires when scrolled into
  // view. Without script it is a plain link to the next page.
  var more = byId("load-more");
  var loading = null;         // the page being loaded (a promise)
  function loadMore(event) {
    if (event) event.preventDefault();
    if (!more) return Promise.resolve();
    if (loading) return loading;
    var url = blogUrl("/fragments?order=" + order + "&cursor=" + encodeURIComponent(more.dataset.cursor));
    loading = fetch(url).then(function (r) { return r.json(); }).then(function (info) {
      var holder = document.createElement("template");
      holder.innerHTML = info.page;
      Array.prototype.forEach.call(holder.content.querySelectorAll("article.post"),
        function (el) { if (!byId(el.id)) posts.appendChild(relink(el)); });
      if (info.next_cursor) { more.dataset.cursor = info.next_cursor; }
      else { more.parentNode.remove(); more = null; }
    }).finally(function () { loading = null; });
    return loading;
  }

  // Permalinks (#lb-post-{id}): the post is shown, older pages loaded until it is there (an
  // iframe embed's frame.js asks with a "liveblog:show" event and hears "liveblog:shown").
  function show(id, pages) {
    var el = byId("post-" + id);
    if (el) {
      el.setAttribute("tabindex", "-1");
      el.classList.add("target");
      el.scrollIntoView({block: "start"});
      el.focus({preventScroll: true});
      document.dispatchEvent(new CustomEvent("liveblog:shown", {detail: el}));
    } else if (more && pages < 50 && !stopped) {
      loadMore().then(function () { show(id, pages + 1); }, function () {});
    }
  }
  function showTarget() {
    var match = /^#lb-post-([\w-]+)$/.exec(location.hash);
    if (match) show(match[1], 0);
  }
  function asked(event) { show(event.detail, 0); }
  if (more) {
    more.addEventListener("click", loadMore);
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) loadMore();
      }, {rootMargin: "400px"}).observe(more);
    }
  }
  function visible() { if (!document.hidden) schedule(0); }  // back on the tab: catch up at once
  function online() { failures = 0; schedule(0); }            // the network is back: ask at once
  var listening = [[window, "hashchange", showTarget], [document, "liveblog:show", asked],
                   [document, "visibilitychange", visible], [window, "online", online]];
  listening.forEach(function (l) { l[0].addEventListener(l[1], l[2]); });

  relink(root);
  // the first poll waits what the page's own Cache-Control allowed (a closed blog's is longer)
  if (byId("status").classList.contains("closed")) interval = CLOSED_INTERVAL;
  schedule(interval);
  showTarget();
  if (options.ready) options.ready();
  return function stop() {
    stopped = true;
    clearTimeout(timer);
    listening.forEach(function (l) { l[0].removeEventListener(l[1], l[2]); });
  };
}
