/* A blog's settings (its editors): title, description, authors, organization, time zone,
 * language, when an idle blog closes, whether readers may send questions, and its theme
 * (theme.js). A save sends only what changed. */

import {api} from "./api.js";
import {errorSlot, h, row, showErrors, text} from "./dom.js";
import {reload, roleOn, screen, session, takeFlash} from "./state.js";
import {savedTheme, themeEditor} from "./theme.js";
import {zoneName} from "./times.js";

// The languages a reader page speaks (the service's list), by their own names.
export const LANGUAGES = [["en-US", "English (US)"], ["en-GB", "English (UK)"], ["fr-FR", "Français"],
  ["de-DE", "Deutsch"], ["es-ES", "Español"], ["pt-BR", "Português (Brasil)"],
  ["uk-UA", "Українська"], ["ar", "العربية"]];

export function languageSelect(id, chosen) {
  return h("select", {id: id}, LANGUAGES.map(function (l) {
    var option = h("option", {value: l[0], text: l[1]});
    option.selected = l[0] === (chosen || "en-US");
    return option;
  }));
}

// The blog's time zone from the IANA list (the browser's own first), never free text.
export function zoneSelect(id, chosen) {
  var zones = (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).slice();
  if (zones.indexOf("UTC") < 0) zones.unshift("UTC");
  var want = chosen || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  if (zones.indexOf(want) < 0) zones.unshift(want);
  return h("select", {id: id}, zones.map(function (zone) {
    var short = zoneName(zone), city = zone.replace(/_/g, " ");
    var option = h("option", {value: zone, text: short === city ? city : city + " (" + short + ")"});
    option.selected = zone === want;
    return option;
  }));
}

export function settings(blogId) {
  var view = screen();
  api("GET", "/api/blogs/" + blogId).then(function (r) {
    if (r.status !== 200) { view.append(h("p", {"class": "error", role: "alert", text: r.data.detail})); return; }
    var blog = r.data;
    if (roleOn(blog.id) !== "editor") {
      view.append(h("h1", {text: text(blog.title)}),
        h("p", {id: "not-member", role: "status", text: "Only this blog's editors change its settings."}));
      return;
    }
    var f = {
      title: h("input", {id: "settings-title", type: "text", value: text(blog.title)}),
      description: h("textarea", {id: "settings-description", rows: "3", value: text(blog.description)}),
      authors: h("input", {id: "settings-authors", type: "text", value: (blog.authors || []).map(text).join(", ")}),
      organization: h("input", {id: "settings-organization", type: "text", value: blog.organization ? text(blog.organization) : ""}),
      timezone: zoneSelect("settings-timezone", blog.timezone),
      language: languageSelect("settings-language", blog.language),
      archive: h("input", {id: "settings-archive", type: "number", min: "1", max: "36500",
        value: blog.archive_after_days === null ? "" : String(blog.archive_after_days)}),
      questions: h("input", {type: "checkbox", id: "settings-questions", checked: Boolean(blog.questions_enabled)})
    };
    var theme = themeEditor(blog);
    var form = h("form", {id: "blog-settings", novalidate: true}, [
      row("settings-title", "Title", f.title, "title"),
      row("settings-description", "Description", f.description, "description", "Shown under the title, and to search engines."),
      row("settings-authors", "Authors (comma-separated)", f.authors, "authors"),
      row("settings-organization", "Organization", f.organization, "organization"),
      row("settings-timezone", "Time zone", f.timezone, "timezone", "Times on the blog are shown on this clock."),
      row("settings-language", "Language of the reader page", f.language, "language"),
      row("settings-archive", "Close the blog after this many days without news (empty: never)", f.archive, "archive_after_days"),
      h("div", {"class": "check"}, [f.questions, h("label", {"for": "settings-questions",
        text: "Readers may send questions (to this blog's inbox; nothing is shown until an editor answers)"})]),
      theme.element,
      h("div", {"class": "actions"}, [h("button", {type: "submit", "class": "button primary", id: "save-settings", text: "Save settings"})]),
      errorSlot("_action")]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var now = {title: f.title.value, description: f.description.value,
        authors: f.authors.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean),
        organization: f.organization.value.trim() || null, timezone: f.timezone.value,
        language: f.language.value,
        archive_after_days: f.archive.value.trim() ? Number(f.archive.value) : null,
        questions_enabled: f.questions.checked, theme: theme.value()};
      var was = {title: text(blog.title), description: text(blog.description), authors: (blog.authors || []).map(text),
        organization: blog.organization ? text(blog.organization) : null, timezone: blog.timezone,
        language: blog.language, archive_after_days: blog.archive_after_days,
        questions_enabled: Boolean(blog.questions_enabled), theme: savedTheme(blog.theme)};
      var patch = {};
      Object.keys(now).forEach(function (k) { if (JSON.stringify(now[k]) !== JSON.stringify(was[k])) patch[k] = now[k]; });
      if (!Object.keys(patch).length) { session.flash = "Nothing changed."; location.hash = "#/blogs/" + blog.id; return; }
      // If-Match: the blog as this page read it (someone else's change meanwhile is a 412)
      api("PATCH", "/api/blogs/" + blog.id, patch, {"If-Match": r.etag}).then(function (res) {
        if (res.status === 200) { session.flash = "Settings saved."; location.hash = "#/blogs/" + blog.id; }
        else if (res.status === 412) { session.flash = "Someone changed these settings meanwhile: here they are now."; reload(); }
        else showErrors(form, res);
      });
    });
    view.append(h("p", {}, [h("a", {href: "#/blogs/" + blog.id, text: "← Back to the blog"})]),
      h("h1", {text: "Settings of " + text(blog.title)}), takeFlash() || "", form);
    f.title.focus();
  });
}
