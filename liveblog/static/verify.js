/* "Verify" on each post: checks, in the reader's own browser (WebCrypto), that this version of
 * the post is in the site's public transparency log (GET /api/.../proof, GET /log/key).
 *
 * It hashes each event's record (the hash chain's hash, the Merkle leaf), checks each payload
 * against the hash its record holds, each leaf's inclusion in the signed checkpoint's tree
 * (RFC 9162 2.1.3.2) and the checkpoint's Ed25519 signature (C2SP signed note) with the log's
 * key, then says in plain words what that proves and what it does not. liveblogVerify(scope,
 * base) does it for the blog in scope (the document, or an embed's shadow root), asking the
 * service at base ("" on its own pages). */
/* exported liveblogVerify */
/* global liveblogFill, liveblogHex */
function liveblogVerify(scope, base) {
  "use strict";
  var root = scope.getElementById("liveblog");
  var words = scope.getElementById("verify-words");
  if (!root || !words || !window.crypto || !crypto.subtle) return;
  var slug = root.dataset.slug;
  var enc = new TextEncoder();

  function fail(reason) { throw new Error(reason); }

  function b64(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function concat() {
    var parts = Array.prototype.slice.call(arguments), size = 0, at = 0;
    parts.forEach(function (p) { size += p.length; });
    var out = new Uint8Array(size);
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function equal(a, b) { return a.length === b.length && a.every(function (x, i) { return x === b[i]; }); }
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
  function node(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }

  // RFC 9162 2.1.3.2: does the path put the leaf at index in the tree of size with root?
  async function included(index, size, leaf, path, root) {
    if (index >= size) return false;
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await node(path[i], r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, path[i]);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // a vkey: name+hex(key id)+base64(0x01 || Ed25519 public key), its id checked
  async function parseKey(vkey) {
    // name+id+key: the key's base64 may hold "+" too
    var parts = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(vkey.trim());
    if (!parts) fail("the log's key is not a verifier key");
    parts = parts.slice(1);
    var raw = b64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) fail("the log's key is not an Ed25519 key");
    var id = (await sha256(concat(enc.encode(parts[0] + "\n"), raw))).slice(0, 4);
    if (liveblogHex(id) !== parts[1]) fail("the log's key does not match its id");
    var key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { name: parts[0], id: id, key: key };
  }

  // a signed checkpoint: origin, size and root, once the log's signature over it holds
  async function openCheckpoint(note, log) {
    var split = note.lastIndexOf("\n\n");
    if (split < 0) fail("the checkpoint is not a signed note");
    var text = note.slice(0, split + 1), signed = false;
    var lines = note.slice(split + 2).split("\n").filter(Boolean);
    for (var i = 0; i < lines.length; i++) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(lines[i]);
      if (!m || m[1] !== log.name) continue;
      var sig = b64(m[2]);
      if (!equal(sig.slice(0, 4), log.id)) continue;
      if (!await crypto.subtle.verify({ name: "Ed25519" }, log.key, sig.slice(4), enc.encode(text)))
        fail("the checkpoint's signature does not verify");
      signed = true;
    }
    if (!signed) fail("the checkpoint is not signed with the log's key");
    var body = text.split("\n");
    return { origin: body[0], size: parseInt(body[1], 10), root: b64(body[2]) };
  }

  async function checkEvent(proven, checkpoint) {
    var chain = await sha256(enc.encode(proven.record));
    var record = JSON.parse(proven.record);
    if (record.position !== proven.leaf_index + 1) fail("an event is not where its proof says");
    if (!proven.redacted && liveblogHex(await sha256(enc.encode(proven.data))) !== record.data_hash)
      fail("the post's words are not the ones the log recorded");
    var leaf = await sha256(concat(new Uint8Array([0]), chain));
    if (!await included(proven.leaf_index, checkpoint.size, leaf, proven.inclusion.map(b64), checkpoint.root))
      fail("an event is not in the signed log");
    return record;
  }

  async function verify(article) {
    var proofAnswer = await fetch(base + "/api/blogs/" + encodeURIComponent(slug) + "/posts/" +
      encodeURIComponent(article.dataset.postId) + "/proof?version=" + article.dataset.version);
    var proof = await proofAnswer.json();
    if (!proofAnswer.ok) fail(proof.detail || "no proof of this version");
    var log = await parseKey(await (await fetch(base + "/log/key")).text());
    var tlogProof = proof.tlog_proof, head = tlogProof.indexOf("\n\n");
    var checkpoint = await openCheckpoint(tlogProof.slice(head + 2), log);
    if (checkpoint.origin !== log.name) fail("the checkpoint is of another log");
    var last = null;
    for (var i = 0; i < proof.events.length; i++) last = await checkEvent(proof.events[i], checkpoint);
    if (!last || liveblogHex(await sha256(enc.encode(proof.record))) !== proof.hash ||
        proof.events[proof.events.length - 1].record !== proof.record)
      fail("the proof does not cover this version");
    return { origin: checkpoint.origin, size: checkpoint.size, index: last.position,
             time: new Date(last.recorded_at).toLocaleString(root.dataset.lang || undefined),
             key: log.name + "+" + liveblogHex(log.id), events: proof.events.length };
  }

  function result(article) {
    var out = article.querySelector(".verify-result");
    if (!out) {
      out = document.createElement("div");
      out.className = "verify-result";
      out.setAttribute("role", "status");
      article.querySelector(".post-meta").after(out);
    }
    return out;
  }

  scope.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.verify");
    if (!button) return;
    var article = button.closest("article.post"), out = result(article);
    out.className = "verify-result";
    out.textContent = words.dataset.checking;
    button.disabled = true;
    verify(article).then(function (found) {
      out.className = "verify-result verified";
      out.textContent = "";
      var said = document.createElement("p");
      said.textContent = liveblogFill(words.dataset.ok, found);
      var meaning = document.createElement("p");
      meaning.textContent = words.dataset.meaning;
      out.append(said, meaning);
    }, function (error) {
      out.className = "verify-result failed";
      out.textContent = liveblogFill(words.dataset.failed, { reason: error.message });
    }).finally(function () { button.disabled = false; });
  });
}
