/* The body's blocks in the editor: each with its fields (rich text where a block has text),
 * moved up or down, removed; focus stays with a block that moves, goes or comes. */

import {BLOCK_FIELDS, pollLines, richText} from "../blocks.js";
import {wallOf} from "../times.js";
import {errorSlot, h} from "../dom.js";
import {uploader} from "./uploads.js";

export function renderBlocks(ed, changed) {
  var blocks = ed.blocks, list = ed.blockList;
  list.textContent = "";
  blocks.forEach(function (block, i) {
    var fields = (BLOCK_FIELDS[block.type] || []).map(function (f) {
      var id = "block-" + i + "-" + f[0];
      if (f[2] === "rich") {
        return h("div", {}, [richText(id, f[1], block[f[0]] || "", function (html) {
          block[f[0]] = html; ed.persist();
        }), errorSlot("body." + i + "." + f[0])]);
      }
      if (block.type === "image" && f[0] === "url" && block.media_id) return null;
      if (block.type === "poll") pollValues(ed, block);
      var input = h(f[2] === "textarea" ? "textarea" : "input", {type: f[2] === "textarea" ? undefined : "text",
        id: id, value: block[f[0]] || "",
        oninput: function (e) { block[f[0]] = e.target.value; }});
      return h("div", {}, [h("label", {"for": id, text: f[1]}), input, errorSlot("body." + i + "." + f[0])]);
    });
    if (block.type === "image") fields.unshift(uploader(ed, block, i));
    if (block.type === "poll") pollFields(ed, block, fields);
    if (block.type === "embed") fields.push(embedPreview(block));
    list.append(h("div", {"class": "block", "data-index": String(i)}, [
      h("div", {"class": "block-head"}, [h("strong", {text: block.type}),
        h("button", {type: "button", "class": "button", text: "↑", "aria-label": "Move block " + (i + 1) + " up", disabled: i === 0,
          onclick: function () { blocks.splice(i - 1, 0, blocks.splice(i, 1)[0]); renderBlocks(ed, true); focusBlock(ed, i - 1, "up"); }}),
        h("button", {type: "button", "class": "button", text: "↓", "aria-label": "Move block " + (i + 1) + " down", disabled: i === blocks.length - 1,
          onclick: function () { blocks.splice(i + 1, 0, blocks.splice(i, 1)[0]); renderBlocks(ed, true); focusBlock(ed, i + 1, "down"); }}),
        h("button", {type: "button", "class": "button danger", text: "Remove", "aria-label": "Remove block " + (i + 1),
          onclick: function () { blocks.splice(i, 1); renderBlocks(ed, true); focusBlock(ed, Math.min(i, blocks.length - 1), "field"); }})]),
      errorSlot("body." + i), errorSlot("body." + i + ".type")].concat(fields)));
  });
  if (changed) ed.persist();
}

// A poll from the server: its answers one a line, its closing time on the blog's clock.
function pollValues(ed, block) {
  if (Array.isArray(block.options)) block.options = pollLines(block.options);
  if (block.closes_at && block.closes === undefined) block.closes = wallOf(block.closes_at, ed.zone);
}

// A saved poll's question and answers cannot change: they are shown, not edited.
function pollFields(ed, block, fields) {
  if (!block.id) return;
  fields.forEach(function (field) {
    var input = field && field.querySelector("input, textarea");
    if (input && (input.id.endsWith("-question") || input.id.endsWith("-options"))) input.readOnly = true;
  });
  fields.push(h("p", {"class": "hint", text: block.closed_at ? "This poll is closed." :
    "Readers vote on this question and these answers: they cannot change. Its closing time can."}));
}

// After a block moves, goes or comes, focus stays with it (the same button, or the block's
// first field; the headline when no block is left), never on <body>.
export function focusBlock(ed, index, what) {
  var block = ed.blockList.querySelector('[data-index="' + index + '"]');
  if (!block) { ed.headline.focus(); return; }
  var up = block.querySelector("[aria-label^='Move block'][aria-label$='up']");
  var down = block.querySelector("[aria-label^='Move block'][aria-label$='down']");
  // the same button again, else the other one (at the top, "up" is disabled)
  var target = what === "up" ? (up.disabled ? down : up) : what === "down" ? (down.disabled ? up : down) : null;
  if (!target || target.disabled) target = block.querySelector("input[type=text], textarea, [contenteditable=true]") || block.querySelector("button");
  target.focus();
}

// One "+ type" button a block type.
export function addButtons(ed) {
  return Object.keys(BLOCK_FIELDS).map(function (type) {
    return h("button", {type: "button", "class": "button", text: "+ " + type, "data-add": type,
      onclick: function () { ed.blocks.push({type: type}); renderBlocks(ed, true); focusBlock(ed, ed.blocks.length - 1, "field"); }});
  });
}

// What readers will see of an embed: the card the provider's oEmbed answer made when the post
// was saved (its thumbnail is our copy), or a note that it stays a link.
function embedPreview(block) {
  if (!block.url) return null;  // a new block: nothing to show until it has a link
  if (!block.title && !block.player) {
    return h("p", {"class": "hint embed-preview",
      text: "Saved as a link card (no provider answered for this URL, or it has not been saved yet)."});
  }
  return h("div", {"class": "embed-preview", role: "group", "aria-label": "Card readers see"}, [
    block.thumbnail_url ? h("img", {src: block.thumbnail_url, alt: "", width: "160"}) : null,
    h("p", {}, [h("strong", {text: block.provider || ""}), " ", h("span", {text: block.title || ""}),
      block.author_name ? h("span", {"class": "hint", text: " · " + block.author_name}) : null]),
    h("p", {"class": "hint", text: block.player ? "Readers load the player when they choose to." :
      "Readers get a link to the original."})]);
}
