/* Saving a post: a new one is created, an edit sends only the fields changed since the version
 * the editor started from (so it never reverts a pin or anything else someone set meanwhile),
 * and a save that finds the post changed meanwhile merges: different fields by themselves, the
 * same field through the conflict panel. */

import {api} from "../api.js";
import {blockOut} from "../blocks.js";
import {showErrors, text} from "../dom.js";
import {reload, session} from "../state.js";
import {LABELS, showConflict} from "./conflict.js";

const FIELDS = ["headline", "byline", "body", "display_time", "pinned", "key_event"];

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

function done(ed, res, message) {
  ed.drafts.forget();
  session.flash = message + " (version " + res.data.version + ").";
  if (ed.writeNext) {  // published from the keyboard: a fresh composer, the cursor in it
    var next = "#/blogs/" + ed.blogId + "/new";
    if (location.hash === next) reload(); else location.hash = next;
    return;
  }
  location.hash = "#/blogs/" + ed.blogId;
}

function busy(ed, on) {
  ed.saving = on;
  ed.form.setAttribute("aria-busy", on ? "true" : "false");
  ed.form.querySelectorAll(".actions button").forEach(function (b) { b.disabled = on; });
}

function failed(ed, res, again) {
  showErrors(ed.form, res);  // the keyboard goes to the first field in error
  ed.retry.hidden = res.status !== 0;
  ed.retry.onclick = again;
  if (res.status === 0) ed.retry.focus();
}

// What stops a save before anything is sent (an upload under way, a time that does not
// exist or happens twice, a schedule with no time): shown at its field; else the extra
// fields with the schedule's instant resolved.
function refused(ed, extra) {
  var form = ed.form;
  if (ed.blocks.some(function (b) { return b.uploading; })) {
    showErrors(form, {status: 409, data: {detail: "An image is still uploading: save when it is done."}});
    return true;
  }
  var times = [["display_time", ed.shownTime.resolve()]];
  if (extra && "publish_at" in extra) times.push(["publish_at", ed.publishTime.resolve()]);
  var unresolved = times.filter(function (t) { return t[1].error; });
  if (unresolved.length) {
    var errors = {};
    unresolved.forEach(function (t) { errors[t[0]] = [t[1].error]; });
    showErrors(form, {status: 422, data: {errors: errors}});
    return true;
  }
  if (extra && "publish_at" in extra && !ed.publishTime.resolve().iso) {
    showErrors(form, {status: 422, data: {errors: {publish_at: ["Choose the date and time it goes live."]}}});
    ed.publishAt.focus();
    return true;
  }
  return false;
}

// fields: after a merge, the fields this editor changed from the version they started from
// (the base is now the other editor's version, which the form does not show)
export function save(ed, extra, message, fields) {
  if (ed.saving) return Promise.resolve();  // a second click while the first is on its way
  if (refused(ed, extra)) return Promise.resolve();
  if (extra && "publish_at" in extra) extra = Object.assign({}, extra, {publish_at: ed.publishTime.resolve().iso});
  var body = Object.assign(ed.content(), extra || {});
  var again = function () { save(ed, extra, message, fields); };
  ed.persist();
  busy(ed, true);
  ed.retry.hidden = true;
  if (!ed.post) {
    return api("POST", ed.base, body).then(function (res) {
      busy(ed, false);
      if (res.status === 201) done(ed, res, message); else failed(ed, res, again);
    });
  }
  var mine = fields || changedFields(body, ed.initial);
  var patch = {};
  mine.forEach(function (f) { patch[f] = body[f]; });
  Object.keys(extra || {}).forEach(function (k) { patch[k] = extra[k]; });
  if (!Object.keys(patch).length) {
    busy(ed, false); ed.drafts.forget(); session.flash = "Nothing changed."; location.hash = "#/blogs/" + ed.blogId;
    return Promise.resolve();
  }
  return api("PATCH", ed.base + "/" + ed.post.id, patch, {"If-Match": '"' + ed.version + '"'}).then(function (res) {
    busy(ed, false);
    if (res.status === 200) done(ed, res, ed.merged ? message + ", merged with changes made meanwhile to " + ed.merged : message);
    else if (res.status === 412) merge(ed, body, mine, extra, message);
    else failed(ed, res, again);
  });
}

// Someone saved meanwhile: a three-way merge against what this editor started from.
// Different fields merge by themselves (and the flash says so); the same field changed on
// both sides is shown side by side to choose.
function merge(ed, body, mine, extra, message) {
  api("GET", ed.base + "/" + ed.post.id).then(function (res) {
    if (res.status !== 200) { failed(ed, res, function () { merge(ed, body, mine, extra, message); }); return; }
    var theirs = res.data, now = contentOf(theirs);
    var theirsChanged = changedFields(now, ed.initial);
    var both = mine.filter(function (f) { return theirsChanged.indexOf(f) >= 0; });
    if (!both.length) {
      ed.merged = theirsChanged.map(function (f) { return LABELS[f]; }).join(", ") || "nothing";
      ed.version = theirs.version; ed.initial = now;
      save(ed, extra, message, mine);
      return;
    }
    showConflict(ed, body, both, theirs, now, function () { save(ed, extra, message, mine); });
  });
}
