/* What auditors and the legal desk read besides posts: whether the log verifies, and a blog's
 * events as the log holds them (who did what, when, in order). Read only. */

import {api} from "./api.js";
import {h, text} from "./dom.js";
import {screen} from "./state.js";
import {when} from "./times.js";

// The chain's state, as /api/audit/verify reports it (a walk of the whole log).
export function verifyStatus() {
  var line = h("p", {id: "verify-status", role: "status", text: "Checking the log's hash chain…"});
  api("GET", "/api/audit/verify").then(function (r) {
    if (r.status !== 200) { line.textContent = r.data.detail || "The log could not be checked."; return; }
    line.textContent = r.data.ok
      ? "The log verifies: " + r.data.events_checked.toLocaleString() + " events, head " +
        r.data.head.position + " (" + r.data.head.hash.slice(0, 12) + "…)" +
        (r.data.checkpoints_checked ? "; " + r.data.checkpoints_checked + " signed checkpoints hold." : ".")
      : "The log is broken at position " + r.data.first_bad_position + ": " + r.data.detail;
    line.className = r.data.ok ? "hint" : "error";
  });
  return h("section", {"class": "panel", "aria-labelledby": "audit-title"}, [
    h("h2", {id: "audit-title", text: "Audit"}), line]);
}

// One blog's events, a page at a time, oldest first.
export function eventLog(blogId) {
  var view = screen();
  var body = h("tbody", {});
  var more = h("button", {type: "button", "class": "button", id: "more-events", text: "More events", hidden: true});
  var after = 0;
  function page() {
    api("GET", "/api/events?blog=" + encodeURIComponent(blogId) + "&after=" + after + "&limit=100").then(function (r) {
      if (r.status !== 200) { view.append(h("p", {"class": "error", role: "alert", text: r.data.detail})); return; }
      r.data.events.forEach(function (e) {
        var actor = (e.metadata && e.metadata.actor) || {};
        body.append(h("tr", {"data-position": String(e.position)}, [
          h("td", {text: String(e.position)}), h("td", {text: when(e.recorded_at, null)}),
          h("td", {text: e.type + (e.redacted ? " (redacted)" : "")}),
          h("td", {text: text(actor.name || actor.id || "")}),
          h("td", {"class": "hint", text: e.stream.split("/").slice(2).join("/")})]));
      });
      after = r.data.next || after;
      more.hidden = r.data.next === null;
    });
  }
  more.addEventListener("click", page);
  view.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId, text: "← Back to the blog"})]),
    h("h1", {text: "Event log"}),
    h("table", {id: "event-log"}, [
      h("thead", {}, [h("tr", {}, ["Position", "Time", "Event", "By", "Stream"].map(function (t) { return h("th", {text: t}); }))]),
      body]), more);
  page();
}
