/* Who else has a post open: a heartbeat while it is, a line naming the others. */

import {api, token} from "./api.js";
import {PRESENCE_EVERY, leaving, session} from "./state.js";

// -- presence --------------------------------------------------------------------------------

// While a post is open: a heartbeat every 5 s says so to other editors, and the line above
// the form names the others who have it open. Leaving the view (or the page) says so too.
export function watchPresence(url, line) {
  function beat() {
    api("PUT", url).then(function () { return api("GET", url); }).then(function (res) {
      if (res.status !== 200) return;
      var others = res.data.editors.filter(function (e) { return !session.me || e.name !== session.me.name; })
        .map(function (e) { return e.name; });
      line.textContent = others.length ? others.join(", ") + (others.length === 1 ? " is" : " are") +
        " editing this post too." : "";
    });
  }
  function leave() {
    clearInterval(timer);
    window.removeEventListener("pagehide", leave);
    fetch(url, {method: "DELETE", keepalive: true,
                headers: {"Authorization": "Bearer " + token()}}).catch(function () {});
  }
  beat();
  var timer = setInterval(beat, PRESENCE_EVERY);
  window.addEventListener("pagehide", leave);
  leaving.push(leave);
}