/* The blogs: the list with a form for a new one, and one blog's posts, following the log. */

import {api} from "./api.js";
import {byId, confirming, errorSlot, h, showErrors, text} from "./dom.js";
import {REFRESH_EVERY, isAdmin, isLegal, leaving, mayOpen, readsAll, reload, roleOn, screen, session, takeFlash} from "./state.js";
import {verifyStatus} from "./audit.js";
import {inboxLink} from "./questions.js";
import {languageSelect, zoneSelect} from "./settings.js";
import {when, withZone} from "./times.js";

// -- blogs -----------------------------------------------------------------------------------

export function blogsView() {
  var view = screen();
  api("GET", "/api/blogs").then(function (r) {
    if (r.status !== 200) { view.append(h("p", {"class": "error", role: "alert", text: r.data.detail || "The blogs could not be listed."})); return; }
    // only the blogs this person can open: a member's own, or every one for a newsroom role
    var blogs = r.data.blogs.filter(function (b) { return mayOpen(b.id); });
    var list = blogs.length ? h("ul", {"class": "blogs", id: "blog-list"}, blogs.map(function (b) {
      return h("li", {}, [h("a", {href: "#/blogs/" + b.id, text: text(b.title)}), " ",
        h("span", {"class": "status " + b.status, text: b.status}), " ",
        h("span", {"class": "hint", text: b.post_count + " published"})]);
    })) : h("p", {"class": "hint", id: "no-blogs", text: "You are not a member of any blog yet: ask one of its editors to add you."});
    var form = h("form", {id: "new-blog"}, [
      h("h2", {text: "New blog"}),
      h("label", {"for": "blog-title", text: "Title"}), h("input", {id: "blog-title", type: "text", required: true}), errorSlot("title"),
      h("label", {"for": "blog-slug", text: "Slug (optional)"}), h("input", {id: "blog-slug", type: "text"}), errorSlot("slug"),
      h("label", {"for": "blog-authors", text: "Authors (comma-separated)"}), h("input", {id: "blog-authors", type: "text"}), errorSlot("authors"),
      h("label", {"for": "blog-description", text: "Description (optional)"}), h("textarea", {id: "blog-description", rows: "2"}), errorSlot("description"),
      h("label", {"for": "blog-timezone", text: "Time zone"}), zoneSelect("blog-timezone"), errorSlot("timezone"),
      h("label", {"for": "blog-language", text: "Language of the reader page"}), languageSelect("blog-language"), errorSlot("language"),
      h("div", {"class": "actions"}, [h("button", {type: "submit", "class": "button primary", text: "Create blog"})]),
      errorSlot("_action")
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {title: form.querySelector("#blog-title").value,
                  timezone: form.querySelector("#blog-timezone").value || "UTC",
                  language: form.querySelector("#blog-language").value};
      var description = form.querySelector("#blog-description").value.trim();
      if (description) body.description = description;
      var slug = form.querySelector("#blog-slug").value.trim();
      if (slug) body.slug = slug;
      var authors = form.querySelector("#blog-authors").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      if (authors.length) body.authors = authors;
      api("POST", "/api/blogs", body).then(function (res) {
        if (res.status === 201) { session.flash = "Blog created."; location.hash = "#/blogs/" + res.data.id; }
        else showErrors(form, res);
      });
    });
    var creates = isAdmin() || (session.me && session.me.newsroom_wide && session.me.role === "editor");
    view.append(h("h1", {text: "Blogs"}), takeFlash() || "", list, creates ? form : "",
      readsAll() ? verifyStatus() : "");
  });
}

// -- one blog --------------------------------------------------------------------------------

const STATUSES = "?status=draft,submitted,scheduled,published,deleted";

export function blogView(blogRef) {
  var view = screen();
  // the route may name the blog by id or by slug: the blog's own answer says which it is
  api("GET", "/api/blogs/" + blogRef).then(function (first) {
    if (first.status !== 200) {
      view.append(h("p", {"class": "error", role: "alert", text: first.status === 404 ?
        "There is no such blog." : (first.data.detail || "This blog could not be opened.")}));
      return;
    }
    var blogId = first.data.id;
    if (!mayOpen(blogId)) return notMember(view, first.data);
    // the legal desk and auditors see redacted posts too (marked so, with no content)
    var posts = "/posts" + STATUSES + (readsAll() ? ",redacted" : "");
    return api("GET", "/api/blogs/" + blogId + posts).then(function (second) {
      return withZone([first, second]);
    }).then(function (rs) { showBlog(view, blogId, rs, posts); });
  });
}

// A blog this person may not open (not, or no longer, a member): what they may see of it.
function notMember(view, blog) {
  view.append(h("h1", {text: text(blog.title)}),
    h("p", {id: "not-member", role: "status", text: "You are not a member of this blog, so its drafts and tools are not yours to see. Ask one of its editors to add you."}),
    h("p", {}, [h("a", {href: "/blogs/" + blog.slug, text: "Read it as readers do"}), " · ",
                h("a", {href: "#/blogs", text: "Back to your blogs"})]));
}

