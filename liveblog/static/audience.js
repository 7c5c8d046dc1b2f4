/* The audience's voice: a blog's question form and its posts' polls. liveblogAudience(scope,
 * base) does it for the blog in scope (the document, or an embed's shadow root), asking the
 * service at base ("" on its own pages).
 *
 * A question goes with a proof of work (ALTCHA v1): GET /api/challenge, then the browser finds
 * n with SHA-256(salt + n) = challenge (WebCrypto, about a second), and sends the solution with
 * the question. A vote goes to POST /api/polls/{id}/votes; the answer says who voted (a token,
 * kept in this browser, for pages on another site where the service's cookie is not sent) and
 * the results, shown from then on (they are not shown before a reader votes, nor before the
 * poll closes). The page's words come from #audience-words, in the blog's language. */
/* exported liveblogAudience */
/* global liveblogCounted, liveblogFill, liveblogHex, liveblogPlurals */
function liveblogAudience(scope, base) {
  "use strict";
  var root = scope.getElementById("liveblog");
  var words = scope.getElementById("audience-words");
  if (!root || !words) return;
  var page = {scope: scope, base: base, words: words.dataset, slug: root.dataset.slug,
              key: "liveblog.polls." + (base || location.origin),
              plurals: liveblogPlurals(root)};
  liveblogQuestions(page);
  liveblogPolls(page);
}

function liveblogProblem(r) {
  "use strict";
  return r.json().then(function (p) { return p; }, function () { return {detail: "HTTP " + r.status}; });
}

// -- the proof of work ---------------------------------------------------------------------

async function liveblogSolve(challenge) {
  "use strict";
  var enc = new TextEncoder();
  for (var n = 0; n <= challenge.maxnumber; n++) {
    if (liveblogHex(new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(challenge.salt + n)))) === challenge.challenge) {
      return btoa(JSON.stringify({algorithm: challenge.algorithm, challenge: challenge.challenge,
                                  number: n, salt: challenge.salt, signature: challenge.signature}));
    }
  }
  throw new Error("no solution");
}

// -- questions -----------------------------------------------------------------------------

function liveblogQuestions(page) {
  "use strict";
  var form = page.scope.getElementById("ask-form");
  if (!form) return;
  var status = page.scope.getElementById("ask-status"), words = page.words;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var text = form.elements.text.value.trim();
    if (!text) { form.elements.text.focus(); return; }
    button.disabled = true;
    status.textContent = words.sending;
    fetch(page.base + "/api/challenge", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(liveblogSolve).then(function (solution) {
        var body = {text: text, altcha: solution};
        if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
        if (form.elements.contact.value.trim()) body.contact = form.elements.contact.value.trim();
        return fetch(page.base + "/api/blogs/" + encodeURIComponent(page.slug) + "/questions", {
          method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
      }).then(function (r) {
        if (r.status === 202) {
          form.reset();
          status.textContent = words.sent;
          return;
        }
        return liveblogProblem(r).then(function (p) {
          var said = p.errors ? Object.keys(p.errors).map(function (k) { return p.errors[k].join(" "); }).join(" ") : p.detail;
          status.textContent = liveblogFill(words.notSent, {reason: said});
        });
      }).catch(function (error) {
        status.textContent = liveblogFill(words.notSent, {reason: error.message});
      }).finally(function () { button.disabled = false; });
  });
}

// -- polls ---------------------------------------------------------------------------------

function liveblogPolls(page) {
  "use strict";
  var scope = page.scope, words = page.words;

  function counted(n) { return liveblogCounted(page.plurals, words.votes, n).join(String(n)); }
  function remembered() {
    try { return JSON.parse(localStorage.getItem(page.key) || "{}"); } catch (e) { return {}; }
  }
  function remember(update) {
    try { localStorage.setItem(page.key, JSON.stringify(Object.assign(remembered(), update))); } catch (e) { /* this page only */ }
  }
  function pollStatus(poll, text) {
    var out = poll.querySelector(".poll-status");
    if (out) out.textContent = text;
  }

  function showResults(poll, results, choice) {
    var list = document.createElement("ul");
    list.className = "poll-results";
    results.options.forEach(function (option) {
      var share = results.total ? Math.round(option.votes * 100 / results.total) : 0;
      var item = document.createElement("li");
      if (option.id === choice) item.className = "chosen";
      var label = document.createElement("span");
      label.className = "poll-text"; label.textContent = option.text;
      var number = document.createElement("span");
      number.className = "poll-share"; number.textContent = share + "%";
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = share; bar.setAttribute("aria-hidden", "true");
      item.append(label, " ", number, bar);
      list.append(item);
    });
    var choices = poll.querySelector(".poll-choices, .poll-results");
    if (choices) choices.replaceWith(list);
    var actions = poll.querySelector(".poll-actions");
    if (actions) actions.remove();
    pollStatus(poll, (results.closed ? words.closed + " · " : choice ? words.voted + " · " : "") +
                     counted(results.total));
  }

  function results(poll, choice) {
    return fetch(page.base + "/api/polls/" + encodeURIComponent(poll.dataset.poll), {headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) { showResults(poll, data, choice); });
  }

  function vote(poll) {
    var chosen = poll.querySelector("input[name=option]:checked");
    if (!chosen) { pollStatus(poll, words.choose); return; }
    var button = poll.querySelector(".poll-vote");
    button.disabled = true;
    var mine = remembered();
    var body = {option: chosen.value};
    if (mine.voter) body.voter = mine.voter;
    fetch(page.base + "/api/polls/" + encodeURIComponent(poll.dataset.poll) + "/votes", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 202) {
        return r.json().then(function (answer) {
          var update = {voter: answer.voter};
          update[poll.dataset.poll] = answer.choice;
          remember(update);
          if (answer.poll) showResults(poll, answer.poll, answer.choice);
          else results(poll, answer.choice).catch(function () {});
        });
      }
      return liveblogProblem(r).then(function (p) {
        if (r.status === 409) {  // voted already, or closed meanwhile: the results are due
          var choice = p.errors && p.errors.choice ? p.errors.choice[0] : null;
          if (choice) { var update = {}; update[poll.dataset.poll] = choice; remember(update); }
          return results(poll, choice);
        }
        pollStatus(poll, liveblogFill(words.notCounted, {reason: p.detail}));
      });
    }).catch(function (error) {
      pollStatus(poll, liveblogFill(words.notCounted, {reason: error.message}));
    }).finally(function () { button.disabled = false; });
  }

  scope.addEventListener("submit", function (event) {
    var poll = event.target.closest && event.target.closest("form.poll");
    if (!poll) return;
    event.preventDefault();
    vote(poll);
  });

  // polls this reader voted in show their results (a post the live updates bring again too)
  function showVoted() {
    var mine = remembered();
    scope.querySelectorAll("form.poll:not([data-closed])").forEach(function (poll) {
      if (mine[poll.dataset.poll] && !poll.querySelector(".poll-results")) {
        results(poll, mine[poll.dataset.poll]).catch(function () {});
      }
    });
  }
  showVoted();
  var posts = scope.getElementById("posts");
  if (posts && window.MutationObserver) {
    new MutationObserver(showVoted).observe(posts, {childList: true, subtree: true});
  }
}
