/* Consilium annotations: the DICOM viewer. Pins on the slice shown, and
 * "Comment on this slice" (click the point, or move a crosshair with the
 * arrow keys). */
(function () {
  "use strict";

  var A = window.Consilium.annotations;
  var KEY_STEP = A.KEY_STEP;
  var KEY_STEP_FINE = A.KEY_STEP_FINE;
  var el = A.el;
  var svg = A.svg;
  var clamp = A.clamp;
  var round4 = A.round4;
  var notesFor = A.notesFor;
  var canAnnotate = A.canAnnotate;
  var handOver = A.handOver;
  var naturalSize = A.naturalSize;
  var imagePoint = A.imagePoint;
  var overlayFor = A.overlayFor;
  var placeOver = A.placeOver;

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
      var g = svg("g", { "class": "annot annot--pin" + (n.id === A.focused ? " annot--focus" : "") + (n.draft ? " annot--draft" : "") });
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

  Object.assign(A, {
    SliceStage: SliceStage,
  });
})();
