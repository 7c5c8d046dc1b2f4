/* The newsroom console: editors publish, and the legal desk reviews and redacts, from a browser
 * through the same API as curl. ES modules the browser loads as they are (no build step).
 *
 * The token lives in sessionStorage (this tab only); signing out forgets it. Every view is
 * fetched from the API when it is shown (the blog's post table then follows the log every
 * 5 s), so a reload shows what the API says; the one thing kept in the browser is work not yet
 * taken by the server (localStorage, until a save succeeds). Text from the API is put in the
 * page as text, never as HTML. */

import {api, forgetToken, setToken, signedIn, token, useSession} from "./api.js";
import {blogView, blogsView} from "./blogs.js";
import {editor} from "./editor/index.js";
import {review} from "./review.js";
import {eventLog} from "./audit.js";
import {members} from "./members.js";
import {settings} from "./settings.js";
import {inbox} from "./questions.js";
import {clearScreen, leaving, newScreen, readsAll, session} from "./state.js";

const CONSOLE_ROLES = ["admin", "editor", "contributor", "legal", "auditor"];

function withArticle(word) { return (/^[aeiou]/i.test(word) ? "an " : "a ") + word; }

// -- sign in / out ------------------------------------------------------------------------------

function signOut(message) {
  leaving.splice(0).forEach(function (fn) { fn(); });
  forgetToken();
  document.cookie = "liveblog_signed_in=; Max-Age=0; path=/";
  document.getElementById("app").hidden = true;
  document.getElementById("signin").hidden = false;
  document.getElementById("signin-error").textContent = message || "";
  clearScreen();
}

function start() {
  // a token this tab was given, else a session the identity provider's sign-in left (its
  // cookie is HttpOnly: a marker cookie beside it says it may be there)
  var hadToken = Boolean(token());
  if (!hadToken && document.cookie.split("; ").indexOf("liveblog_signed_in=1") < 0) {
    signOut("");
    return;
  }
  api("GET", "/api/me").then(function (r) {
    if (r.status !== 200) { signOut(hadToken ? "That token is unknown or revoked." : ""); return; }
    if (r.data.csrf_token) useSession(r.data.csrf_token);
    if (CONSOLE_ROLES.indexOf(r.data.role) < 0) {
      signOut("The console is for the newsroom's admins, editors, contributors, legal desk and auditors: " +
              withArticle(r.data.role || "reader") + " cannot sign in here.");
      return;
    }
    session.me = r.data;
    document.getElementById("who").textContent = "Signed in as " + r.data.name;
    document.getElementById("signin").hidden = true;
    document.getElementById("app").hidden = false;
    route();
  });
}

document.getElementById("signin-form").addEventListener("submit", function (event) {
  event.preventDefault();
  setToken(document.getElementById("token").value.trim());
  document.getElementById("token").value = "";
  start();
});
document.getElementById("signout").addEventListener("click", function () { signOut(); });
window.addEventListener("liveblog:signout", function (event) { signOut(event.detail); });

// -- routes -------------------------------------------------------------------------------------

function route() {
  leaving.splice(0).forEach(function (fn) { fn(); });
  if (!signedIn()) return;
  var parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  newScreen();
  if (parts[0] === "blogs" && parts[2] === "new") return editor(parts[1], null);
  if (parts[0] === "blogs" && parts[2] === "members") return members(parts[1]);
  if (parts[0] === "blogs" && parts[2] === "settings") return settings(parts[1]);
  if (parts[0] === "blogs" && parts[2] === "questions") return inbox(parts[1], parts[3]);
  if (parts[0] === "blogs" && parts[2] === "events") return eventLog(parts[1]);
  if (parts[0] === "blogs" && parts[2] === "posts" && parts[3]) {
    return readsAll() ? review(parts[1], parts[3]) : editor(parts[1], parts[3]);
  }
  if (parts[0] === "blogs" && parts[1]) return blogView(parts[1]);
  return blogsView();
}
window.addEventListener("hashchange", route);

start();
