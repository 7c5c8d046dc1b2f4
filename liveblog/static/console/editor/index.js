/* The post editor: a form for a new post or an edit, put together from its parts (the draft
 * store, the block list with uploads, saving with merges and the conflict panel). They share
 * one object, ``ed``: what the editor holds (blocks, the version it started from) and its
 * fields. */

import {api} from "../api.js";
import {blockOut} from "../blocks.js";
import {errorSlot, h, text} from "../dom.js";
import {watchPresence} from "../presence.js";
import {corrections} from "../review.js";
import {reload, roleOn, screen, takeFlash} from "../state.js";
import {wallOf, when, withZone, zoneName, zonedTime} from "../times.js";
import {addButtons, focusBlock, renderBlocks} from "./blocklist.js";
import {draftStore} from "./drafts.js";
import {save} from "./save.js";
import {takeImagesOn} from "./uploads.js";

export function editor(blogId, postId) {
  var view = screen();
  Promise.all([api("GET", "/api/blogs/" + blogId),
               postId ? api("GET", "/api/blogs/" + blogId + "/posts/" + postId) : null])
  .then(withZone).then(function (rs) {
    var failed = rs.filter(function (r) { return r && r.status !== 200; })[0];
    if (failed) { view.append(h("p", {"class": "error", text: failed.data.detail})); return; }
    render(view, blogId, rs[1] ? rs[1].data : null, rs[0].data.timezone, rs[0].data.status);
  });
}

// The editor's state and fields, from the post (or nothing, for a new one).
function fields(blogId, post, zone) {
  var byline = post ? post.byline : {contributors: []};
  var ed = {
    blogId: blogId, post: post, zone: zone, base: "/api/blogs/" + blogId + "/posts",
    version: post ? post.version : null,
    blocks: post ? post.body.map(function (b) { return Object.assign({}, b); }) : [],
    merged: "", saving: false,
    headline: h("input", {type: "text", value: post ? text(post.headline) : ""}),
    contributors: h("input", {type: "text", value: (byline.contributors || []).map(text).join(", ")}),
    place: h("input", {type: "text", value: byline.location ? text(byline.location) : ""}),
    shown: h("input", {type: "datetime-local", id: "display-time"}),
    shownChoices: h("div", {id: "display-time-choices"}),
    pinned: h("input", {type: "checkbox", id: "pinned", checked: post && post.pinned}),
    keyEvent: h("input", {type: "checkbox", id: "key-event", checked: post && post.key_event}),
    blockList: h("div", {id: "blocks"}),
    publishAt: h("input", {type: "datetime-local", id: "publish-at"}),
    publishChoices: h("div", {id: "publish-at-choices"}),
    conflict: h("div", {id: "conflict"}),
    retry: h("button", {type: "button", "class": "button", id: "retry", text: "Retry", hidden: true}),
    drafts: draftStore(blogId, post)
  };
  ed.shownTime = zonedTime(ed.shown, zone, post && post.display_time !== post.published_at ? post.display_time : null, ed.shownChoices);
  ed.publishTime = zonedTime(ed.publishAt, zone, post && post.publish_at ? post.publish_at : null, ed.publishChoices);
  ed.content = function () { return content(ed); };
  ed.persist = function () { ed.drafts.persist(ed.content(), ed.version, ed.initial); };
  ed.renderBlocks = function (changed) { renderBlocks(ed, changed); };
  ed.focusBlock = function (index, what) { focusBlock(ed, index, what); };
  // What the editor started from: a save sends only the fields changed since, and merges
  // on a conflict.
  ed.initial = post ? ed.content() : null;
  restore(ed);
  return ed;
}

// The post as the form holds it, as the API takes it.
function content(ed) {
  var body = {headline: ed.headline.value,
    byline: {contributors: ed.contributors.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean)},
    body: ed.blocks.map(function (b) { return blockOut(b, ed.zone); }),
    pinned: ed.pinned.checked, key_event: ed.keyEvent.checked};
  if (ed.place.value.trim()) body.byline.location = ed.place.value.trim();
  var shownAt = ed.shownTime.resolve().iso;  // an unresolved time is refused by save()
  if (shownAt) body.display_time = shownAt; else if (ed.post) body.display_time = null;
  return body;
}

// Unsent work kept in this browser goes back into the form.
function restore(ed) {
  var kept = ed.drafts.kept;
  if (!kept) return;
  var c = kept.content;
  ed.headline.value = c.headline || "";
  ed.contributors.value = ((c.byline || {}).contributors || []).join(", ");
  ed.place.value = (c.byline || {}).location || "";
  ed.blocks = (c.body || []).map(function (b) { return Object.assign({}, b); });
  ed.pinned.checked = !!c.pinned; ed.keyEvent.checked = !!c.key_event;
  ed.shown.value = c.display_time ? wallOf(c.display_time, ed.zone) : "";
  if (ed.post && kept.version) ed.version = kept.version;  // the version this work started from
  if (ed.post && kept.base) ed.initial = kept.base;
}

function field(id, label, input, path, hint) {
  input.id = id;
  if (input.tagName === "INPUT" && input.type === "text") {
    // Enter in a one-line field must not publish a half-written post
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
  }
  return h("div", {}, [h("label", {"for": id, text: label}), input,
    hint ? h("p", {"class": "hint", text: hint}) : null, errorSlot(path)]);
}

