/* A blog's members: who writes on it, and as what. Admins give any role; the blog's editors
 * add and remove contributors (the server decides; refused changes show its answer). */

import {api} from "./api.js";
import {confirming, errorSlot, h, showErrors, text} from "./dom.js";
import {isAdmin, reload, screen, session, takeFlash} from "./state.js";

export function members(blogId) {
  var view = screen();
  var base = "/api/blogs/" + blogId + "/members";
  Promise.all([api("GET", "/api/blogs/" + blogId), api("GET", base)]).then(function (rs) {
    var blog = rs[0].data, list = rs[1].data;
    if (rs[1].status !== 200) { view.append(h("p", {"class": "error", text: list.detail})); return; }
    var actionError = errorSlot("_action");
    var rows = list.members.map(function (m) {
      var me = session.me && m.id === session.me.id;
      return h("tr", {"data-person-id": m.id}, [
        h("td", {text: m.name + (me ? " (you)" : "")}), h("td", {text: m.role}), h("td", {"class": "hint", text: m.id}),
        h("td", {}, [confirming(h("button", {type: "button", "class": "button danger", text: "Remove",
          "aria-label": "Remove " + m.name}),
          // removing oneself locks one out of the blog: asked first
          me ? "Confirm: remove yourself from this blog" : null, function () {
            api("DELETE", base + "/" + encodeURIComponent(m.id)).then(function (res) {
              if (res.status === 204) { session.flash = m.name + " is no longer a member."; reload(); }
              else showErrors(view, res, actionError);
            });
          })])]);
    });
    if (!rows.length) rows = [h("tr", {id: "no-members"}, [h("td", {colspan: "4", "class": "hint",
      text: "No members yet: newsroom-wide editors and admins write here; add contributors and editors of this blog below."})])];
    var role = h("select", {id: "member-role"}, (isAdmin() ? ["contributor", "editor"] : ["contributor"])
      .map(function (r) { return h("option", {value: r, text: r}); }));
    // people are picked by name, from those who could be added (token holders and people
    // who signed in), never by an opaque id
    var who = h("input", {id: "member-name", type: "text", required: true, list: "member-candidates", autocomplete: "off"});
    var choices = h("datalist", {id: "member-candidates"});
    var known = [];
    function label(c) { return c.name + " (" + c.kind + ")"; }
    function lookUp() {
      api("GET", "/api/blogs/" + blogId + "/candidates?q=" + encodeURIComponent(who.value.replace(/ \((token|signed in)\)$/, ""))).then(function (res) {
        if (res.status !== 200) return;
        known = res.data.candidates;
        choices.replaceChildren.apply(choices, known.map(function (c) { return h("option", {value: label(c)}); }));
      });
    }
    who.addEventListener("input", lookUp);
    lookUp();
    var form = h("form", {id: "add-member"}, [
      h("h2", {text: "Add a member"}),
      h("label", {"for": "member-name", text: "Person (start typing a name)"}), who, choices, errorSlot("person"),
      h("label", {"for": "member-role", text: "Role"}), role, errorSlot("role"),
      h("div", {"class": "actions"}, [h("button", {type: "submit", "class": "button primary", text: "Add"})]),
      errorSlot("_action")]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var typed = who.value.trim();
      var matches = known.filter(function (c) { return label(c) === typed || c.name === typed || c.id === typed; });
      if (matches.length !== 1) {
        showErrors(form, {status: 422, data: {errors: {person: [matches.length ?
          "Several people have that name: choose one from the list." :
          "No one by that name can be added: pick a name from the list (a token's holder, or someone who signed in)."]}}});
        return;
      }
      api("PUT", base + "/" + encodeURIComponent(matches[0].id), {role: role.value}).then(function (res) {
        if (res.status === 200) { session.flash = res.data.name + " is now " + res.data.role + "."; reload(); }
        else showErrors(form, res);
      });
    });
    view.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId, text: "← Back to the blog"})]),
      h("h1", {text: "Members of " + text(blog.title)}), takeFlash() || "", actionError,
      h("table", {id: "members-table"}, [
        h("thead", {}, [h("tr", {}, ["Name", "Role", "Id", "Actions"].map(function (t) { return h("th", {text: t}); }))]),
        h("tbody", {}, rows)]),
      form);
  });
}
