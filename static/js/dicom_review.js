/* Consilium burned-in text review: draw boxes on frames, black them out.
 *
 * Reads #dicom-review-data (frames, frame URL template, each frame's size in
 * image pixels, the mask URL). Boxes are drawn with a mouse, pen or finger
 * (pointer events) or typed in, kept in image pixels, and shown over the
 * frame wherever it is scaled to. "Black out on this frame" / "on every
 * frame" posts them; the server rewrites the stored pixels and answers with
 * a new version, so the preview reloads showing exactly what was masked.
 */
(function () {
  "use strict";

  var MIN_SIDE = 2;

  function Review(root, data) {
    this.total = data.frames;
    this.frameUrl = data.frameUrl;
    this.version = data.version;
    this.sizes = data.sizes || [];
    this.maskUrl = data.maskUrl;
    this.maxRects = data.maxRects || 50;
    this.frame = data.frame || 1;
    this.rects = [];
    this.drawing = null;

    this.stage = root.querySelector("[data-dicom-review-stage]");
    this.img = root.querySelector("[data-dicom-review-img]");
    this.overlay = root.querySelector("[data-dicom-review-overlay]");
    this.current = root.querySelector("[data-dicom-review-current]");
    this.number = root.querySelector("[data-dicom-review-number]");
    this.slider = root.querySelector("[data-dicom-review-slider]");
    this.list = root.querySelector("[data-dicom-rects]");
    this.empty = root.querySelector("[data-dicom-rects-empty]");
    this.status = root.querySelector("[data-dicom-review-status]");
    this.error = root.querySelector("[data-dicom-review-error]");
    this.masks = root.querySelector("[data-dicom-masks]");
    this.sizeLabel = root.querySelector("[data-dicom-review-size]");
    this.applyButtons = root.querySelectorAll("[data-dicom-apply]");
    this.clearButton = root.querySelector("[data-dicom-clear]");
    this.rectForm = root.querySelector("[data-dicom-rect-form]");

    this.bind();
    this.show(this.frame, true);
  }

  Review.prototype.size = function () {
    var size = this.sizes[this.frame - 1] || [this.img.naturalWidth || 1, this.img.naturalHeight || 1];
    return { width: size[0], height: size[1] };
  };

  // Where the frame is painted inside the stage (object-fit: contain).
  Review.prototype.box = function () {
    var size = this.size();
    var stage = this.stage.getBoundingClientRect();
    var scale = Math.min(stage.width / size.width, stage.height / size.height);
    var width = size.width * scale;
    var height = size.height * scale;
    return {
      left: (stage.width - width) / 2,
      top: (stage.height - height) / 2,
      scale: scale,
      stage: stage,
    };
  };

  Review.prototype.toImage = function (clientX, clientY) {
    var box = this.box();
    var size = this.size();
    var x = (clientX - box.stage.left - box.left) / box.scale;
    var y = (clientY - box.stage.top - box.top) / box.scale;
    return {
      x: Math.max(0, Math.min(size.width, x)),
      y: Math.max(0, Math.min(size.height, y)),
    };
  };

  Review.prototype.url = function (frame) {
    return this.frameUrl.replace("{n}", String(frame)) + "?v=" + encodeURIComponent(this.version);
  };

  Review.prototype.show = function (frame, force) {
    frame = Math.max(1, Math.min(this.total, Math.round(frame) || 1));
    if (frame === this.frame && !force) return;
    this.frame = frame;
    this.img.src = this.url(frame);
    var text = "Frame " + frame + " of " + this.total;
    this.img.alt = text;
    this.current.textContent = String(frame);
    this.number.textContent = text;
    this.slider.value = String(frame);
    this.slider.setAttribute("aria-valuetext", text);
    var size = this.size();
    this.sizeLabel.textContent = size.width + " × " + size.height;
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?frame=" + frame);
    }
    this.draw();
  };

  Review.prototype.draw = function () {
    var self = this;
    var box = this.box();
    this.overlay.textContent = "";
    var all = this.rects.slice();
    if (this.drawing && this.drawing.rect) all.push(this.drawing.rect);
    all.forEach(function (rect, index) {
      var node = document.createElement("div");
      node.className = "dicom-rect" + (rect === (self.drawing && self.drawing.rect) ? " dicom-rect--drawing" : "");
      node.style.left = box.left + rect[0] * box.scale + "px";
      node.style.top = box.top + rect[1] * box.scale + "px";
      node.style.width = rect[2] * box.scale + "px";
      node.style.height = rect[3] * box.scale + "px";
      node.setAttribute("data-rect", String(index));
      self.overlay.appendChild(node);
    });
  };

  Review.prototype.renderList = function () {
    var self = this;
    this.list.textContent = "";
    this.rects.forEach(function (rect, index) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = "Box " + (index + 1) + ": " + rect[2] + " × " + rect[3] + " at (" + rect[0] + ", " + rect[1] + ")";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "linklike small";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove box " + (index + 1));
      remove.addEventListener("click", function () {
        self.rects.splice(index, 1);
        self.changed();
      });
      li.appendChild(label);
      li.appendChild(remove);
      self.list.appendChild(li);
    });
    this.empty.hidden = this.rects.length > 0;
    var none = this.rects.length === 0;
    this.applyButtons.forEach(function (b) { b.disabled = none; });
    this.clearButton.disabled = none;
  };

  Review.prototype.changed = function () {
    this.renderList();
    this.draw();
  };

  Review.prototype.add = function (rect) {
    if (rect[2] < MIN_SIDE || rect[3] < MIN_SIDE) return;
    if (this.rects.length >= this.maxRects) {
      this.fail("At most " + this.maxRects + " boxes at a time: apply these first.");
      return;
    }
    this.rects.push(rect);
    this.changed();
  };

  Review.prototype.fail = function (message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  };

  Review.prototype.apply = function (scope) {
    var self = this;
    if (!this.rects.length) return;
    this.fail("");
    this.status.textContent = "Blacking out… this rewrites the stored images.";
    this.applyButtons.forEach(function (b) { b.disabled = true; });
    var rects = this.rects.slice();
    fetch(this.maskUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": window.Consilium ? window.Consilium.csrfToken() : "",
      },
      body: JSON.stringify({ rects: rects, frame: scope === "all" ? null : this.frame }),
    })
      .then(function (response) {
        return response.json().catch(function () { return { ok: false, error: "The server answered " + response.status + "." }; });
      })
      .then(function (data) {
        if (!data.ok) throw new Error(data.error || "The mask could not be applied.");
        self.version = data.version;
        self.rects = [];
        self.changed();
        self.show(self.frame, true);
        self.status.textContent = data.message + " Preview updated.";
        var empty = self.masks.querySelector("[data-dicom-masks-empty]");
        if (empty) empty.remove();
        var li = document.createElement("li");
        li.textContent = (scope === "all" ? "Every frame" : "Frame " + self.frame) + ": " + rects.length + " box" + (rects.length === 1 ? "" : "es");
        self.masks.appendChild(li);
      })
      .catch(function (err) {
        self.status.textContent = "";
        self.fail(err.message || String(err));
        self.renderList();
      });
  };

  Review.prototype.bind = function () {
    var self = this;
    this.stage.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      e.preventDefault();
      self.stage.setPointerCapture(e.pointerId);
      var start = self.toImage(e.clientX, e.clientY);
      self.drawing = { id: e.pointerId, start: start, rect: null };
      self.stage.focus({ preventScroll: true });
    });
    this.stage.addEventListener("pointermove", function (e) {
      var d = self.drawing;
      if (!d || d.id !== e.pointerId) return;
      var at = self.toImage(e.clientX, e.clientY);
      var x = Math.floor(Math.min(d.start.x, at.x));
      var y = Math.floor(Math.min(d.start.y, at.y));
      d.rect = [x, y, Math.ceil(Math.max(d.start.x, at.x)) - x, Math.ceil(Math.max(d.start.y, at.y)) - y];
      self.draw();
    });
    function finish(e) {
      var d = self.drawing;
      if (!d || d.id !== e.pointerId) return;
      self.drawing = null;
      if (d.rect && e.type === "pointerup") self.add(d.rect);
      else self.draw();
    }
    this.stage.addEventListener("pointerup", finish);
    this.stage.addEventListener("pointercancel", finish);
    this.stage.addEventListener("keydown", function (e) {
      if (e.key === "ArrowLeft" || e.key === "ArrowUp") self.show(self.frame - 1);
      else if (e.key === "ArrowRight" || e.key === "ArrowDown") self.show(self.frame + 1);
      else if (e.key === "Home") self.show(1);
      else if (e.key === "End") self.show(self.total);
      else return;
      e.preventDefault();
    });
    this.stage.addEventListener("wheel", function (e) {
      e.preventDefault();
      self.show(self.frame + (e.deltaY > 0 ? 1 : -1));
    }, { passive: false });
    this.slider.addEventListener("input", function () { self.show(parseInt(self.slider.value, 10)); });
    document.querySelectorAll("[data-dicom-review-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        self.show(self.frame + parseInt(button.getAttribute("data-dicom-review-step"), 10));
      });
    });
    this.applyButtons.forEach(function (button) {
      button.addEventListener("click", function () { self.apply(button.getAttribute("data-dicom-apply")); });
    });
    this.clearButton.addEventListener("click", function () {
      self.rects = [];
      self.changed();
    });
    this.rectForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var values = ["x", "y", "w", "h"].map(function (name) {
        return parseInt(self.rectForm.elements[name].value, 10);
      });
      if (values.some(isNaN)) return;
      self.add(values);
      self.rectForm.reset();
    });
    this.img.addEventListener("load", function () { self.draw(); });
    window.addEventListener("resize", function () { self.draw(); });
  };

  function start() {
    var root = document.querySelector("[data-dicom-review]");
    var block = document.getElementById("dicom-review-data");
    if (!root || !block) return;
    var data = JSON.parse(block.textContent);
    if (!data.frames) return;
    window.ConsiliumDicomReview = new Review(root, data);
    window.ConsiliumDicomReview.renderList();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
