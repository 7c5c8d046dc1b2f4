/* The API, as the console calls it: the token of this tab, or the session cookie of a person
 * signed in through the newsroom's identity provider (whose writes echo its CSRF token), and
 * every POST with an Idempotency-Key kept until it is answered, so a retry or a second click
 * records nothing twice. */

export const KEY = "liveblog.token";
export function token() { return sessionStorage.getItem(KEY); }

// A signed-in session (no token in this tab): the cookie goes by itself; writes need the
// CSRF token /api/me gave.
var csrf = null;
export function useSession(value) { csrf = value; }
export function signedIn() { return Boolean(token() || csrf); }

// Every POST carries an Idempotency-Key, the same one for the same request until the server
// has answered it: a retry after a lost answer, or a second click, records nothing twice.
var idempotencyKeys = {};
function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
}

export const REFUSED = "Your token was refused: sign in again. Unsaved work is kept.";
export const OFFLINE = "Could not reach the server: nothing was sent, or its answer was lost. " +
              "Your work is kept in this browser; retry when you are back online.";

export function api(method, path, body, headers) {
  var all = {"Accept": "application/json"};
  if (token()) all["Authorization"] = "Bearer " + token();
  else if (csrf && method !== "GET") all["X-CSRF-Token"] = csrf;
  Object.keys(headers || {}).forEach(function (k) { all[k] = headers[k]; });
  var init = {method: method, headers: all, cache: "no-store"};
  if (body !== undefined) { all["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  var request = method + " " + path + "\n" + (init.body || "");
  if (method === "POST") {
    idempotencyKeys[request] = idempotencyKeys[request] || newKey();
    all["Idempotency-Key"] = idempotencyKeys[request];
  }
  return fetch(path, init).then(function (r) {
    delete idempotencyKeys[request];  // answered: a new attempt is a new request
    var etag = r.headers.get("ETag");
    if (r.status === 204) return {status: 204, data: null, etag: etag};
    return r.json().catch(function () { return {}; }).then(function (data) {
      if (r.status === 401) signedOut(REFUSED);
      return {status: r.status, data: data, etag: etag};
    });
  }, function () {
    return {status: 0, data: {detail: OFFLINE}, etag: null};  // the key is kept for the retry
  });
}

export function setToken(value) { sessionStorage.setItem(KEY, value); }
export function forgetToken() {
  sessionStorage.removeItem(KEY);
  if (csrf) fetch("/logout", {method: "POST", headers: {"X-CSRF-Token": csrf}});  // every node
  csrf = null;
}

// A refused token signs the console out (main.js listens), whatever view asked.
export function signedOut(message) {
  window.dispatchEvent(new CustomEvent("liveblog:signout", {detail: message}));
}
