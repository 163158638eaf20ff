/* Consilium annotations, part 1: the shared namespace and the data.
 *
 * Plain deferred scripts, in this order (templates/realtime/_panel.html),
 * sharing Consilium.annotations (its public part: label, relabel):
 *   annotations_data.js   constants, helpers, the notes, labels and chips,
 *                         the hand-over to the composer
 *   annotations_draw.js   overlay geometry and SVG shapes
 *   annotations_photo.js  photos: the overlay and the drawing tools
 *   annotations_video.js  videos: time markers and "Comment at 0:12"
 *   annotations_slice.js  the DICOM viewer: slice pins and the crosshair
 *   annotations.js        chips, live frames and start-up
 */
(function () {
  "use strict";

  var Consilium = (window.Consilium = window.Consilium || {});
  var A = (Consilium.annotations = Consilium.annotations || {});

  var SVG = "http://www.w3.org/2000/svg";
  var SHAPES = ["arrow", "circle", "box"];
  var KEY_STEP = 0.02;
  var KEY_STEP_FINE = 0.005;
  var PRESET = { x1: 0.35, y1: 0.35, x2: 0.65, y2: 0.65 };
  var NEAR_SECONDS = 1.5;
  // Read now: the DICOM viewer rewrites the address (?frame=N) when it starts.
  var initialHash = window.location.hash;

  var notes = new Map(); // message id -> {id, thread, author, text, anchor}
  A.focused = null; // message id of the highlighted annotation

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function round4(v) { return Math.round(v * 10000) / 10000; }
  function textOf(html) {
    var div = document.createElement("div");
    div.innerHTML = html || "";
    return (div.textContent || "").replace(/\s+/g, " ").trim();
  }
  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(whole / 3600);
    var m = Math.floor((whole % 3600) / 60);
    var s = whole % 60;
    var ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + (m < 10 ? "0" : "") + m + ":" + ss : m + ":" + ss;
  }

  // --- labels and chips ---------------------------------------------------------------

  function galleryItem(mediaId) {
    return document.querySelector('[data-media-list] [data-asset="' + mediaId + '"]');
  }
  function ordinal(mediaId, kind) {
    var items = document.querySelectorAll('[data-media-list] [data-asset][data-kind="' + kind + '"]');
    for (var i = 0; i < items.length; i++) {
      if (Number(items[i].dataset.asset) === mediaId) return i + 1;
    }
    return null;
  }
  function label(anchor) {
    if (!anchor) return "";
    if (anchor.media == null) return "Removed media";
    var n;
    if (anchor.kind === "region") {
      n = ordinal(anchor.media, "image");
      return "Image" + (n ? " " + n : "") + " · " + anchor.shape;
    }
    if (anchor.kind === "time") {
      n = ordinal(anchor.media, "video");
      return "Video" + (n ? " " + n : "") + " · " + clock(anchor.t);
    }
    return (anchor.modality || "DICOM") + " slice " + anchor.frame;
  }
  function caseId() {
    var root = document.querySelector("[data-discussion]");
    return root ? Number(root.dataset.caseId) : null;
  }
  function href(anchor) {
    var c = caseId();
    if (anchor.media == null) return "/cases/" + c + "/#media";
    if (anchor.kind === "slice") return "/cases/" + c + "/series/" + anchor.media + "/?frame=" + anchor.frame;
    return "/cases/" + c + "/#media-" + anchor.media;
  }
  // The chip itself is server markup (realtime/_anchor_chip.html, inside every
  // message's html); its label gains the gallery number here.
  function relabelChips(scope) {
    (scope || document).querySelectorAll("[data-anchor-chip]").forEach(function (a) {
      var anchor;
      try { anchor = JSON.parse(a.dataset.anchor); } catch (e) { return; }
      var span = a.querySelector("[data-anchor-label]");
      if (span) span.textContent = label(anchor);
    });
  }

  // --- the data ----------------------------------------------------------------------

  function upsertFromMessage(m) {
    if (!m) return;
    if (!m.anchor || m.anchor.media == null || m.deleted) {
      remove(m.id);
      return;
    }
    notes.set(m.id, {
      id: m.id,
      thread: m.thread,
      author: m.author ? m.author.name : "",
      text: textOf(m.body_html).slice(0, 200),
      anchor: m.anchor,
    });
    redraw(m.anchor.media);
  }
  function remove(id) {
    var note = notes.get(id);
    if (!note) return;
    notes.delete(id);
    redraw(note.anchor.media);
  }
  function notesFor(mediaId) {
    var found = [];
    notes.forEach(function (n) { if (n.anchor.media === mediaId) found.push(n); });
    return found;
  }

  var stages = new Map(); // media id -> stage object (photo, video or slice)

  function redraw(mediaId) {
    var stage = stages.get(mediaId);
    if (stage) stage.draw();
  }

  // --- hand-over to the composer, focus -------------------------------------------------

  function canAnnotate() {
    var root = document.querySelector("[data-discussion]");
    return !!root && root.dataset.canComment === "true" && !!root.querySelector("[data-composer]");
  }

  function handOver(anchor, modality) {
    var shown = Object.assign({}, anchor, { modality: modality || undefined });
    document.dispatchEvent(new CustomEvent("consilium:annotate", { detail: { anchor: anchor, label: label(shown) } }));
  }

  function setFocus(id) {
    A.focused = id;
    document.querySelectorAll(".annot--focus").forEach(function (n) { n.classList.remove("annot--focus"); });
    document.querySelectorAll("[data-anchor-chip]").forEach(function (a) {
      a.classList.toggle("msg__anchor--current", Number(a.dataset.anchorChip) === id);
    });
  }

  Object.assign(A, {
    label: label,
    relabel: relabelChips,
    SVG: SVG,
    SHAPES: SHAPES,
    KEY_STEP: KEY_STEP,
    KEY_STEP_FINE: KEY_STEP_FINE,
    PRESET: PRESET,
    NEAR_SECONDS: NEAR_SECONDS,
    initialHash: initialHash,
    notes: notes,
    stages: stages,
    el: el,
    svg: svg,
    clamp: clamp,
    round4: round4,
    textOf: textOf,
    clock: clock,
    galleryItem: galleryItem,
    ordinal: ordinal,
    caseId: caseId,
    href: href,
    relabelChips: relabelChips,
    upsertFromMessage: upsertFromMessage,
    remove: remove,
    notesFor: notesFor,
    redraw: redraw,
    canAnnotate: canAnnotate,
    handOver: handOver,
    setFocus: setFocus,
  });
})();
