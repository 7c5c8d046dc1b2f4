/* Images in the editor: chosen, pasted or dropped, uploaded at once with a progress bar; the
 * block then names the image by its media_id. */

import {REFUSED, signedOut, token} from "../api.js";
import {errorSlot, h} from "../dom.js";

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

// The file picker, preview and progress of an image block.
export function uploader(ed, block, i) {
  var id = "block-" + i + "-file";
  var status = h("p", {"class": "upload-status", id: "block-" + i + "-upload-status", role: "status",
    text: block.uploading ? "Uploading " + (block.file || "") + "…" :
          block.media_id ? "Uploaded" + (block.width ? " (" + block.width + " × " + block.height + " px)" : "") : ""});
  var bar = h("progress", {id: "block-" + i + "-progress", max: "100", value: String(block.progress || 0),
                          "aria-label": "Upload progress", hidden: !block.uploading});
  block.show = function () {
    bar.value = block.progress || 0;
    status.textContent = "Uploading " + (block.file || "") + "… " + (block.progress || 0) + "%";
  };
  var input = h("input", {type: "file", id: id, accept: IMAGE_TYPES.join(","),
    onchange: function (e) { if (e.target.files[0]) upload(ed, block, e.target.files[0]); }});
  var preview = block.media_id && block.url ?
    h("img", {"class": "preview", src: block.url, alt: "", width: block.width, height: block.height}) : null;
  return h("div", {"class": "uploader"}, [preview,
    h("label", {"for": id, text: block.media_id ? "Replace the image" : "Upload an image (or paste or drop one)"}),
    input, bar, status, errorSlot("body." + i + ".media_id"),
    block.uploadError ? h("p", {"class": "error", role: "alert", text: block.uploadError}) : null]);
}

// XMLHttpRequest, not fetch: only it reports the upload's progress.
export function upload(ed, block, file) {
  block.uploadError = null;
  if (IMAGE_TYPES.indexOf(file.type) < 0) {
    block.uploadError = (file.name || "That file") + " is not a JPEG, PNG, WebP or GIF image.";
    ed.renderBlocks(false);
    return;
  }
  block.uploading = true; block.progress = 0; block.file = file.name || "image";
  ed.renderBlocks(false);
  var xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/media");
  xhr.setRequestHeader("Authorization", "Bearer " + token());
  xhr.setRequestHeader("Content-Type", file.type);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.onprogress = function (e) {
    if (!e.lengthComputable) return;
    block.progress = Math.round(100 * e.loaded / e.total);
    if (block.show) block.show();
  };
  xhr.onload = function () {
    var data = null;
    try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
    block.uploading = false;
    if ((xhr.status === 200 || xhr.status === 201) && data) {
      block.progress = 100;
      block.media_id = data.id; block.url = data.url;
      block.width = data.width; block.height = data.height;
      ed.renderBlocks(true);
    } else {
      if (xhr.status === 401) signedOut(REFUSED);
      block.uploadError = (data && data.detail) || "The upload failed (" + xhr.status + ").";
      ed.renderBlocks(false);
    }
  };
  xhr.onerror = function () {
    block.uploading = false;
    block.uploadError = "Could not reach the server: the image was not uploaded. Try again.";
    ed.renderBlocks(false);
  };
  xhr.send(file);
}

// Image files pasted or dropped anywhere on the form become image blocks, uploaded at once:
// taken in the capture phase, before the rich-text editor would take them as text.
export function takeImagesOn(ed, form) {
  function imagesIn(list) {
    return Array.prototype.filter.call(list || [], function (f) { return f.type.indexOf("image/") === 0; });
  }
  function take(e, files) {
    files = imagesIn(files);
    if (!files.length) return;
    e.preventDefault(); e.stopPropagation();
    files.forEach(function (file) {
      var block = {type: "image"};
      ed.blocks.push(block);
      upload(ed, block, file);
    });
    ed.focusBlock(ed.blocks.length - 1, "field");
  }
  form.addEventListener("paste", function (e) {
    take(e, e.clipboardData && e.clipboardData.files);
  }, true);
  form.addEventListener("dragover", function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0) {
      e.preventDefault(); form.classList.add("dropping");
    }
  });
  form.addEventListener("dragleave", function () { form.classList.remove("dropping"); });
  form.addEventListener("drop", function (e) {
    form.classList.remove("dropping");
    take(e, e.dataTransfer && e.dataTransfer.files);
  }, true);
}
