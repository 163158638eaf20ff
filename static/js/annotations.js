/* Consilium annotations: discussion messages pinned to a region of a photo,
 * a moment of a video or a point on a DICOM slice.
 *
 * - Draws every annotation over its media for everyone: an SVG overlay on
 *   photos and DICOM slices, markers under videos. Loaded from the discussion
 *   panel's data-annotations and kept live from the `consilium:case-frame`
 *   events discussion.js re-dispatches (message.new / updated / deleted,
 *   history).
 * - Adds "Annotate" under photos (drag an arrow, circle or box; or move and
 *   resize a preset box with the arrow keys), "Comment at 0:12" under videos
 *   and "Comment on this slice" in the DICOM viewer (click the point, or
 *   move a crosshair with the arrow keys). Each hands the anchor to the
 *   discussion composer with a `consilium:annotate` event: the note is an
 *   ordinary message, so it goes through the PHI gate like any other.
 * - Labels the chip on anchored messages ("Image 2 · box", "Video 1 · 0:12",
 *   "CT slice 34"); clicking one highlights the region, seeks the video or
 *   opens the viewer at the slice.
 *
 * This file: the chips' clicks, the live frames and start-up. The parts it
 * uses (annotations_*.js, listed in annotations_data.js) are loaded before it
 * and share Consilium.annotations.
 */
(function () {
  "use strict";

  var A = window.Consilium.annotations;
  var initialHash = A.initialHash;
  var PhotoStage = A.PhotoStage;
  var VideoStage = A.VideoStage;
  var SliceStage = A.SliceStage;
  var caseId = A.caseId;
  var href = A.href;
  var relabelChips = A.relabelChips;
  var upsertFromMessage = A.upsertFromMessage;
  var remove = A.remove;
  var setFocus = A.setFocus;

  var notes = A.notes;
  var stages = A.stages;

  // --- chips and frames ---------------------------------------------------------------

  function open(id, anchor) {
    var stage = anchor.media != null ? stages.get(anchor.media) : null;
    if (!stage) return false;
    if (!notes.has(id) && anchor.media != null) notes.set(id, { id: id, author: "", text: "", anchor: anchor });
    setFocus(id);
    stage.focus(id, anchor.frame);
    return true;
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("[data-anchor-chip]");
    if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button) return;
    var anchor;
    try { anchor = JSON.parse(a.dataset.anchor); } catch (e) { return; }
    var id = Number(a.dataset.anchorChip);
    if (open(id, anchor)) {
      ev.preventDefault();
      return;
    }
    if (anchor.media == null) return;
    if (anchor.kind === "slice") {
      ev.preventDefault();
      window.location.href = href(anchor) + "#annotation-" + id;
    } else if (!document.querySelector("[data-media-list]")) {
      // A topic page without the gallery: open the case page at the place.
      ev.preventDefault();
      window.location.href = "/cases/" + caseId() + "/#annotation-" + id;
    }
  });

  document.addEventListener("consilium:case-frame", function (ev) {
    var f = ev.detail || {};
    if (f.type === "message.new" || f.type === "message.updated") upsertFromMessage(f.message);
    else if (f.type === "message.deleted") remove(f.id);
    else if (f.type === "history") (f.messages || []).forEach(upsertFromMessage);
    if (f.type === "message.new" || f.type === "history") relabelChips();
  });

  function decorate(li) {
    var media = Number(li.dataset.asset);
    var kind = li.dataset.kind;
    if (li.dataset.status !== "ready" && li.dataset.status !== "needs_review") return;
    if (kind === "image" && li.querySelector(".media-item__img")) stages.set(media, new PhotoStage(li));
    else if (kind === "video" && li.querySelector("video")) stages.set(media, new VideoStage(li));
  }

  function start() {
    var root = document.querySelector("[data-discussion]");
    if (!root) return;
    try {
      JSON.parse(root.dataset.annotations || "[]").forEach(function (n) { notes.set(n.id, n); });
    } catch (e) { /* no annotations */ }
    var list = document.querySelector("[data-media-list]");
    if (list) {
      list.querySelectorAll("[data-asset]").forEach(decorate);
      // The gallery replaces an item's markup when its state changes.
      new MutationObserver(function (changes) {
        changes.forEach(function (c) {
          c.addedNodes.forEach(function (n) { if (n.nodeType === 1 && n.dataset.asset) decorate(n); });
        });
        relabelChips();
      }).observe(list, { childList: true });
    }
    var viewer = document.querySelector("[data-dicom-viewer][data-media-id]");
    if (viewer && viewer.querySelector("[data-dicom-img]")) {
      stages.set(Number(viewer.dataset.mediaId), new SliceStage(viewer));
    }
    relabelChips();
    var m = /^#annotation-(\d+)$/.exec(initialHash);
    if (m) {
      var id = Number(m[1]);
      var note = notes.get(id);
      if (note) open(id, note.anchor);
    }
  }

  // After every deferred script (the DICOM viewer, the gallery) has started.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
