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
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var SHAPES = ["arrow", "circle", "box"];
  var KEY_STEP = 0.02;
  var KEY_STEP_FINE = 0.005;
  var PRESET = { x1: 0.35, y1: 0.35, x2: 0.65, y2: 0.65 };
  var NEAR_SECONDS = 1.5;
  // Read now: the DICOM viewer rewrites the address (?frame=N) when it starts.
  var initialHash = window.location.hash;

  var Consilium = (window.Consilium = window.Consilium || {});
  var notes = new Map(); // message id -> {id, thread, author, text, anchor}
  var focused = null; // message id of the highlighted annotation

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

  Consilium.annotations = { label: label, relabel: relabelChips };

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

  // --- overlays: photos ----------------------------------------------------------------

  var stages = new Map(); // media id -> stage object (photo, video or slice)

  function naturalSize(img) {
    var w = img.naturalWidth || Number(img.getAttribute("width")) || 100;
    var h = img.naturalHeight || Number(img.getAttribute("height")) || 100;
    return { w: w, h: h };
  }

  // Where a pointer event falls on an image shown letterboxed (object-fit:
  // contain), as fractions 0-1 of the image's natural width and height.
  function imagePoint(img, ev) {
    var r = img.getBoundingClientRect();
    var size = naturalSize(img);
    var scale = Math.min(r.width / size.w, r.height / size.h);
    var w = size.w * scale, h = size.h * scale;
    var left = r.left + (r.width - w) / 2, top = r.top + (r.height - h) / 2;
    return { x: clamp((ev.clientX - left) / w, 0, 1), y: clamp((ev.clientY - top) / h, 0, 1) };
  }

  // The media item's row of action buttons, made on first need.
  function actionsRow(li) {
    var actions = li.querySelector(".media-item__actions");
    if (!actions) {
      actions = el("div", "media-item__actions row");
      li.appendChild(actions);
    }
    return actions;
  }

  function drawShape(group, a, size, cls) {
    var x1 = a.x1 * size.w, y1 = a.y1 * size.h, x2 = a.x2 * size.w, y2 = a.y2 * size.h;
    var parts = [];
    if (a.shape === "box") {
      parts.push(["rect", { x: Math.min(x1, x2), y: Math.min(y1, y2), width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) }]);
    } else if (a.shape === "circle") {
      parts.push(["ellipse", { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, rx: Math.abs(x2 - x1) / 2, ry: Math.abs(y2 - y1) / 2 }]);
    } else {
      var len = Math.hypot(x2 - x1, y2 - y1) || 1;
      var head = Math.min(len * 0.4, Math.max(size.w, size.h) * 0.05);
      var ux = (x2 - x1) / len, uy = (y2 - y1) / len;
      var bx = x2 - ux * head, by = y2 - uy * head;
      var px = -uy * head * 0.5, py = ux * head * 0.5;
      parts.push(["line", { x1: x1, y1: y1, x2: bx, y2: by }]);
      parts.push(["polygon", { points: [x2, y2, bx + px, by + py, bx - px, by - py].join(" "), "class": "annot__head" }]);
    }
    ["annot__halo", "annot__line"].forEach(function (layer) {
      parts.forEach(function (p) {
        var node = svg(p[0], p[1]);
        node.setAttribute("vector-effect", "non-scaling-stroke");
        node.classList.add(layer);
        if (cls) node.classList.add(cls);
        group.appendChild(node);
      });
    });
  }

  function overlayFor(host, img) {
    var overlay = host.querySelector(":scope > svg.annot-overlay");
    if (!overlay) {
      overlay = svg("svg", { "class": "annot-overlay", preserveAspectRatio: "xMidYMid meet", "aria-hidden": "true", focusable: "false" });
      host.appendChild(overlay);
    }
    var size = naturalSize(img);
    overlay.setAttribute("viewBox", "0 0 " + size.w + " " + size.h);
    return overlay;
  }

  function placeOver(overlay, img) {
    overlay.style.left = img.offsetLeft + "px";
    overlay.style.top = img.offsetTop + "px";
    overlay.style.width = img.offsetWidth + "px";
    overlay.style.height = img.offsetHeight + "px";
  }

  function PhotoStage(li) {
    this.li = li;
    this.media = Number(li.dataset.asset);
    this.img = li.querySelector(".media-item__img");
    this.figure = li.querySelector(".media-item__figure");
    this.figure.classList.add("annot-host");
    this.img.classList.add("annot-img");
    this.drawing = null;
    var self = this;
    this.img.addEventListener("load", function () { self.draw(); });
    if (window.ResizeObserver) new ResizeObserver(function () { self.place(); }).observe(this.img);
    if (canAnnotate() && li.dataset.released === "true") this.addTools();
    this.draw();
  }
  PhotoStage.prototype.place = function () {
    if (this.overlay) placeOver(this.overlay, this.img);
  };
  PhotoStage.prototype.draw = function () {
    var overlay = (this.overlay = overlayFor(this.figure, this.img));
    this.place();
    overlay.textContent = "";
    var size = naturalSize(this.img);
    notesFor(this.media).forEach(function (n) {
      var g = svg("g", { "class": "annot" + (n.id === focused ? " annot--focus" : "") });
      g.dataset.annotation = n.id;
      var title = svg("title");
      title.textContent = n.author + ": " + n.text;
      g.appendChild(title);
      drawShape(g, n.anchor, size);
      overlay.appendChild(g);
    });
    if (this.drawing) {
      var d = svg("g", { "class": "annot annot--draft" });
      d.dataset.annotationDraft = "";
      drawShape(d, this.drawing, size);
      overlay.appendChild(d);
    }
  };
  PhotoStage.prototype.addTools = function () {
    var self = this;
    var actions = actionsRow(this.li);
    var start = el("button", "btn btn--small btn--secondary", "Annotate");
    start.type = "button";
    start.dataset.annotateStart = "";
    start.setAttribute("aria-expanded", "false");
    actions.appendChild(start);
    var panel = el("div", "annot-tools");
    panel.hidden = true;
    panel.setAttribute("role", "group");
    panel.setAttribute("aria-label", "Annotate this photo");
    var shapes = el("div", "annot-tools__shapes");
    var name = "annot-shape-" + this.media;
    SHAPES.forEach(function (shape) {
      var lab = el("label", "annot-tools__shape");
      var input = el("input");
      input.type = "radio";
      input.name = name;
      input.value = shape;
      if (shape === "box") input.checked = true;
      input.addEventListener("change", function () {
        if (self.drawing) { self.drawing.shape = shape; self.draw(); }
      });
      lab.appendChild(input);
      lab.appendChild(document.createTextNode(" " + shape.charAt(0).toUpperCase() + shape.slice(1)));
      shapes.appendChild(lab);
    });
    panel.appendChild(shapes);
    var help = el("p", "small muted annot-tools__help", "Drag on the photo to draw. Or focus the photo and use the arrow keys to move the shape, Shift + arrows to resize it.");
    help.id = "annot-help-" + this.media;
    panel.appendChild(help);
    var row = el("div", "row");
    var note = el("button", "btn btn--small", "Add a note");
    note.type = "button";
    note.dataset.annotateNote = "";
    var cancel = el("button", "btn btn--small btn--secondary", "Cancel");
    cancel.type = "button";
    row.appendChild(note);
    row.appendChild(cancel);
    panel.appendChild(row);
    this.li.appendChild(panel);
    this.tools = { start: start, panel: panel, name: name };

    start.addEventListener("click", function () { self.begin(); });
    cancel.addEventListener("click", function () { self.end(); start.focus(); });
    note.addEventListener("click", function () {
      if (!self.drawing) return;
      var d = self.drawing;
      var anchor = { media: self.media, kind: "region", shape: d.shape, x1: round4(d.x1), y1: round4(d.y1), x2: round4(d.x2), y2: round4(d.y2) };
      if (d.shape !== "arrow") {
        anchor.x1 = round4(Math.min(d.x1, d.x2)); anchor.x2 = round4(Math.max(d.x1, d.x2));
        anchor.y1 = round4(Math.min(d.y1, d.y2)); anchor.y2 = round4(Math.max(d.y1, d.y2));
      }
      self.end();
      handOver(anchor);
    });
  };
  PhotoStage.prototype.shape = function () {
    var checked = this.li.querySelector('input[name="' + this.tools.name + '"]:checked');
    return checked ? checked.value : "box";
  };
  PhotoStage.prototype.begin = function () {
    var self = this;
    this.drawing = { shape: this.shape(), x1: PRESET.x1, y1: PRESET.y1, x2: PRESET.x2, y2: PRESET.y2 };
    this.tools.panel.hidden = false;
    this.tools.start.setAttribute("aria-expanded", "true");
    this.draw();
    var overlay = this.overlay;
    overlay.classList.add("annot-overlay--drawing");
    overlay.removeAttribute("aria-hidden");
    overlay.setAttribute("tabindex", "0");
    overlay.setAttribute("role", "img");
    overlay.setAttribute("aria-label", "Drawing area over the photo");
    overlay.setAttribute("aria-describedby", "annot-help-" + this.media);
    var drag = null;
    function point(ev) { return imagePoint(self.img, ev); }
    this.handlers = {
      down: function (ev) {
        if (ev.pointerType === "mouse" && ev.button !== 0) return;
        ev.preventDefault();
        overlay.setPointerCapture(ev.pointerId);
        var p = point(ev);
        drag = p;
        self.drawing = { shape: self.shape(), x1: p.x, y1: p.y, x2: p.x, y2: p.y };
        self.draw();
      },
      move: function (ev) {
        if (!drag) return;
        var p = point(ev);
        self.drawing.x2 = p.x;
        self.drawing.y2 = p.y;
        self.draw();
      },
      up: function () {
        if (!drag) return;
        drag = null;
        var d = self.drawing;
        if (Math.max(Math.abs(d.x2 - d.x1), Math.abs(d.y2 - d.y1)) < 0.02) {
          // A click, not a drag: a preset-sized shape centred there.
          var cx = d.x1, cy = d.y1;
          d.x1 = clamp(cx - 0.1, 0, 1); d.x2 = clamp(cx + 0.1, 0, 1);
          d.y1 = clamp(cy - 0.1, 0, 1); d.y2 = clamp(cy + 0.1, 0, 1);
          self.draw();
        }
      },
      key: function (ev) {
        var d = self.drawing;
        if (!d) return;
        var step = ev.altKey ? KEY_STEP_FINE : KEY_STEP;
        var dx = 0, dy = 0;
        if (ev.key === "ArrowLeft") dx = -step;
        else if (ev.key === "ArrowRight") dx = step;
        else if (ev.key === "ArrowUp") dy = -step;
        else if (ev.key === "ArrowDown") dy = step;
        else if (ev.key === "Enter") { ev.preventDefault(); self.tools.panel.querySelector("[data-annotate-note]").click(); return; }
        else if (ev.key === "Escape") { ev.preventDefault(); self.end(); self.tools.start.focus(); return; }
        else return;
        ev.preventDefault();
        if (ev.shiftKey) {
          d.x2 = clamp(d.x2 + dx, 0, 1);
          d.y2 = clamp(d.y2 + dy, 0, 1);
        } else {
          var mx = clamp(dx, -Math.min(d.x1, d.x2), 1 - Math.max(d.x1, d.x2));
          var my = clamp(dy, -Math.min(d.y1, d.y2), 1 - Math.max(d.y1, d.y2));
          d.x1 += mx; d.x2 += mx; d.y1 += my; d.y2 += my;
        }
        self.draw();
      },
      click: function (ev) { ev.preventDefault(); ev.stopPropagation(); },
    };
    overlay.addEventListener("pointerdown", this.handlers.down);
    overlay.addEventListener("pointermove", this.handlers.move);
    overlay.addEventListener("pointerup", this.handlers.up);
    overlay.addEventListener("pointercancel", this.handlers.up);
    overlay.addEventListener("keydown", this.handlers.key);
    overlay.addEventListener("click", this.handlers.click);
    overlay.focus({ preventScroll: true });
  };
  PhotoStage.prototype.end = function () {
    var overlay = this.overlay;
    if (this.handlers) {
      overlay.removeEventListener("pointerdown", this.handlers.down);
      overlay.removeEventListener("pointermove", this.handlers.move);
      overlay.removeEventListener("pointerup", this.handlers.up);
      overlay.removeEventListener("pointercancel", this.handlers.up);
      overlay.removeEventListener("keydown", this.handlers.key);
      overlay.removeEventListener("click", this.handlers.click);
      this.handlers = null;
    }
    overlay.classList.remove("annot-overlay--drawing");
    ["tabindex", "role", "aria-label", "aria-describedby"].forEach(function (a) { overlay.removeAttribute(a); });
    overlay.setAttribute("aria-hidden", "true");
    this.drawing = null;
    if (this.tools) {
      this.tools.panel.hidden = true;
      this.tools.start.setAttribute("aria-expanded", "false");
    }
    this.draw();
  };
  PhotoStage.prototype.focus = function (id) {
    this.li.scrollIntoView({ block: "center", behavior: "auto" });
    this.draw();
    var g = this.overlay.querySelector('[data-annotation="' + id + '"]');
    if (g) g.classList.add("annot--focus");
  };

  // --- overlays: videos ----------------------------------------------------------------

  function VideoStage(li) {
    this.li = li;
    this.media = Number(li.dataset.asset);
    this.video = li.querySelector("video");
    this.duration = Number(li.dataset.duration) || 0;
    var figure = li.querySelector(".media-item__figure");
    figure.classList.add("annot-host");
    this.caption = el("p", "annot-caption");
    this.caption.hidden = true;
    this.caption.setAttribute("aria-live", "polite");
    figure.appendChild(this.caption);
    this.track = el("ol", "annot-track");
    this.track.setAttribute("aria-label", "Comments pinned to times in this video");
    figure.after(this.track);
    var self = this;
    this.video.addEventListener("timeupdate", function () { self.tick(); });
    this.video.addEventListener("loadedmetadata", function () {
      if (self.video.duration && isFinite(self.video.duration)) self.duration = self.video.duration;
      if (self.seekTo != null) { self.video.currentTime = self.seekTo; self.seekTo = null; }
      self.draw();
    });
    if (canAnnotate() && li.dataset.released === "true") this.addTools();
    this.draw();
  }
  VideoStage.prototype.addTools = function () {
    var self = this;
    var actions = actionsRow(this.li);
    var pin = el("button", "btn btn--small btn--secondary");
    pin.type = "button";
    pin.dataset.annotatePin = "";
    this.pin = pin;
    actions.appendChild(pin);
    this.tick();
    pin.addEventListener("click", function () {
      var t = Math.round((self.video.currentTime || 0) * 100) / 100;
      if (self.duration) t = Math.min(t, Math.floor(self.duration * 100) / 100);
      self.video.pause();
      handOver({ media: self.media, kind: "time", t: t });
    });
  };
  VideoStage.prototype.tick = function () {
    var t = this.video.currentTime || 0;
    if (this.pin) this.pin.textContent = "Comment at " + clock(t);
    var near = notesFor(this.media).filter(function (n) { return Math.abs(n.anchor.t - t) <= NEAR_SECONDS; });
    if (near.length && !this.video.paused) {
      this.caption.textContent = near.map(function (n) { return clock(n.anchor.t) + " " + n.author + ": " + n.text; }).join(" · ");
      this.caption.hidden = false;
    } else if (focused && near.some(function (n) { return n.id === focused; })) {
      var f = notes.get(focused);
      this.caption.textContent = clock(f.anchor.t) + " " + f.author + ": " + f.text;
      this.caption.hidden = false;
    } else {
      this.caption.hidden = true;
    }
  };
  VideoStage.prototype.draw = function () {
    var self = this;
    this.track.textContent = "";
    var list = notesFor(this.media).sort(function (a, b) { return a.anchor.t - b.anchor.t; });
    this.track.hidden = !list.length;
    list.forEach(function (n) {
      var li = el("li", "annot-track__item" + (n.id === focused ? " annot--focus" : ""));
      li.dataset.annotation = n.id;
      if (self.duration) li.style.setProperty("--at", Math.min(100, (n.anchor.t / self.duration) * 100) + "%");
      var b = el("button", "annot-track__mark", clock(n.anchor.t));
      b.type = "button";
      b.title = n.author + ": " + n.text;
      b.setAttribute("aria-label", "Go to " + clock(n.anchor.t) + ": " + n.author + ": " + n.text);
      b.addEventListener("click", function () { self.focus(n.id); });
      li.appendChild(b);
      self.track.appendChild(li);
    });
    this.tick();
  };
  VideoStage.prototype.focus = function (id) {
    var n = notes.get(id);
    this.li.scrollIntoView({ block: "center", behavior: "auto" });
    if (!n) return;
    this.video.pause();
    if (this.video.readyState === 0) this.seekTo = n.anchor.t;
    this.video.currentTime = n.anchor.t;
    this.draw();
  };

  // --- overlays: the DICOM viewer -------------------------------------------------------

  function SliceStage(root) {
    this.root = root;
    this.media = Number(root.dataset.mediaId);
    this.modality = root.dataset.modality || "";
    this.stageEl = root.querySelector("[data-dicom-stage]");
    this.img = root.querySelector("[data-dicom-img]");
    this.stageEl.classList.add("annot-host");
    this.pointing = null;
    var self = this;
    this.img.addEventListener("load", function () { self.draw(); });
    new MutationObserver(function () { self.draw(); }).observe(this.img, { attributes: true, attributeFilter: ["style", "src"] });
    if (window.ResizeObserver) new ResizeObserver(function () { self.place(); }).observe(this.img);
    if (canAnnotate() && root.dataset.released === "true") this.addTools();
    this.draw();
  }
  SliceStage.prototype.frame = function () {
    var viewer = window.ConsiliumDicomViewer;
    return Number(this.stageEl.getAttribute("data-frame")) || (viewer ? viewer.frame : 1);
  };
  SliceStage.prototype.place = function () {
    if (!this.overlay) return;
    placeOver(this.overlay, this.img);
    this.overlay.style.transform = this.img.style.transform || "";
  };
  SliceStage.prototype.draw = function () {
    var overlay = (this.overlay = overlayFor(this.stageEl, this.img));
    overlay.classList.add("annot-overlay--slice");
    this.place();
    overlay.textContent = "";
    var size = naturalSize(this.img);
    var frame = this.frame();
    var r = Math.max(size.w, size.h) * 0.025;
    var pins = notesFor(this.media).filter(function (n) { return n.anchor.frame === frame; });
    if (this.pointing) pins.push({ id: "draft", anchor: this.pointing, draft: true });
    pins.forEach(function (n) {
      var g = svg("g", { "class": "annot annot--pin" + (n.id === focused ? " annot--focus" : "") + (n.draft ? " annot--draft" : "") });
      if (n.draft) g.dataset.annotationDraft = "";
      else g.dataset.annotation = n.id;
      if (!n.draft) {
        var title = svg("title");
        title.textContent = n.author + ": " + n.text;
        g.appendChild(title);
      }
      var cx = n.anchor.x * size.w, cy = n.anchor.y * size.h;
      ["annot__halo", "annot__line"].forEach(function (layer) {
        var c = svg("circle", { cx: cx, cy: cy, r: r, "class": layer, "vector-effect": "non-scaling-stroke" });
        g.appendChild(c);
        var cross = svg("path", { d: "M" + (cx - r * 1.8) + " " + cy + "H" + (cx - r * 0.6) + "M" + (cx + r * 0.6) + " " + cy + "H" + (cx + r * 1.8) + "M" + cx + " " + (cy - r * 1.8) + "V" + (cy - r * 0.6) + "M" + cx + " " + (cy + r * 0.6) + "V" + (cy + r * 1.8), "class": layer, "vector-effect": "non-scaling-stroke" });
        g.appendChild(cross);
      });
      overlay.appendChild(g);
    });
    var count = pins.filter(function (n) { return !n.draft; }).length;
    if (this.count) this.count.textContent = count ? count + " comment" + (count === 1 ? "" : "s") + " on this slice" : "";
  };
  SliceStage.prototype.addTools = function () {
    var self = this;
    var toolbar = this.root.querySelector(".dicom-toolbar");
    var button = el("button", "btn btn--small btn--secondary", "Comment on this slice");
    button.type = "button";
    button.dataset.annotateSlice = "";
    button.setAttribute("aria-describedby", "annot-slice-help");
    toolbar.appendChild(button);
    this.count = el("span", "small annot-slice-count");
    this.count.setAttribute("aria-live", "polite");
    toolbar.appendChild(this.count);
    var help = el("p", "small annot-slice-help");
    help.id = "annot-slice-help";
    help.hidden = true;
    help.setAttribute("role", "status");
    this.stageEl.after(help);
    this.help = help;
    button.addEventListener("click", function () { self.begin(); });

    function point(ev) { return imagePoint(self.img, ev); }
    // Capture: while pointing, a click places the point instead of scrolling.
    this.stageEl.addEventListener("pointerdown", function (ev) {
      if (!self.pointing) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      var p = point(ev);
      self.pointing.x = p.x;
      self.pointing.y = p.y;
      self.finish();
    }, true);
    this.stageEl.addEventListener("keydown", function (ev) {
      if (!self.pointing) return;
      var d = self.pointing;
      var step = ev.altKey ? KEY_STEP_FINE : KEY_STEP;
      if (ev.key === "ArrowLeft") d.x = clamp(d.x - step, 0, 1);
      else if (ev.key === "ArrowRight") d.x = clamp(d.x + step, 0, 1);
      else if (ev.key === "ArrowUp") d.y = clamp(d.y - step, 0, 1);
      else if (ev.key === "ArrowDown") d.y = clamp(d.y + step, 0, 1);
      else if (ev.key === "Enter") self.finish();
      else if (ev.key === "Escape") self.cancel();
      else return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      self.draw();
    }, true);
  };
  SliceStage.prototype.begin = function () {
    this.pointing = { kind: "slice", frame: this.frame(), x: 0.5, y: 0.5 };
    this.stageEl.classList.add("annot-pointing");
    this.help.textContent = "Click the point on slice " + this.pointing.frame + " to comment on, or move the crosshair with the arrow keys and press Enter. Escape cancels.";
    this.help.hidden = false;
    this.draw();
    this.stageEl.focus({ preventScroll: true });
  };
  SliceStage.prototype.cancel = function () {
    this.pointing = null;
    this.stageEl.classList.remove("annot-pointing");
    this.help.hidden = true;
    this.draw();
  };
  SliceStage.prototype.finish = function () {
    var p = this.pointing;
    this.cancel();
    handOver({ media: this.media, kind: "slice", frame: p.frame, x: round4(p.x), y: round4(p.y) }, this.modality);
  };
  SliceStage.prototype.focus = function (id, frame) {
    var viewer = window.ConsiliumDicomViewer;
    if (viewer && frame) viewer.show(frame);
    this.root.scrollIntoView({ block: "start", behavior: "auto" });
    this.draw();
  };

  // --- hand-over to the composer, chips, frames -------------------------------------------

  function canAnnotate() {
    var root = document.querySelector("[data-discussion]");
    return !!root && root.dataset.canComment === "true" && !!root.querySelector("[data-composer]");
  }

  function handOver(anchor, modality) {
    var shown = Object.assign({}, anchor, { modality: modality || undefined });
    document.dispatchEvent(new CustomEvent("consilium:annotate", { detail: { anchor: anchor, label: label(shown) } }));
  }

  function setFocus(id) {
    focused = id;
    document.querySelectorAll(".annot--focus").forEach(function (n) { n.classList.remove("annot--focus"); });
    document.querySelectorAll("[data-anchor-chip]").forEach(function (a) {
      a.classList.toggle("msg__anchor--current", Number(a.dataset.anchorChip) === id);
    });
  }

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

  function redraw(mediaId) {
    var stage = stages.get(mediaId);
    if (stage) stage.draw();
  }

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
