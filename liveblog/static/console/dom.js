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

// A form's field: its label, the input, a hint, the slot its error shows in.
export function row(id, label, input, path, hint) {
  return h("div", {}, [h("label", {"for": id, text: label}), input,
    hint ? h("p", {"class": "hint", text: hint}) : null, errorSlot(path)]);
}

export function errorSlot(path) { return h("p", {"class": "error", "data-error-for": path, role: "alert"}); }

// The API's validators speak to programmers; the console speaks to the newsroom.
var WORDS = [
  [/^Missing data for required field\.$/, function () { return "This cannot be left empty."; }],
  [/^Field may not be null\.$/, function () { return "This cannot be left empty."; }],
  [/^Length must be between (\d+) and (\d+)\.$/, function (m) {
    return m[1] === "1" ? "Write at most " + m[2] + " characters (and not nothing)." : "Write between " + m[1] + " and " + m[2] + " characters."; }],
  [/^Longer than maximum length (\d+)\.$/, function (m) { return "Write at most " + m[1] + " characters."; }],
  [/^Shorter than minimum length (\d+)\.$/, function (m) { return "Write at least " + m[1] + " characters."; }],
  [/^Not a valid URL\.$/, function () { return "This is not a web address: give the full URL, starting with https://."; }],
  [/^Not a valid datetime\.$/, function () { return "This is not a date and time."; }],
  [/^Not a valid string\.$/, function () { return "Write text here."; }],
  [/^Unknown field\.$/, function () { return "The console sent something the server does not know: reload the page."; }],
  [/^Must be one of: (.*)\.$/, function (m) { return "Choose one of: " + m[1] + "."; }]];
export function newsroomWords(message) {
  for (var i = 0; i < WORDS.length; i++) {
    var m = WORDS[i][0].exec(message);
    if (m) return WORDS[i][1](m);
  }
  return message;
}

export function showErrors(root, response, fallback) {
  root.querySelectorAll(".error").forEach(function (el) { el.textContent = ""; });
  var data = response.data || {};
  var general = root.querySelector("[data-error-for=_action]") || fallback;
  var unplaced = [], first = null;
  Object.keys(data.errors || {}).forEach(function (path) {
    var slot = root.querySelector('[data-error-for="' + path + '"]');
    var message = data.errors[path].map(newsroomWords).join(" ");
    if (slot) { slot.textContent = message; first = first || slot; }
    else unplaced.push(path + ": " + message);
  });
  var detail = data.detail || ("The request failed (" + response.status + ").");
  if (general) general.textContent = unplaced.length ? detail + " " + unplaced.join("; ") :
    (data.errors ? "Please correct the fields marked above." : detail);
  focusError(first || (general && general.textContent ? general : null));
}

// After a refusal the keyboard goes to the first field in error (else to the message), never
// back to the top of the page.
function focusError(slot) {
  if (!slot) return;
  var holder = slot.parentElement, field = null;
  for (var el = slot.previousElementSibling; el; el = el.previousElementSibling) {
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName) || el.isContentEditable) { field = el; break; }
    var inner = el.querySelector && el.querySelector("input, select, textarea, [contenteditable=true]");
    if (inner) { field = inner; break; }
  }
  if (!field && holder) field = holder.querySelector("input, select, textarea, [contenteditable=true]");
  if (field && !field.disabled && field.offsetParent !== null) { field.focus(); return; }
  slot.setAttribute("tabindex", "-1");
  slot.focus();
}

export function byId(id) { return document.getElementById(id); }

// A button that acts on a second click only: the first turns it into "Confirm: ..." for a few
// seconds (taking a blog or a post off air is one click too many to undo). ``question`` null:
// it acts at once.
export function confirming(button, question, act) {
  var label = button.textContent, named = button.getAttribute("aria-label"), timer = null;
  function back() {
    clearTimeout(timer); delete button.dataset.confirming; button.textContent = label;
    button.classList.remove("danger");
    if (named) button.setAttribute("aria-label", named);
  }
  button.addEventListener("click", function () {
    if (!question || button.dataset.confirming) { back(); act(); return; }
    button.dataset.confirming = "1";
    button.textContent = question;
    if (named) button.setAttribute("aria-label", question);
    button.classList.add("danger");
    timer = setTimeout(back, 6000);
  });
  button.addEventListener("blur", function () { if (button.dataset.confirming) back(); });
  return button;
}
