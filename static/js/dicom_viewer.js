/* Consilium DICOM series viewer: scroll a stack of frames like a light box.
 *
 * Reads its settings from the JSON block #dicom-viewer-data (frames, the
 * frame URL template, presets, per-frame info, the share URL). Moves through
 * the series with the mouse wheel, arrow / Page / Home / End keys, a touch or
 * mouse drag, or the slider; switches window presets; zooms (buttons, + / -,
 * ctrl + wheel, pinch) and pans (drag when zoomed, two fingers); preloads
 * neighbouring frames; keeps ?frame=N in the address bar and copies a link
 * to the current slice. While the series is still processing, it polls the
 * status URL and reloads when the series changes state.
 */
(function () {
  "use strict";

  var WHEEL_STEP = 40; // pixels of wheel delta per frame
  var DRAG_STEP = 12; // pixels of vertical drag per frame
  var PRELOAD_AHEAD = 6;
  var PRELOAD_BEHIND = 2;
  var CACHE_LIMIT = 64;
  var ZOOM_MIN = 1;
  var ZOOM_MAX = 8;

  function pollStatus() {
    var box = document.querySelector("[data-dicom-status]");
    if (!box) return;
    var status = box.getAttribute("data-status");
    if (status !== "uploaded" && status !== "processing") return;
    var url = box.getAttribute("data-status-url");
    var timer = window.setInterval(function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.status !== status) {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { /* try again on the next tick */ });
    }, 2000);
  }

  function Viewer(root, data) {
    this.root = root;
    this.total = data.frames;
    this.frameUrl = data.frameUrl;
    this.version = data.version;
    this.info = data.info || [];
    this.shareBase = data.shareUrl;
    this.preset = "default";
    this.frame = 0;
    this.zoom = 1;
    this.panX = 0;
    this.panY = 0;
    this.wheelAcc = 0;
    this.cache = new Map();
    this.pointers = new Map();
    this.gesture = null;

    this.stage = root.querySelector("[data-dicom-stage]");
    this.img = root.querySelector("[data-dicom-img]");
    this.slider = root.querySelector("[data-dicom-slider]");
    this.current = root.querySelector("[data-dicom-current]");
    this.number = root.querySelector("[data-dicom-frame-number]");
    this.presetSelect = root.querySelector("[data-dicom-preset]");
    this.zoomLevel = root.querySelector("[data-dicom-zoom-level]");
    this.share = root.querySelector("[data-dicom-share]");
    this.copied = root.querySelector("[data-dicom-copied]");
    this.infoFrame = document.querySelector("[data-dicom-info-frame]");
    this.infoInstance = document.querySelector("[data-dicom-info-instance]");
    this.infoLocation = document.querySelector("[data-dicom-info-location]");

    this.bind();
    this.show(data.frame);
  }

  Viewer.prototype.url = function (frame) {
    var url = this.frameUrl.replace("{n}", String(frame)) + "?v=" + encodeURIComponent(this.version);
    if (this.preset !== "default") url += "&preset=" + encodeURIComponent(this.preset);
    return url;
  };

  Viewer.prototype.load = function (frame) {
    var url = this.url(frame);
    if (this.cache.has(url)) {
      var hit = this.cache.get(url);
      this.cache.delete(url); // re-insert: the Map keeps recency order
      this.cache.set(url, hit);
      return hit;
    }
    var image = new Image();
    image.decoding = "async";
    image.src = url;
    this.cache.set(url, image);
    while (this.cache.size > CACHE_LIMIT) {
      this.cache.delete(this.cache.keys().next().value);
    }
    return image;
  };

  Viewer.prototype.preload = function (direction) {
    var ahead = direction < 0 ? -1 : 1;
    for (var step = 1; step <= PRELOAD_AHEAD; step++) {
      var next = this.frame + ahead * step;
      if (next >= 1 && next <= this.total) this.load(next);
    }
    for (var back = 1; back <= PRELOAD_BEHIND; back++) {
      var prev = this.frame - ahead * back;
      if (prev >= 1 && prev <= this.total) this.load(prev);
    }
  };

  Viewer.prototype.show = function (frame, force) {
    frame = Math.max(1, Math.min(this.total, Math.round(frame) || 1));
    if (frame === this.frame && !force) return;
    var direction = frame >= this.frame ? 1 : -1;
    this.frame = frame;
    this.load(frame);
    this.img.src = this.url(frame);
    var text = "Frame " + frame + " of " + this.total;
    this.img.alt = text;
    this.current.textContent = String(frame);
    this.number.textContent = text;
    this.slider.value = String(frame);
    this.slider.setAttribute("aria-valuetext", text);
    this.stage.setAttribute("data-frame", String(frame));
    this.stage.setAttribute("aria-label", text + ". Scroll, drag, or use the arrow keys to move through the series.");
    if (this.infoFrame) this.infoFrame.textContent = text;
    var info = this.info[frame - 1] || [];
    if (this.infoInstance) this.infoInstance.textContent = info[0] != null ? String(info[0]) : "–";
    if (this.infoLocation) this.infoLocation.textContent = info[1] != null ? info[1] + " mm" : "–";
    var link = this.shareBase + "?frame=" + frame;
    if (this.share) this.share.value = link;
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?frame=" + frame);
    }
    this.preload(direction);
  };

  Viewer.prototype.step = function (delta) {
    this.show(this.frame + delta);
  };

  Viewer.prototype.applyTransform = function () {
    if (this.zoom <= ZOOM_MIN) {
      this.zoom = ZOOM_MIN;
      this.panX = 0;
      this.panY = 0;
    }
    var limitX = (this.stage.clientWidth * (this.zoom - 1)) / 2;
    var limitY = (this.stage.clientHeight * (this.zoom - 1)) / 2;
    this.panX = Math.max(-limitX, Math.min(limitX, this.panX));
    this.panY = Math.max(-limitY, Math.min(limitY, this.panY));
    this.img.style.transform =
      "translate(" + this.panX + "px, " + this.panY + "px) scale(" + this.zoom + ")";
    this.zoomLevel.textContent = Math.round(this.zoom * 100) + "%";
    this.stage.classList.toggle("is-zoomed", this.zoom > ZOOM_MIN);
  };

  Viewer.prototype.setZoom = function (zoom) {
    this.zoom = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, zoom));
    this.applyTransform();
  };

  Viewer.prototype.copyLink = function () {
    var self = this;
    var link = this.share.value;
    function done(ok) {
      self.copied.textContent = ok ? "Link to frame " + self.frame + " copied." : "Select the link above and copy it.";
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(link).then(function () { done(true); }, function () {
        self.share.select();
        done(document.execCommand && document.execCommand("copy"));
      });
    } else {
      this.share.select();
      done(document.execCommand && document.execCommand("copy"));
    }
  };

  Viewer.prototype.onKey = function (event) {
    var handled = true;
    switch (event.key) {
      case "ArrowUp":
      case "ArrowLeft":
        this.step(-1);
        break;
      case "ArrowDown":
      case "ArrowRight":
        this.step(1);
        break;
      case "PageUp":
        this.step(-10);
        break;
      case "PageDown":
        this.step(10);
        break;
      case "Home":
        this.show(1);
        break;
      case "End":
        this.show(this.total);
        break;
      case "+":
      case "=":
        this.setZoom(this.zoom * 1.25);
        break;
      case "-":
        this.setZoom(this.zoom / 1.25);
        break;
      case "0":
        this.setZoom(1);
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  };

  Viewer.prototype.onWheel = function (event) {
    event.preventDefault();
    if (event.ctrlKey) {
      this.setZoom(this.zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
      return;
    }
    var delta = event.deltaY;
    if (event.deltaMode === 1) delta *= WHEEL_STEP; // lines
    if (event.deltaMode === 2) delta *= WHEEL_STEP * 10; // pages
    this.wheelAcc += delta;
    var steps = this.wheelAcc > 0 ? Math.floor(this.wheelAcc / WHEEL_STEP) : Math.ceil(this.wheelAcc / WHEEL_STEP);
    if (steps !== 0) {
      this.wheelAcc -= steps * WHEEL_STEP;
      this.step(steps);
    }
  };

  Viewer.prototype.gestureStart = function () {
    var points = Array.from(this.pointers.values());
    if (points.length === 1) {
      this.gesture = {
        kind: this.zoom > ZOOM_MIN ? "pan" : "scroll",
        x: points[0].x,
        y: points[0].y,
        frame: this.frame,
        panX: this.panX,
        panY: this.panY,
      };
    } else if (points.length === 2) {
      var dx = points[0].x - points[1].x;
      var dy = points[0].y - points[1].y;
      this.gesture = {
        kind: "pinch",
        distance: Math.hypot(dx, dy) || 1,
        zoom: this.zoom,
        x: (points[0].x + points[1].x) / 2,
        y: (points[0].y + points[1].y) / 2,
        panX: this.panX,
        panY: this.panY,
      };
    } else {
      this.gesture = null;
    }
  };

  Viewer.prototype.gestureMove = function () {
    var g = this.gesture;
    if (!g) return;
    var points = Array.from(this.pointers.values());
    if (g.kind === "scroll" && points.length === 1) {
      this.show(g.frame + Math.round((points[0].y - g.y) / DRAG_STEP));
    } else if (g.kind === "pan" && points.length === 1) {
      this.panX = g.panX + (points[0].x - g.x);
      this.panY = g.panY + (points[0].y - g.y);
      this.applyTransform();
    } else if (g.kind === "pinch" && points.length === 2) {
      var distance = Math.hypot(points[0].x - points[1].x, points[0].y - points[1].y);
      this.zoom = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, g.zoom * (distance / g.distance)));
      this.panX = g.panX + ((points[0].x + points[1].x) / 2 - g.x);
      this.panY = g.panY + ((points[0].y + points[1].y) / 2 - g.y);
      this.applyTransform();
    }
  };

  Viewer.prototype.bind = function () {
    var self = this;
    this.stage.addEventListener("wheel", function (e) { self.onWheel(e); }, { passive: false });
    this.stage.addEventListener("keydown", function (e) { self.onKey(e); });
    document.addEventListener("keydown", function (e) {
      // Keys also work when nothing in particular has focus.
      var target = e.target;
      if (target === self.stage || self.stage.contains(target)) return;
      if (target && target.closest && target.closest("input, select, textarea, button, a, [contenteditable]")) return;
      if (e.altKey || e.metaKey || e.ctrlKey) return;
      // Only the arrows: Page and Home/End keep scrolling the page.
      if (!/^Arrow/.test(e.key)) return;
      self.onKey(e);
    });
    this.slider.addEventListener("input", function () { self.show(parseInt(self.slider.value, 10)); });
    this.presetSelect.addEventListener("change", function () {
      self.preset = self.presetSelect.value;
      self.show(self.frame, true);
    });
    this.root.querySelectorAll("[data-dicom-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-dicom-zoom");
        self.setZoom(how === "in" ? self.zoom * 1.25 : how === "out" ? self.zoom / 1.25 : 1);
      });
    });
    this.root.querySelector("[data-dicom-copy]").addEventListener("click", function () { self.copyLink(); });

    this.stage.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      self.stage.setPointerCapture(e.pointerId);
      self.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      self.gestureStart();
      self.stage.focus({ preventScroll: true });
    });
    this.stage.addEventListener("pointermove", function (e) {
      if (!self.pointers.has(e.pointerId)) return;
      self.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      self.gestureMove();
    });
    function end(e) {
      if (!self.pointers.has(e.pointerId)) return;
      self.pointers.delete(e.pointerId);
      self.gestureStart(); // the remaining finger carries on from here
    }
    this.stage.addEventListener("pointerup", end);
    this.stage.addEventListener("pointercancel", end);
    this.stage.addEventListener("dblclick", function () { self.setZoom(self.zoom > ZOOM_MIN ? 1 : 2); });
    window.addEventListener("resize", function () { self.applyTransform(); });
  };

  function start() {
    pollStatus();
    // The full header is long: open beside the image, folded on phones.
    var details = document.querySelector("[data-dicom-header-details]");
    if (details && window.matchMedia && window.matchMedia("(min-width: 1000px)").matches) {
      details.open = true;
    }
    var root = document.querySelector("[data-dicom-viewer]");
    var block = document.getElementById("dicom-viewer-data");
    if (!root || !block) return;
    var data = JSON.parse(block.textContent);
    if (!data.frames) return;
    window.ConsiliumDicomViewer = new Viewer(root, data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
