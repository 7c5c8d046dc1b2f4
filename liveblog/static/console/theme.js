/* A blog's theme, in its settings (its editors): accent, font, light/dark/auto and logo, with a
 * live preview before anything is saved: the blog's own iframe embed, wearing the theme being
 * edited. Its stylesheet (/blogs/<slug>/theme.css?accent=…) is made by the server by the same
 * rules as the saved theme's, so the preview is what readers will see. */

import {errorSlot, h, row} from "./dom.js";
import {upload} from "./editor/uploads.js";

const HOUSE_ACCENT = "#b00020";
const SCHEMES = [["light", "Light"], ["dark", "Dark"], ["auto", "As each reader's device prefers"]];

// A theme as the API takes it (null: the house style), from its parts.
function themeOf(accent, font, scheme, logoId) {
  var out = {color_scheme: scheme || "light"};
  if (accent) out.accent = accent.toLowerCase();
  if (font) out.font_family = font;
  if (logoId) out.logo_media_id = logoId;
  return Object.keys(out).length === 1 && out.color_scheme === "light" ? null : out;
}

// The theme a blog has, as themeOf makes it (to tell whether the editor changed it).
export function savedTheme(theme) {
  return theme ? themeOf(theme.accent, theme.font_family, theme.color_scheme, theme.logo_media_id) : null;
}

// The theme's fields and preview: {element, value()}.
export function themeEditor(blog) {
  var theme = blog.theme || {};
  var logo = {type: "image", media_id: theme.logo_media_id || null, url: theme.logo_url,
              width: theme.logo_width, height: theme.logo_height};
  var own = h("input", {type: "checkbox", id: "theme-own-accent", checked: Boolean(theme.accent)});
  var accent = h("input", {type: "color", id: "theme-accent", "aria-label": "Accent colour",
                           value: (theme.accent || HOUSE_ACCENT).toLowerCase()});
  var font = h("input", {type: "text", id: "theme-font", value: theme.font_family || "",
                         placeholder: "\"Source Serif 4\", Georgia, serif"});
  var scheme = h("select", {id: "theme-scheme"}, SCHEMES.map(function (s) {
    var option = h("option", {value: s[0], text: s[1]});
    option.selected = s[0] === (theme.color_scheme || "light");
    return option;
  }));
  var logoBox = h("div", {"class": "uploader", id: "theme-logo"});
  var fontError = errorSlot("theme.font_family");
  var frame = h("iframe", {id: "theme-preview", "class": "theme-preview",
    title: "Preview: the blog as readers will see it with this theme",
    src: "/blogs/" + encodeURIComponent(blog.slug) + "/embed"});

  function value() {
    return themeOf(own.checked ? accent.value : null, font.value.trim(), scheme.value, logo.media_id);
  }

  function renderLogo() {
    var id = "theme-logo-file";
    var status = h("p", {"class": "upload-status", role: "status",
      text: logo.uploading ? "Uploading " + (logo.file || "") + "…" : logo.uploadError || ""});
    logo.show = function () { status.textContent = "Uploading " + (logo.file || "") + "… " + (logo.progress || 0) + "%"; };
    var input = h("input", {type: "file", id: id, accept: "image/png,image/jpeg,image/webp,image/gif",
      onchange: function (e) { if (e.target.files[0]) upload({renderBlocks: renderLogo}, logo, e.target.files[0]); }});
    logoBox.replaceChildren(
      logo.media_id ? h("img", {"class": "preview logo-preview", src: logo.url, alt: "The logo"}) : "",
      h("label", {"for": id, text: logo.media_id ? "Replace the logo" : "Upload a logo (shown above the title)"}),
      input, status, errorSlot("theme.logo_media_id"),
      logo.media_id ? h("button", {type: "button", "class": "button", id: "theme-logo-remove", text: "Remove the logo",
        onclick: function () { logo.media_id = null; logo.url = null; renderLogo(); }}) : "");
    preview();
  }

  var timer = null;
  function preview() {
    clearTimeout(timer);
    timer = setTimeout(show, 150);
  }
  function show() {
    var doc = frame.contentDocument;
    var link = doc && doc.querySelector('link[href*="/theme.css"]');
    if (!link) return;
    var t = value() || {};
    var query = new URLSearchParams({color_scheme: t.color_scheme || "light"});
    if (t.accent) query.set("accent", t.accent);
    if (t.font_family) query.set("font_family", t.font_family);
    var url = "/blogs/" + encodeURIComponent(blog.slug) + "/theme.css?" + query;
    // asked first: a font list the server does not take is said beside the field
    fetch(url).then(function (r) {
      if (r.ok) { fontError.textContent = ""; link.href = url; }
      else return r.json().then(function (p) { fontError.textContent = p.detail; });
    });
    var header = doc.querySelector("header.story");
    var shown = header && header.querySelector(".logo");
    if (shown) shown.remove();
    if (header && logo.media_id) {
      var img = doc.createElement("img");
      img.src = logo.url; img.alt = "";
      var holder = doc.createElement("p");
      holder.className = "logo";
      holder.append(img);
      header.prepend(holder);
    }
  }
  [own, accent, font, scheme].forEach(function (input) { input.addEventListener("input", preview); });
  accent.addEventListener("input", function () { own.checked = true; });
  frame.addEventListener("load", show);
  renderLogo();

  var element = h("fieldset", {"class": "theme", id: "blog-theme"}, [
    h("legend", {text: "Look of the reader page and embeds"}),
    h("div", {"class": "accent-row"}, [own, h("label", {"for": "theme-own-accent", text: "Own accent colour"}),
      accent]),
    errorSlot("theme.accent"),
    h("div", {}, [h("label", {"for": "theme-font", text: "Font (a CSS font list; empty: the house font)"}), font, fontError]),
    row("theme-scheme", "Colours", scheme, "theme.color_scheme"),
    logoBox,
    h("p", {"class": "hint", text: "The preview shows the blog as it is now, in this theme. Nothing is saved until you save the settings."}),
    frame]);
  return {element: element, value: value};
}
