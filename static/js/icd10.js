// Consilium: ICD-10 search-as-you-type for a diagnosis label (the differential
// forms and the consult answer's suggestions). Each `[data-icd-url]` container
// holds a label input (name ending "label") and a hidden code input (name
// ending "icd10_code"); the input becomes an ARIA combobox over the list the
// URL returns. Without JavaScript the label is plain text and the code empty.
(function () {
  "use strict";

  if (window.ConsiliumIcd10) return; // the script may be included twice
  window.ConsiliumIcd10 = true;

  let comboCount = 0;

  function Combo(container) {
    this.url = container.dataset.icdUrl;
    this.input = container.querySelector('input[name$="label"]');
    this.code = container.querySelector('input[name$="icd10_code"]');
    if (!this.input || !this.url) return;
    comboCount += 1;
    const listId = this.input.getAttribute("aria-controls");
    this.list = listId ? document.getElementById(listId) : null;
    if (!this.list) {
      this.list = document.createElement("ul");
      this.list.className = "dx-suggest";
      this.list.id = "dx-suggest-auto-" + comboCount;
      this.list.setAttribute("role", "listbox");
      this.list.setAttribute("aria-label", "ICD-10 suggestions");
      this.list.hidden = true;
      this.input.parentNode.classList.add("dx-combo");
      this.input.parentNode.appendChild(this.list);
      this.input.setAttribute("role", "combobox");
      this.input.setAttribute("aria-autocomplete", "list");
      this.input.setAttribute("aria-expanded", "false");
      this.input.setAttribute("aria-controls", this.list.id);
      this.input.setAttribute("autocomplete", "off");
    }
    this.items = [];
    this.active = -1;
    this.timer = null;
    this.seq = 0;
    this.bind();
  }

  Combo.prototype.close = function () {
    this.list.hidden = true;
    this.list.innerHTML = "";
    this.items = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Combo.prototype.render = function (results) {
    const self = this;
    this.list.innerHTML = "";
    this.items = results;
    this.active = -1;
    if (!results.length) { this.close(); return; }
    results.forEach(function (r, i) {
      const li = document.createElement("li");
      li.id = self.list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const code = document.createElement("span");
      code.className = "dx-code";
      code.textContent = r.code;
      const title = document.createElement("span");
      title.textContent = r.title;
      li.appendChild(code);
      li.appendChild(title);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); self.choose(i); });
      self.list.appendChild(li);
    });
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Combo.prototype.highlight = function (i) {
    const options = this.list.querySelectorAll("[role=option]");
    if (!options.length) return;
    this.active = (i + options.length) % options.length;
    options.forEach(function (o, n) { o.setAttribute("aria-selected", n === this.active ? "true" : "false"); }, this);
    const el = options[this.active];
    this.input.setAttribute("aria-activedescendant", el.id);
    el.scrollIntoView({ block: "nearest" });
  };

  Combo.prototype.choose = function (i) {
    const r = this.items[i];
    if (!r) return;
    this.input.value = r.title;
    if (this.code) this.code.value = r.code;
    this.close();
    this.input.focus();
  };

  Combo.prototype.search = function () {
    const self = this;
    const q = this.input.value.trim();
    if (q.length < 2) { this.close(); return; }
    const seq = ++this.seq;
    fetch(this.url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (seq === self.seq) self.render(data.results || []); })
      .catch(function () {});
  };

  Combo.prototype.bind = function () {
    const self = this;
    this.input.addEventListener("input", function () {
      clearTimeout(self.timer);
      self.timer = setTimeout(function () { self.search(); }, 150);
    });
    this.input.addEventListener("keydown", function (ev) {
      if (self.list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); self.highlight(self.active + 1); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); self.highlight(self.active - 1); }
      else if (ev.key === "Enter" && self.active >= 0) { ev.preventDefault(); self.choose(self.active); }
      else if (ev.key === "Escape") { ev.preventDefault(); self.close(); }
    });
    this.input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 100); });
  };

  function init() {
    document.querySelectorAll("[data-icd-url]").forEach(function (container) { new Combo(container); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