// A contributor saves drafts and sends them for approval; an editor publishes them.
function contributorActions(ed) {
  var post = ed.post;
  var submit = h("button", {type: "button", "class": "button primary", id: "submit-for-approval",
    text: "Submit for approval", onclick: function () {
      if (!post) { save(ed, {status: "submitted"}, "Submitted for approval"); return; }
      var url = ed.base + "/" + post.id + "/submit";
      save(ed, null, "Submitted for approval").then(function () { return api("POST", url); });
    }});
  if (post && post.status !== "draft" && post.status !== "submitted") return [];
  var list = [h("button", {type: "submit", "class": "button", id: post ? "save" : "save-draft",
                           text: post ? "Save changes" : "Save draft"})];
  if (!post || post.status === "draft") list.push(submit);
  return list;
}

// Publish, draft and schedule for a new post; save, and publish or schedule an unpublished one.
function actions(ed) {
  var post = ed.post, zone = ed.zone;
  if (roleOn(ed.blogId) === "contributor") return contributorActions(ed);
  var scheduleLabel = h("label", {"for": "publish-at", "class": "inline-label", text: "Publish at (" + zoneName(zone) + ")"});
  if (!post) {
    return [
      h("button", {type: "submit", "class": "button primary", id: "publish", text: "Publish now"}),
      h("button", {type: "button", "class": "button", id: "save-draft", text: "Save draft",
        onclick: function () { save(ed, {status: "draft"}, "Draft saved"); }}),
      scheduleLabel, ed.publishAt,
      h("button", {type: "button", "class": "button", id: "schedule", text: "Schedule",
        onclick: function () { save(ed, {publish_at: "missing"}, "Scheduled"); }})];
  }
  var list = [h("button", {type: "submit", "class": "button primary", id: "save", text: "Save changes"})];
  if (post.status !== "published") {
    var again = post.status === "scheduled";
    list.push(h("button", {type: "button", "class": "button", id: "publish", text: "Publish now",
      onclick: function () { save(ed, {status: "published"}, "Published"); }}),
      scheduleLabel, ed.publishAt,
      h("button", {type: "button", "class": "button", id: "schedule", text: again ? "Reschedule" : "Schedule",
        onclick: function () { save(ed, {publish_at: "missing"}, again ? "Rescheduled" : "Scheduled"); }}));
  }
  return list;
}

function render(view, blogId, post, zone, blogStatus) {
  var ed = fields(blogId, post, zone);
  var contributor = roleOn(blogId) === "contributor";
  var form = ed.form = h("form", {id: "post-form", novalidate: true}, [
    field("headline", "Headline", ed.headline, "headline"),
    field("contributors", "Contributors (comma-separated)", ed.contributors, "byline.contributors"),
    field("location", "Location", ed.place, "byline.location"),
    field("display-time", "Shown time (" + zoneName(zone) + ")", ed.shown, "display_time",
          "On the blog's clock (" + zoneName(zone) + ", " + zone.replace(/_/g, " ") + "). Leave empty to show the publication time."),
    ed.shownChoices,
    contributor ? null : h("div", {"class": "inline"}, [ed.pinned, h("label", {"for": "pinned", text: "Pinned"}), ed.keyEvent,
                                   h("label", {"for": "key-event", text: "Key event"})]),
    h("h2", {text: "Body"}), ed.blockList, errorSlot("body"),
    h("div", {"class": "actions"}, addButtons(ed)),
    h("div", {"class": "actions"}, actions(ed)), ed.publishChoices, errorSlot("publish_at"),
    errorSlot("status"), errorSlot("_action"), ed.retry, ed.conflict]);
  form.addEventListener("input", ed.persist);
  form.addEventListener("change", ed.persist);
  takeImagesOn(ed, form);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save(ed, {}, post ? "Saved" : contributor ? "Draft saved" : "Published");
  });
  // Ctrl+Enter (Cmd+Enter on a Mac) anywhere in the form does what its main button does:
  // publish a new post, save an edit, save a contributor's draft
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    var main = form.querySelector("button[type=submit]");
    if (!main || main.disabled) return;
    ed.writeNext = !post;  // a new post: the next one is written straight after
    form.requestSubmit(main);
  });
  ed.renderBlocks();
  var kept = ed.drafts.kept;
  var restored = kept ? h("p", {"class": "hint", id: "draft-restored", role: "status"}, [
    "Restored your unsaved work from " + when(kept.saved_at) + ". ",
    h("button", {type: "button", "class": "button", id: "discard-draft", text: "Discard it",
      onclick: function () { ed.drafts.forget(); reload(); }})]) : null;
  var presenceLine = h("p", {"class": "presence", id: "presence", role: "status"});
  view.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId, text: "← Back to the blog"})]),
    h("h1", {text: post ? "Edit post" : "New post"}),
    takeFlash() || "",
    post ? h("p", {"class": "hint", id: "editing", text: "Editing version " + post.version + " · " + post.status}) : "",
    post && post.review_note ? h("p", {"class": "note", id: "review-note", role: "note",
      text: "Sent back by the editor: " + post.review_note}) : "",
    blogStatus === "closed" ? h("p", {"class": "note", id: "blog-closed", role: "note",
      text: "This blog is closed: nothing can be published or changed on it until an editor reopens it."}) : "",
    presenceLine, restored || "", form,
    post && post.status === "published" ? corrections(blogId, post) : "");
  ed.headline.focus();
  if (post) watchPresence(ed.base + "/" + post.id + "/presence", presenceLine);
}
