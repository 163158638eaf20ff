/* Consilium annotations: overlay geometry. Where a pointer falls on a
 * letterboxed image, the SVG overlay laid over an image, and the shapes
 * (arrow, circle, box) drawn in it. */
(function () {
  "use strict";

  var A = window.Consilium.annotations;
  var el = A.el;
  var svg = A.svg;
  var clamp = A.clamp;

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

  Object.assign(A, {
    naturalSize: naturalSize,
    imagePoint: imagePoint,
    actionsRow: actionsRow,
    drawShape: drawShape,
    overlayFor: overlayFor,
    placeOver: placeOver,
  });
})();
