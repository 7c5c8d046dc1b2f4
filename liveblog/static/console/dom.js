/* Building the page: elements from data, sanitised fragments as text, errors beside their fields. */

// h("tag", {attr: value, onclick: fn, text: "..."}, [children]) -> element
export function h(tag, attrs, children) {
  var el = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    var value = attrs[key];
    if (value === undefined || value === null || value === false) return;
    if (key === "text") el.textContent = value;
    else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = !!value;
    else el.setAttribute(key, value === true ? "" : value);
  });
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) return;
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return el;
}

// The text of a sanitised HTML fragment (DOMParser documents run no script, load nothing).
export function text(fragment) {
  var doc = new DOMParser().parseFromString("<body>" + (fragment || "") + "</body>", "text/html");
  return doc.body.textContent;
}

export function errorSlot(path) { return h("p", {"class": "error", "data-error-for": path, role: "alert"}); }

export function showErrors(root, response, fallback) {
  root.querySelectorAll(".error").forEach(function (el) { el.textContent = ""; });
  var data = response.data || {};
  var general = root.querySelector("[data-error-for=_action]") || fallback;
  var unplaced = [];
  Object.keys(data.errors || {}).forEach(function (path) {
    var slot = root.querySelector('[data-error-for="' + path + '"]');
    var message = data.errors[path].join(" ");
    if (slot) slot.textContent = message; else unplaced.push(path + ": " + message);
  });
  var detail = data.detail || ("The request failed (" + response.status + ").");
  if (general) general.textContent = unplaced.length ? detail + " " + unplaced.join("; ") :
    (data.errors ? "Please correct the fields marked above." : detail);
}

export function byId(id) { return document.getElementById(id); }
