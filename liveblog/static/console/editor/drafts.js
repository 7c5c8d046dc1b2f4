/* The draft store: work not yet taken by the server is kept in this browser (it survives a
 * reload, a refused token, going offline) until a save succeeds, with the version it started
 * from and what the post was then (the base of a merge). */

export function draftStore(blogId, post) {
  var key = "liveblog.draft." + blogId + "." + (post ? post.id : "new");
  var kept = null;
  try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
  return {
    // what was kept, if anything: {content, version, base, saved_at}
    kept: kept && kept.content ? kept : null,
    persist: function (content, version, base) {
      try {
        localStorage.setItem(key, JSON.stringify({content: content, version: version, base: base,
                                                  saved_at: new Date().toISOString()}));
      } catch (e) { /* storage full or refused: the form still holds the work */ }
    },
    forget: function () { localStorage.removeItem(key); }
  };
}
