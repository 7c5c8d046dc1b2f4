/* Embeds behind the reader's consent. A post's embed is a card (provider, title, a thumbnail
 * from this site's own media store, a link to the original): nothing is loaded from the
 * provider until the reader presses "Load", and then only the provider's own player, in a
 * sandboxed iframe on the provider's origin (the page's CSP frames no other). "Always load"
 * keeps the choice for that provider in this browser (localStorage); it can be taken back.
 * liveblogConsent(scope) does it for the blog in scope (the document, or an embed's shadow root). */
/* exported liveblogConsent */
function liveblogConsent(scope) {
  "use strict";
  var KEY = "liveblog.embeds.";

  function allowed(provider) {
    try { return localStorage.getItem(KEY + provider) === "always"; } catch (e) { return false; }
  }
  function remember(provider, always) {
    try {
      if (always) localStorage.setItem(KEY + provider, "always");
      else localStorage.removeItem(KEY + provider);
    } catch (e) { /* storage refused: the choice holds for this page only */ }
  }

  function load(card) {
    if (!card.dataset.player || card.dataset.loaded) return;
    var frame = document.createElement("iframe");
    frame.src = card.dataset.player;
    frame.title = card.dataset.provider + ": " + (card.dataset.title || "embedded content");
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-presentation");
    frame.setAttribute("allow", "encrypted-media; picture-in-picture; fullscreen");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.className = "embed-frame";
    card.dataset.loaded = "true";
    var stop = document.createElement("button");
    stop.type = "button";
    stop.className = "embed-forget";
    var root = scope.getElementById("liveblog");
    var words = (root && root.dataset.stopLabel) || "Stop loading {provider} automatically";
    stop.textContent = words.split("{provider}").join(card.dataset.provider);
    stop.hidden = !allowed(card.dataset.provider);
    // the player takes the thumbnail's place (one 16:9 box, not two), the consent goes
    var thumbnail = card.querySelector(".embed-thumbnail");
    if (thumbnail) thumbnail.replaceWith(frame); else card.insertBefore(frame, card.firstChild);
    card.querySelector(".embed-consent").replaceWith(stop);
    return frame;
  }

  // a thumbnail of a player is a way to load it (with a pointer; the button is the keyboard's)
  function markThumbnails(scope) {
    scope.querySelectorAll(".embed-card[data-player] .embed-thumbnail").forEach(function (img) {
      img.setAttribute("data-loads", "");
    });
  }

  function loadAllowed(scope) {
    markThumbnails(scope);
    scope.querySelectorAll(".embed-card[data-player]").forEach(function (card) {
      if (allowed(card.dataset.provider)) load(card);
    });
  }

  scope.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var card = target.closest(".embed-card");
    if (!card) return;
    var thumbnail = target.classList.contains("embed-thumbnail") && card.dataset.player;
    if (target.classList.contains("embed-load") || thumbnail) {
      // the reader asked (the button, or the thumbnail of a player): load it, and the
      // keyboard follows to the player
      var always = card.querySelector(".embed-always");
      if (always && always.checked) remember(card.dataset.provider, true);
      var frame = load(card);
      if (frame) frame.focus();
      if (always && always.checked) loadAllowed(scope);  // every card of that provider
    } else if (target.classList.contains("embed-forget")) {
      remember(card.dataset.provider, false);
      target.hidden = true;
    }
  });

  loadAllowed(scope);
  var posts = scope.getElementById("posts");
  if (posts && window.MutationObserver) {   // posts the live updates add
    new MutationObserver(function () { loadAllowed(posts); })
      .observe(posts, {childList: true, subtree: true});
  }
}
