/* Consilium annotations: photos. Every annotation drawn over its photo, and
 * the "Annotate" tools: drag an arrow, circle or box, or move and resize a
 * preset box with the arrow keys, then hand the region to the composer. */
(function () {
  "use strict";

  var A = window.Consilium.annotations;
  var SHAPES = A.SHAPES;
  var KEY_STEP = A.KEY_STEP;
  var KEY_STEP_FINE = A.KEY_STEP_FINE;
  var PRESET = A.PRESET;
  var el = A.el;
  var svg = A.svg;
  var clamp = A.clamp;
  var round4 = A.round4;
  var notesFor = A.notesFor;
  var canAnnotate = A.canAnnotate;
  var handOver = A.handOver;
  var naturalSize = A.naturalSize;
  var imagePoint = A.imagePoint;
  var actionsRow = A.actionsRow;
  var drawShape = A.drawShape;
  var overlayFor = A.overlayFor;
  var placeOver = A.placeOver;

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
      var g = svg("g", { "class": "annot" + (n.id === A.focused ? " annot--focus" : "") });
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

  Object.assign(A, {
    PhotoStage: PhotoStage,
  });
})();
