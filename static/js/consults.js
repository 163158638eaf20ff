// Consilium: the case page's consult panel, kept live, and the consult request
// form's due-time hint.
//
// Live updates: the case page's realtime client dispatches
//   document.dispatchEvent(new CustomEvent("consilium:case-frame", {detail: frame}))
// for every frame it receives on /ws/cases/<id>/. This file reacts to
// "consult.updated" (see consults/services/__init__.py for the payload) and
// "hello". Without JavaScript every control is a plain form.
// (The differential panel and the ICD-10 search are differentials.js.)
(function () {
  "use strict";

  const Clinical = (window.ConsiliumClinical = window.ConsiliumClinical || {});
  if (Clinical.consultPanels) return; // the script may be included twice
  Clinical.consultPanels = [];

  // --- Consult panel on the case page ---------------------------------------------------

  function ConsultPanel(root) {
    this.root = root;
    this.caseId = root.dataset.caseId;
    this.url = root.dataset.fragmentUrl;
    this.live = root.querySelector("[data-consults-live]");
    this.sent = 0; // sequence number of the latest request
    this.shown = 0; // sequence number of the response on the page
  }

  // Every frame re-fetches the panel; responses may arrive out of order, so
  // one older than what is shown is dropped (it predates a later change).
  ConsultPanel.prototype.refresh = function () {
    const self = this;
    const seq = ++this.sent;
    return fetch(this.url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (seq <= self.shown) return;
        self.shown = seq;
        self.live.innerHTML = html;
        self.root.dataset.consultsSeq = String(seq);
      })
      .catch(function () {});
  };

  // --- Consult request form: show the default due time for the chosen urgency -----------

  function dueHint(form) {
    const defaults = {};
    (form.dataset.dueDefaults || "").split(",").forEach(function (pair) {
      const kv = pair.split(":");
      if (kv.length === 2) defaults[kv[0]] = parseInt(kv[1], 10);
    });
    const due = form.querySelector('input[name="due_at"]');
    if (!due) return;
    const hint = document.createElement("p");
    hint.className = "help";
    hint.setAttribute("aria-live", "polite");
    hint.id = "due-default-hint";
    due.parentNode.appendChild(hint);
    function update() {
      const checked = form.querySelector('input[name="urgency"]:checked');
      const minutes = checked ? defaults[checked.value] : null;
      if (!minutes) { hint.textContent = ""; return; }
      const when = new Date(Date.now() + minutes * 60000);
      const span = minutes >= 120 ? Math.round(minutes / 60) + " hours" : minutes + " minutes";
      hint.textContent = "Default if left empty: " + Consilium.formatTime(when, { dateStyle: "medium", timeStyle: "short" }) + " your time (in " + span + ").";
    }
    form.addEventListener("change", function (ev) { if (ev.target.name === "urgency") update(); });
    update();
  }

  // --- Wiring ---------------------------------------------------------------------------

  function init() {
    const consultPanels = Clinical.consultPanels;
    document.querySelectorAll("[data-consults][data-fragment-url]").forEach(function (root) { consultPanels.push(new ConsultPanel(root)); });
    document.querySelectorAll("form[data-consult-form]").forEach(dueHint);
    document.addEventListener("consilium:case-frame", function (ev) {
      const frame = ev.detail || {};
      if (frame.type === "consult.updated") {
        consultPanels.forEach(function (p) { if (String(p.caseId) === String(frame.case)) p.refresh(); });
      } else if (frame.type === "hello") {
        // After a (re)connect, anything may have changed while we were away.
        consultPanels.forEach(function (p) { p.refresh(); });
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
