/* Corrections (editors) and review with redaction (the legal desk). */

import {api} from "./api.js";
import {errorSlot, h, showErrors, text} from "./dom.js";
import {isLegal, reload, screen, session, takeFlash} from "./state.js";
import {when, withZone} from "./times.js";

// -- corrections (editors) -------------------------------------------------------------------
// A published post's public corrections, and a form to add one: the text and its reason go
// under the post on the reader page and into its history. The post's version goes up, so
// the editor is opened again from what the server now holds (unsaved work is kept).

var CORRECTION_REASONS = ["factual", "spelling", "attribution", "update", "other"];

export function corrections(blogId, post) {
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
      if (res.status === 201) { session.flash = "Correction added."; reload(); return; }
      if (res.status === 412) { session.flash = "The post changed meanwhile: here it is now; add the correction again."; reload(); return; }
      showErrors(form, res, form.querySelector("[data-error-for=_correction]"));
    });
  });
  return form;
}

// -- review and redaction (legal) ------------------------------------------------------------
// The legal desk opens a post, reads its history, and redacts it with a reason after a
// confirmation that names what will be erased: every event's content, for good.

export function review(blogId, postId) {
  var view = screen();
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
               : isLegal() ? redaction(path, now, revisions)
               : h("p", {"class": "hint", id: "read-only-note", text: "Auditors read every version and its record; only the legal desk may redact."}));
  });
}

// What each stored field is called in the newsroom (history shows these, not field names).
var FIELD_WORDS = {headline: "headline", byline: "byline", body: "body", display_time: "shown time",
  status: "status", pinned: "pinned", key_event: "key event", publish_at: "scheduled time",
  corrections: "corrections", published_at: "publication time"};
export function fieldWords(name) {
  var block = /^body\.(\d+)$/.exec(name);
  if (block) return "paragraph " + (Number(block[1]) + 1);
  return FIELD_WORDS[name] || name.replace(/_/g, " ");
}

function revisionItem(r, zone) {
  var fields = Object.keys(r.changes || {}).concat(r.redacted_fields || []).map(fieldWords);
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
        (revisions.length === 1 ? " of its only version" : " of all " + revisions.length + " versions") +
        " are erased from storage. This cannot be undone."}),
      h("button", {type: "button", "class": "button danger", id: "redact-confirm-button", text: "Erase for good",
        onclick: function (event) {
          event.target.disabled = true;
          api("POST", path + "/redact", {reason: reason.value.trim()}).then(function (res) {
            if (res.status === 200) { session.flash = "Post redacted."; reload(); return; }
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