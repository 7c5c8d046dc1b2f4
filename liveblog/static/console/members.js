/* A blog's members: who writes on it, and as what. Admins give any role; the blog's editors
 * add and remove contributors (the server decides; refused changes show its answer). */

import {api} from "./api.js";
import {errorSlot, h, showErrors, text} from "./dom.js";
import {confirming} from "./blogs.js";
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
    var form = h("form", {id: "add-member"}, [
      h("h2", {text: "Add a member"}),
      h("label", {"for": "member-id", text: "Person (a token's id, or the id of someone who has signed in)"}),
      h("input", {id: "member-id", type: "text", required: true}),
      h("label", {"for": "member-role", text: "Role"}), role, errorSlot("role"),
      h("div", {"class": "actions"}, [h("button", {type: "submit", "class": "button primary", text: "Add"})]),
      errorSlot("_action")]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = form.querySelector("#member-id").value.trim();
      api("PUT", base + "/" + encodeURIComponent(id), {role: role.value}).then(function (res) {
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
