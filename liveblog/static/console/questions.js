/* A blog's questions inbox (its editors and contributors): readers' questions waiting, oldest
 * first, followed live (every 5 s); answer one with a post that quotes it (an editor's is
 * published, a contributor's goes to the approval queue), reject it, or delete it for good.
 * Contacts are shown to the blog's editors only (the server leaves them out for others). */

import {api} from "./api.js";
import {confirming, errorSlot, h, showErrors} from "./dom.js";
import {REFRESH_EVERY, leaving, reload, roleOn, screen, session, takeFlash} from "./state.js";

const TABS = [["pending", "Waiting"], ["answered", "Answered"], ["rejected", "Rejected"]];

// "Questions (3)": the blog's link to its inbox, its count kept live.
export function inboxLink(blogId) {
  var count = h("span", {"class": "badge-count", id: "questions-count", text: ""});
  var link = h("a", {href: "#/blogs/" + blogId + "/questions", id: "questions-link"}, ["Questions ", count]);
  function refresh() {
    api("GET", "/api/blogs/" + blogId + "/questions?status=pending").then(function (r) {
      if (r.status === 200) count.textContent = "(" + r.data.counts.pending + ")";
    });
  }
  refresh();
  var timer = setInterval(refresh, REFRESH_EVERY);
  leaving.push(function () { clearInterval(timer); });
  return link;
}

export function inbox(blogId, status) {
  var view = screen();
  status = status || "pending";
  var list = h("ol", {"class": "questions", id: "questions"});
  var counts = h("p", {"class": "hint", id: "question-counts", role: "status"});
  var problem = errorSlot("_action");
  var tabs = h("p", {"class": "tabs"}, TABS.map(function (t) {
    return h("a", {href: "#/blogs/" + blogId + "/questions/" + t[0], "aria-current": t[0] === status ? "page" : null,
      id: "questions-" + t[0], text: t[1]});
  }));
  view.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId, text: "← Back to the blog"})]),
    h("h1", {text: "Readers' questions"}), takeFlash() || "", tabs, counts, problem, list);
  var shown = null;
  function refresh() {
    api("GET", "/api/blogs/" + blogId + "/questions?status=" + status).then(function (r) {
      if (!document.body.contains(list)) return;
      if (r.status !== 200) { problem.textContent = (r.data && r.data.detail) || "The inbox could not be read."; return; }
      counts.textContent = r.data.counts.pending + " waiting · " + r.data.counts.answered + " answered · " +
        r.data.counts.rejected + " rejected";
      var fresh = JSON.stringify(r.data.questions);
      if (fresh === shown || list.querySelector("textarea:focus, .answering")) return;
      shown = fresh;
      list.replaceChildren.apply(list, r.data.questions.map(function (q) { return item(blogId, q, problem); }));
      if (!r.data.questions.length) list.append(h("li", {"class": "hint", id: "no-questions", text: "No questions here."}));
    });
  }
  refresh();
  var timer = setInterval(refresh, REFRESH_EVERY);
  leaving.push(function () { clearInterval(timer); });
}

function item(blogId, q, problem) {
  var path = "/api/blogs/" + blogId + "/questions/" + q.id;
  var who = [q.name || "Anonymous"];
  if (q.contact) who.push(q.contact);
  var li = h("li", {"class": "question", id: "question-" + q.id}, [
    h("blockquote", {}, [h("p", {"class": "question-text", text: q.text})]),
    h("p", {"class": "hint", text: who.join(" · ") + " · " + new Date(q.created_at).toLocaleString()})]);
  if (q.status === "answered" && q.post_id) {
    li.append(h("p", {}, [h("a", {href: "#/blogs/" + blogId + "/posts/" + q.post_id, text: "The answer"}),
      " (" + (q.moderated_by || "") + ")"]));
  }
  var actions = h("p", {"class": "actions"});
  if (q.status === "pending") {
    actions.append(
      h("button", {type: "button", "class": "button primary", text: "Answer", "aria-label": "Answer “" + q.text.slice(0, 40) + "”",
        onclick: function () { answerForm(blogId, q, li, problem); }}), " ",
      h("button", {type: "button", "class": "button", text: "Reject", "aria-label": "Reject “" + q.text.slice(0, 40) + "”",
        onclick: function (e) {
          e.target.disabled = true;
          api("POST", path + "/reject").then(function (r) {
            if (r.status === 200) { session.flash = "Question rejected: it stays out of the blog."; reload(); }
            else { e.target.disabled = false; showErrors(screen(), r, problem); }
          });
        }}), " ");
  }
  var remove = h("button", {type: "button", "class": "button danger", text: "Delete", "aria-label": "Delete “" + q.text.slice(0, 40) + "”"});
  confirming(remove, "Confirm: delete for good", function () {
    return api("DELETE", path).then(function (r) {
      if (r.status === 204) { session.flash = "Question deleted for good."; reload(); }
      else showErrors(screen(), r, problem);
    });
  });
  actions.append(remove);
  li.append(actions);
  return li;
}

function answerForm(blogId, q, li, problem) {
  if (li.querySelector("form")) return;
  li.classList.add("answering");
  var id = "answer-" + q.id;
  var headline = h("input", {type: "text", id: id + "-headline", value: q.text.slice(0, 120)});
  var answer = h("textarea", {id: id, rows: "4"});
  var contributor = roleOn(blogId) === "contributor";
  var form = h("form", {"class": "answer-form", novalidate: true}, [
    h("label", {"for": id + "-headline", text: "Headline"}), headline, errorSlot("headline"),
    h("label", {"for": id, text: "Your answer (the question is quoted above it)"}), answer, errorSlot("body"),
    h("p", {"class": "actions"}, [
      h("button", {type: "submit", "class": "button primary", text: contributor ? "Send for approval" : "Publish the answer"}), " ",
      h("button", {type: "button", "class": "button", text: "Cancel",
        onclick: function () { form.remove(); li.classList.remove("answering"); }})]),
    errorSlot("_action")]);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var paragraphs = answer.value.split(/\n\s*\n/).map(function (p) { return p.trim(); }).filter(Boolean);
    var body = {body: paragraphs.map(function (p) { return {type: "paragraph", text: escapeText(p).replace(/\n/g, "<br>")}; })};
    if (headline.value.trim()) body.headline = headline.value.trim();
    api("POST", "/api/blogs/" + blogId + "/questions/" + q.id + "/answer", body).then(function (r) {
      if (r.status === 201) {
        session.flash = contributor ? "Answer sent to the editors for approval." : "Answer published.";
        reload();
      } else showErrors(form, r, problem);
    });
  });
  li.append(form);
  answer.focus();
}

// The answer is typed as plain text: its characters are text, not markup.
function escapeText(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
