/* A post's body blocks: their fields, how the API takes one, and rich text (Quill). */

import {h} from "./dom.js";
import {instantsOf} from "./times.js";

export const BLOCK_FIELDS = {
  paragraph: [["text", "Text", "rich"]],
  heading: [["text", "Text", "input"]],
  quote: [["text", "Quote", "rich"], ["attribution", "Attribution", "input"]],
  image: [["url", "Image URL", "input"], ["caption", "Caption", "input"],
          ["credit", "Credit", "input"], ["alt", "Alt text", "input"]],
  // the provider is found from the URL when the post is saved (oEmbed): nothing to type
  embed: [["url", "Link to the post or video (YouTube, Vimeo, X, Instagram, …)", "input"]],
  // readers vote; once saved, its question and answers stay (the votes are for them)
  poll: [["question", "Question", "input"], ["options", "Answers, one a line (2 to 6)", "textarea"],
         ["closes", "Closes at, on the blog's clock (YYYY-MM-DDTHH:MM; empty: when an editor closes it)", "input"]]
};

// A poll's answers as the editor holds them: one a line.
export function pollLines(options) {
  return Array.isArray(options) ? options.map(function (o) { return o.text || o; }).join("\n") : options || "";
}

// A block as the API takes it: its fields, and for an uploaded image its media_id (the
// server fills in where it is served and its size).
export function blockOut(b, zone) {
  if (b.type === "poll") return pollOut(b, zone);
  var out = {type: b.type};
  (BLOCK_FIELDS[b.type] || []).forEach(function (f) { if (b[f[0]]) out[f[0]] = b[f[0]]; });
  if (b.type === "image" && b.media_id) out.media_id = b.media_id;
  return out;
}

function pollOut(b, zone) {
  var out = {type: "poll", question: b.question || "",
             options: pollLines(b.options).split("\n").map(function (s) { return s.trim(); }).filter(Boolean)};
  if (b.id) out.id = b.id;
  if (b.closes === undefined) {  // as the server has it (not shown in a form)
    if (b.closes_at) out.closes_at = b.closes_at;
    return out;
  }
  var closes = b.closes.trim();
  if (closes) out.closes_at = instantsOf(closes, zone)[0] || closes;  // a time it cannot be: said at the field
  return out;
}

// -- rich text ---------------------------------------------------------------------------------

// A text field of a body block as a rich-text editor (Quill, vendored, served by the app):
// bold, italic and links, no raw HTML in sight. The API keeps inline HTML, one line break
// (<br>) between lines; the server sanitises it again.
export function richText(id, label, html, onchange) {
  var holder = h("div", {"class": "rich-text"});
  holder.innerHTML = html ? "<p>" + html.split(/<br\s*\/?>/i).join("</p><p>") + "</p>" : "";
  var labelEl = h("span", {"class": "label", id: id + "-label", text: label});
  var box = h("div", {"class": "rich-field"}, [labelEl, holder]);
  var quill = new window.Quill(holder, {
    theme: "snow", formats: ["bold", "italic", "link"], placeholder: label + "…",
    modules: {toolbar: [["bold", "italic", "link"]]}
  });
  var root = quill.root;
  root.id = id;
  root.setAttribute("role", "textbox");
  root.setAttribute("aria-multiline", "true");
  root.setAttribute("aria-labelledby", id + "-label");
  box.querySelectorAll(".ql-toolbar button").forEach(function (b) {
    b.setAttribute("aria-label", ({"ql-bold": "Bold", "ql-italic": "Italic", "ql-link": "Link"})[b.className] || b.className);
    b.setAttribute("tabindex", "-1");  // the editor's own shortcuts: Ctrl+B, Ctrl+I, Ctrl+K
  });
  box.querySelectorAll(".ql-tooltip input").forEach(function (input) {
    input.setAttribute("aria-label", "Link address");
  });
  quill.on("text-change", function (delta, old, source) {
    if (source === "user") onchange(inlineHtml(root));
  });
  return box;
}

function inlineHtml(root) {
  var lines = Array.prototype.map.call(root.children, function (line) {
    var html = line.innerHTML;
    return html === "<br>" ? "" : html;
  });
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("<br>");
}