/* What the console's views share: the screen they draw on, the flash message the next view shows,
 * who is signed in, and what the shown view does when another replaces it. Views never call
 * the router: reload() asks it to draw the current route again. */

import {h} from "./dom.js";

const root = document.getElementById("view");
let current = root;

// Each route draws on a fresh screen: a view captures its screen when it starts, so an answer
// that comes back after the reader moved on draws nowhere.
export function newScreen() {
  current = document.createElement("div");
  current.className = "screen";
  root.replaceChildren(current);
  return current;
}
export function screen() { return current; }
export function clearScreen() { root.replaceChildren(); }
export const session = {flash: "", me: null};
export const leaving = [];   // what the shown view does when another replaces it
export const PRESENCE_EVERY = 5000, REFRESH_EVERY = 5000;

export function reload() { window.dispatchEvent(new Event("hashchange")); }

export function isLegal() { return session.me && session.me.role === "legal"; }
export function isAuditor() { return session.me && session.me.role === "auditor"; }
// Who reads every blog without writing on it: the legal desk and auditors.
export function readsAll() { return isLegal() || isAuditor(); }
// Whether the signed-in person can open a blog's view at all (the list shows only those).
export function mayOpen(blogId) { return Boolean(readsAll() || roleOn(blogId)); }

// The role the signed-in person writes with on a blog: "editor", "contributor" or null
// (the server decides; this only chooses which buttons to show).
export function roleOn(blogId) {
  var me = session.me;
  if (!me) return null;
  if (me.newsroom_wide && (me.role === "admin" || me.role === "editor")) return "editor";
  var found = (me.memberships || []).filter(function (m) { return m.blog === blogId; })[0];
  return found ? found.role : null;
}
export function isAdmin() { return session.me && session.me.newsroom_wide && session.me.role === "admin"; }

export function takeFlash() {
  var message = session.flash; session.flash = "";
  return message ? h("p", {"class": "hint", role: "status", id: "flash", text: message}) : null;
}
