/* A post's body blocks: their fields, how the API takes one, and rich text (Quill). */

import {h} from "./dom.js";

export const BLOCK_FIELDS = {
  paragraph: [["text", "Text", "rich"]],
  heading: [["text", "Text", "input"]],
  quote: [["text", "Quote", "rich"], ["attribution", "Attribution", "input"]],
  image: [["url", "Image URL", "input"], ["caption", "Caption", "input"],
          ["credit", "Credit", "input"], ["alt", "Alt text", "input"]],
  // the provider is found from the URL when the post is saved (oEmbed): nothing to type
  embed: [["url", "Link to the post or video (YouTube, Vimeo, X, Instagram, …)", "input"]]
};

// A block as the API takes it: its fields, and for an uploaded image its media_id (the
// server fills in where it is served and its size).
export function blockOut(b) {
  var out = {type: b.type};
  (BLOCK_FIELDS[b.type] || []).forEach(function (f) { if (b[f[0]]) out[f[0]] = b[f[0]]; });
  if (b.type === "image" && b.media_id) out.media_id = b.media_id;
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