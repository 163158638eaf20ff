/* Face review: outline the proposed faces on the picture, follow the
   checkboxes, and let the uploader drag out more regions to blur. Rects are
   kept in the pixels of the stored picture ("frame"), whatever size it is
   shown at, and sent as JSON in the form's `drawn` field. */
(function () {
  "use strict";

  const MIN_SIDE = 6;

  function start() {
    const dataEl = document.getElementById("face-data");
    const stage = document.querySelector("[data-face-stage]");
    const form = document.querySelector("[data-face-form]");
    if (!dataEl || !stage || !form) return;
    const data = JSON.parse(dataEl.textContent);
    const frameW = Number(data.frame.width) || 1;
    const frameH = Number(data.frame.height) || 1;
    const drawnList = form.querySelector("[data-face-drawn]");
    const drawnEmpty = form.querySelector("[data-face-drawn-empty]");
    const drawnInput = form.querySelector("[data-face-drawn-input]");
    const drawn = [];

    function box(rect, kind, label) {
      const el = document.createElement("div");
      el.className = "face-box face-box--" + kind;
      place(el, rect);
      if (label) {
        const tag = document.createElement("span");
        tag.className = "face-box__label";
        tag.textContent = label;
        el.appendChild(tag);
      }
      stage.appendChild(el);
      return el;
    }

    function place(el, r) {
      el.style.left = (r[0] / frameW) * 100 + "%";
      el.style.top = (r[1] / frameH) * 100 + "%";
      el.style.width = (r[2] / frameW) * 100 + "%";
      el.style.height = (r[3] / frameH) * 100 + "%";
    }

    (data.blurred || []).forEach(function (r) { box(r, "done", "Blurred"); });
    (data.proposed || []).forEach(function (face) {
      const el = box(face.rect, "proposed", face.label);
      const check = form.querySelector('input[data-face-id="' + face.id + '"]');
      if (!check) return;
      const sync = function () { el.classList.toggle("face-box--off", !check.checked); };
      check.addEventListener("change", sync);
      sync();
    });

    function render() {
      drawnInput.value = JSON.stringify(drawn.map(function (d) { return d.rect; }));
      drawnList.textContent = "";
      drawn.forEach(function (d, i) {
        d.el.querySelector(".face-box__label").textContent = "Region " + (i + 1);
        const li = document.createElement("li");
        li.className = "row";
        const text = document.createElement("span");
        text.textContent = "Region " + (i + 1);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn btn--small btn--secondary";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove region " + (i + 1));
        remove.addEventListener("click", function () {
          d.el.remove();
          drawn.splice(drawn.indexOf(d), 1);
          render();
        });
        li.append(text, remove);
        drawnList.appendChild(li);
      });
      drawnEmpty.hidden = drawn.length > 0;
    }

    function add(rect) {
      const el = box(rect, "drawn", "Region");
      drawn.push({ rect: rect, el: el });
      render();
    }

    function toFrame(ev) {
      const bounds = stage.getBoundingClientRect();
      const x = Math.min(Math.max(ev.clientX - bounds.left, 0), bounds.width);
      const y = Math.min(Math.max(ev.clientY - bounds.top, 0), bounds.height);
      return [(x / bounds.width) * frameW, (y / bounds.height) * frameH];
    }

    let origin = null;
    let ghost = null;
    stage.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      ev.preventDefault();
      origin = toFrame(ev);
      ghost = box([origin[0], origin[1], 0, 0], "drawing");
      stage.setPointerCapture(ev.pointerId);
    });
    function rectTo(ev) {
      const p = toFrame(ev);
      return [
        Math.round(Math.min(origin[0], p[0])),
        Math.round(Math.min(origin[1], p[1])),
        Math.round(Math.abs(p[0] - origin[0])),
        Math.round(Math.abs(p[1] - origin[1])),
      ];
    }
    stage.addEventListener("pointermove", function (ev) {
      if (origin) place(ghost, rectTo(ev));
    });
    function end(ev) {
      if (!origin) return;
      const rect = rectTo(ev);
      ghost.remove();
      origin = ghost = null;
      if (rect[2] >= MIN_SIDE && rect[3] >= MIN_SIDE) add(rect);
    }
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", function () {
      if (ghost) ghost.remove();
      origin = ghost = null;
    });

    // Drawing needs a pointer; covering the whole picture does not.
    const whole = document.createElement("button");
    whole.type = "button";
    whole.className = "btn btn--small btn--secondary";
    whole.textContent = "Blur the whole picture";
    whole.addEventListener("click", function () { add([0, 0, frameW, frameH]); });
    drawnList.parentNode.appendChild(whole);
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
