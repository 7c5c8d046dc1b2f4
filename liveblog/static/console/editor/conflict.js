/* The conflict panel: the same field changed by this editor and another since the version this
 * one started from, side by side, to keep one's own or take theirs. Nothing is overwritten
 * silently. */

import {h, text} from "../dom.js";
import {reload} from "../state.js";
import {when} from "../times.js";

export const LABELS = {headline: "headline", byline: "byline", body: "body", display_time: "shown time",
                       pinned: "pin", key_event: "key event"};

function describe(ed, field, value) {
  if (field === "body") return value.map(function (b) { return "[" + b.type + "] " + text(b.text || b.caption || b.url || ""); }).join("\n");
  if (field === "byline") return (value.contributors || []).join(", ") + (value.location ? " in " + value.location : "");
  if (field === "display_time") return value ? when(value, ed.zone) : "(publication time)";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

// ``keepMine`` saves this editor's fields over the other's version.
export function showConflict(ed, body, both, theirs, now, keepMine) {
  var conflict = ed.conflict;
  conflict.textContent = "";
  var who = (theirs.updated_by && theirs.updated_by.name) || "Another editor";
  var rows = both.map(function (f) {
    return h("div", {"class": "sides", "data-field": f}, [
      h("div", {}, [h("h3", {text: who + "’s " + LABELS[f]}), h("pre", {"class": "theirs", text: describe(ed, f, now[f])})]),
      h("div", {}, [h("h3", {text: "Your " + LABELS[f]}), h("pre", {"class": "yours", text: describe(ed, f, body[f])})])]);
  });
  conflict.append(h("div", {"class": "conflict", role: "alert"}, [
    h("h2", {id: "conflict-title", text: who + " changed this post meanwhile"}),
    h("p", {text: "You started from version " + ed.version + "; " + who + " saved it as version " + theirs.version +
                 " at " + when(theirs.updated_at, ed.zone) + ", changing the same " +
                 both.map(function (f) { return LABELS[f]; }).join(", ") +
                 " as you. Nothing was overwritten; their other changes are kept either way."}),
    h("div", {id: "conflict-fields"}, rows),
    h("div", {"class": "actions"}, [
      h("button", {type: "button", "class": "button primary", id: "keep-mine", text: "Save mine over version " + theirs.version,
        onclick: function () { ed.version = theirs.version; ed.initial = now; conflict.textContent = ""; keepMine(); }}),
      h("button", {type: "button", "class": "button", id: "take-theirs", text: "Discard mine, load theirs",
        onclick: function () { ed.drafts.forget(); reload(); }})])]));
  conflict.scrollIntoView();
}