function showBlog(view, blogId, rs, postsPath) {
  var role = roleOn(blogId);
  var blog = rs[0].data;
  if (rs[1].status !== 200) return notMember(view, blog);  // removed meanwhile
  var posts = rs[1].data.posts;
  var actionError = errorSlot("_action");
  var closing = blog.status === "live";
  var toggle = confirming(h("button", {type: "button", "class": "button", id: "blog-status",
    text: closing ? "Close blog" : "Reopen blog"}),
    closing ? "Confirm: close this blog to readers' updates" : null, function () {
      api("POST", "/api/blogs/" + blogId + (closing ? "/close" : "/reopen"))
        .then(function (res) {
          if (res.status === 200) { session.flash = closing ? "Blog closed: readers see it as finished." : "Blog reopened."; reload(); }
          else showErrors(view, res, actionError);
        });
    });
  var tbody = h("tbody", {}, posts.map(function (p) { return postRow(blogId, p, actionError, [], blog.timezone); }));
  var queue = role === "editor" ? h("section", {id: "queue", "aria-labelledby": "queue-title"}) : null;
  if (queue) fillQueue(queue, blogId, posts, actionError);
  view.append(
    h("h1", {text: text(blog.title)}),
    h("p", {}, [h("span", {"class": "status " + blog.status, text: blog.status}), " ",
      h("a", {href: "/blogs/" + blog.slug, text: "Reader page"})].concat(readsAll() ? [" · ",
      h("a", {href: "#/blogs/" + blogId + "/events", id: "event-log-link", text: "Event log"})] : []).concat(readsAll() || !role ? [] : [" · ",
      h("a", {href: "#/blogs/" + blogId + "/new", id: "write", "class": "button primary", text: "Write a post"}), " ",
      role === "editor" ? toggle : "", " ",
      role === "editor" ? h("a", {href: "#/blogs/" + blogId + "/members", id: "members-link", text: "Members"}) : "", " ",
      role === "editor" ? h("a", {href: "#/blogs/" + blogId + "/settings", id: "settings-link", text: "Settings"}) : "",
      blog.questions_enabled ? " · " : "", blog.questions_enabled ? inboxLink(blogId) : ""])),
    takeFlash() || "", actionError, queue || "",
    h("table", {id: "posts-table"}, [
      h("thead", {}, [h("tr", {}, ["Headline", "Status", "Version", "Time", "Actions"].map(function (t) { return h("th", {text: t}); }))]),
      tbody]));
  if (!posts.length) view.append(h("p", {"class": "hint", id: "no-posts", text: "No posts yet."}));
  // Live: the table follows the log (a scheduled post going live, others' edits) and shows
  // who is editing what; a row whose delete is being confirmed is left alone meanwhile.
  var shown = JSON.stringify(posts), shownEditing = "[]";
  function refresh() {
    // who is editing what: for the blog's members (the legal desk and auditors read no
    // presence, so they never ask for it)
    var presence = role ? api("GET", "/api/blogs/" + blogId + "/presence")
                        : Promise.resolve({status: 200, data: {editors: []}});
    Promise.all([api("GET", "/api/blogs/" + blogId + postsPath), presence]).then(function (rs) {
      if (!document.body.contains(tbody) || rs[0].status !== 200 || rs[1].status !== 200) return;
      if (tbody.querySelector("input:not([hidden])")) return;
      var fresh = rs[0].data.posts, editing = rs[1].data.editors.filter(function (e) {
        return !session.me || e.name !== session.me.name; });
      if (JSON.stringify(fresh) === shown && JSON.stringify(editing) === shownEditing) return;
      shown = JSON.stringify(fresh); shownEditing = JSON.stringify(editing);
      if (queue) fillQueue(queue, blogId, fresh, actionError);
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
}

// The approval queue: every submitted post, oldest first, with its live count.
function fillQueue(queue, blogId, posts, actionError) {
  var waiting = posts.filter(function (p) { return p.status === "submitted"; }).reverse();
  queue.textContent = "";
  queue.append(h("h2", {id: "queue-title"}, ["Approval queue ", h("span", {id: "queue-count", "class": "count", text: String(waiting.length)})]));
  if (!waiting.length) { queue.append(h("p", {"class": "hint", text: "Nothing is waiting for approval."})); return; }
  queue.append(h("ul", {"class": "queue"}, waiting.map(function (p) {
    var url = "/api/blogs/" + blogId + "/posts/" + p.id;
    var note = h("input", {type: "text", "aria-label": "Note for " + (p.author ? p.author.name : "the author"), placeholder: "What should change?", hidden: true,
      onkeydown: function (e) { if (e.key === "Enter") { e.preventDefault(); send.click(); } }});
    var send = h("button", {type: "button", "class": "button", hidden: true, text: "Send back",
      onclick: function () {
        api("POST", url + "/reject", {note: note.value}).then(function (res) {
          if (res.status === 200) { session.flash = "Sent back to " + (p.author ? p.author.name : "its author") + "."; reload(); }
          else showErrors(screen(), res, actionError);
        });
      }});
    return h("li", {"data-post-id": p.id}, [
      h("a", {href: "#/blogs/" + blogId + "/posts/" + p.id, text: text(p.headline)}),
      h("span", {"class": "hint", text: " by " + (p.author ? p.author.name : "unknown") + " "}),
      h("button", {type: "button", "class": "button primary", text: "Approve",
        "aria-label": "Approve “" + text(p.headline) + "”",
        onclick: function () {
          api("POST", url + "/approve", undefined, {"If-Match": '"' + p.version + '"'}).then(function (res) {
            if (res.status === 200) { session.flash = "Approved: it is live."; reload(); }
            else if (res.status === 412) { session.flash = "The author changed it meanwhile; here it is now."; reload(); }
            else showErrors(screen(), res, actionError);
          });
        }}), " ",
      h("button", {type: "button", "class": "button", text: "Reject",
        "aria-label": "Reject “" + text(p.headline) + "”",
        onclick: function () { note.hidden = false; send.hidden = false; note.focus(); }}),
      note, send]);
  })));
}

function postRow(blogId, p, actionError, editing, zone) {
  var url = "/api/blogs/" + blogId + "/posts/" + p.id;
  var reason = h("input", {type: "text", "aria-label": "Reason for deleting", placeholder: "Reason", hidden: true});
  var confirm = h("button", {type: "button", "class": "button danger", hidden: true, text: "Confirm delete",
    onclick: function () {
      api("DELETE", url + "?reason=" + encodeURIComponent(reason.value), undefined, {"If-Match": '"' + p.version + '"'})
        .then(function (res) { if (res.status === 204) { session.flash = "Post deleted."; reload(); } else showErrors(screen(), res, actionError); });
    }});
  var live = p.status !== "deleted";
  var role = roleOn(blogId);
  var mine = session.me && p.author && p.author.id === session.me.id;
  var own = role === "contributor" && mine && (p.status === "draft" || p.status === "submitted");
  return h("tr", {"data-post-id": p.id}, [
    h("td", {}, [live || readsAll() ? h("a", {href: "#/blogs/" + blogId + "/posts/" + p.id, text: text(p.headline) || "(redacted)"}) : h("span", {text: text(p.headline)}),
      editing.length ? h("span", {"class": "presence", text: " · " + editing.join(", ") + (editing.length === 1 ? " is" : " are") + " editing"}) : null,
      p.review_note ? h("p", {"class": "note", text: "Sent back: " + p.review_note}) : null]),
    h("td", {}, [h("span", {"class": "status " + p.status, text: p.status})]),
    h("td", {"data-label": "Version", text: String(p.version)}),
    h("td", {text: p.status === "scheduled" ? "goes live " + when(p.publish_at, zone) : when(p.display_time || p.updated_at, zone)}),
    h("td", {}, own ? ownActions(url, p, actionError, reason, confirm) : live && role === "editor" ? [
      p.status === "published" ? confirming(h("button", {type: "button", "class": "button", text: "Unpublish",
        "aria-label": "Unpublish “" + text(p.headline) + "”"}), "Confirm: take it off air",
        function () {
          api("POST", url + "/unpublish").then(function (res) {
            if (res.status === 200) { session.flash = "Unpublished: back to draft."; reload(); }
            else showErrors(screen(), res, actionError);
          });
        }) : null, " ",
      h("button", {type: "button", "class": "button", text: p.pinned ? "Unpin" : "Pin",
        "aria-label": (p.pinned ? "Unpin " : "Pin ") + "“" + text(p.headline) + "”",
        onclick: function () {
          api("PATCH", url, {pinned: !p.pinned}, {"If-Match": '"' + p.version + '"'}).then(function (res) {
            if (res.status === 200) reload();
            else if (res.status === 412) { session.flash = "Someone changed that post meanwhile; here it is now."; reload(); }
            else showErrors(screen(), res, actionError);
          });
        }}), " ",
      h("button", {type: "button", "class": "button danger", text: "Delete",
        "aria-label": "Delete “" + text(p.headline) + "”",
        onclick: function () { reason.hidden = false; confirm.hidden = false; reason.focus(); }}),
      reason, confirm] : [])
  ]);
}
// What a contributor may do to their own unpublished post: send a draft for approval, delete.
function ownActions(url, p, actionError, reason, confirm) {
  return [
    p.status === "draft" ? h("button", {type: "button", "class": "button primary", text: "Submit",
      "aria-label": "Submit “" + text(p.headline) + "” for approval",
      onclick: function () {
        api("POST", url + "/submit").then(function (res) {
          if (res.status === 200) { session.flash = "Submitted for approval."; reload(); }
          else showErrors(screen(), res, actionError);
        });
      }}) : null, " ",
    h("button", {type: "button", "class": "button danger", text: "Delete",
      "aria-label": "Delete “" + text(p.headline) + "”",
      onclick: function () { reason.hidden = false; confirm.hidden = false; reason.focus(); }}),
    reason, confirm];
}
