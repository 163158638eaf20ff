/* Consilium annotations: videos. Markers for the comments pinned to times,
 * a caption near them while playing, and "Comment at 0:12". */
(function () {
  "use strict";

  var A = window.Consilium.annotations;
  var NEAR_SECONDS = A.NEAR_SECONDS;
  var notes = A.notes;
  var el = A.el;
  var clock = A.clock;
  var notesFor = A.notesFor;
  var canAnnotate = A.canAnnotate;
  var handOver = A.handOver;
  var actionsRow = A.actionsRow;

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
    } else if (A.focused && near.some(function (n) { return n.id === A.focused; })) {
      var f = notes.get(A.focused);
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
      var li = el("li", "annot-track__item" + (n.id === A.focused ? " annot--focus" : ""));
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

  Object.assign(A, {
    VideoStage: VideoStage,
  });
})();
