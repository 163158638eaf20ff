// Consilium: the differential list (votes, decisions, live ranking) and the
// case's status and outcome, live. (ICD-10 search-as-you-type is icd10.js.)
//
// Live updates: the case page's realtime client dispatches
//   document.dispatchEvent(new CustomEvent("consilium:case-frame", {detail: frame}))
// for every frame it receives on /ws/cases/<id>/. This file reacts to
// "differential.updated" (see diagnoses/services/__init__.py for the payload)
// and "case.updated". Without JavaScript every control is a plain form.
// (The consult panel and the consult request form are consults.js.)
(function () {
  "use strict";

  const Clinical = (window.ConsiliumClinical = window.ConsiliumClinical || {});
  if (Clinical.panels) return; // the script may be included twice
  Clinical.panels = [];

  function csrf() {
    return window.Consilium && Consilium.csrfToken ? Consilium.csrfToken() : "";
  }

  function toast(text) {
    if (window.Consilium && Consilium.toast) Consilium.toast(text);
  }

  // The form's own URL. Not `form.action`: the decision forms have an input
  // named "action", which shadows the property (it would post to
  // "/cases/<id>/[object HTMLInputElement]").
  function formUrl(form) {
    return form.getAttribute("action") || location.href;
  }

  function postForm(form, submitter) {
    const body = new FormData(form);
    if (submitter && submitter.name) body.append(submitter.name, submitter.value);
    return fetch(formUrl(form), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    }).then(function (response) {
      return response
        .json()
        .catch(function () { return { ok: false, message: "Something went wrong (" + response.status + ")." }; })
        .then(function (data) { data.status = response.status; return data; });
    });
  }

  // --- PHI findings ---------------------------------------------------------------------
  // A refusal from the PHI gate answers {code: "phi_found", findings: [{key, field, kind,
  // label, text, reason, start, end}]}. Each finding is listed in the form with a "not identifying" box named
  // "dismiss" (the case form's markup, templates/cases/_phi_list.html), so sending the form
  // again with the boxes ticked lets the text through; boxes ticked earlier stay.

  function phiItem(f, checked) {
    const li = document.createElement("li");
    li.className = "phi-item" + (checked ? " phi-item--dismissed" : "");
    li.dataset.phiKey = f.key;
    const reason = document.createElement("p");
    reason.className = "phi-item__reason";
    const kind = document.createElement("span");
    kind.className = "phi-kind";
    kind.textContent = f.label || f.kind;
    reason.appendChild(kind);
    reason.appendChild(document.createTextNode(" " + (f.reason || "")));
    const excerpt = document.createElement("p");
    excerpt.className = "phi-item__excerpt";
    const mark = document.createElement("mark");
    mark.textContent = f.text;
    excerpt.appendChild(mark);
    const label = document.createElement("label");
    label.className = "phi-item__dismiss";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "dismiss";
    box.value = f.key;
    box.checked = !!checked;
    box.addEventListener("change", function () { li.classList.toggle("phi-item--dismissed", box.checked); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" Not identifying: keep it as written"));
    li.appendChild(reason);
    li.appendChild(excerpt);
    li.appendChild(label);
    return li;
  }

  // List `findings` in `form`; returns the list element.
  function showFindings(form, findings) {
    let box = form.querySelector("[data-phi-findings]");
    if (!box) {
      box = document.createElement("div");
      box.className = "phi-findings";
      box.setAttribute("data-phi-findings", "");
      const submit = form.querySelector('button[type="submit"], button:not([type])');
      if (submit) submit.parentNode.insertBefore(box, submit);
      else form.appendChild(box);
    }
    const kept = Array.prototype.filter.call(
      box.querySelectorAll('input[name="dismiss"]'), function (b) { return b.checked; }
    ).map(function (b) { return b.closest(".phi-item"); });
    const ul = document.createElement("ul");
    ul.className = "phi-list";
    ul.setAttribute("aria-label", "Possible identifiers");
    const seen = {};
    kept.forEach(function (li) { seen[li.dataset.phiKey] = true; ul.appendChild(li); });
    (findings || []).forEach(function (f) {
      if (seen[f.key]) return;
      seen[f.key] = true;
      ul.appendChild(phiItem(f, false));
    });
    box.innerHTML = "";
    box.appendChild(ul);
    box.hidden = false;
    return ul;
  }

  function clearFindings(form) {
    const box = form.querySelector("[data-phi-findings]");
    if (box) box.remove();
  }

  Clinical.showFindings = showFindings;

  // --- Differential panel --------------------------------------------------------------

  function Panel(root) {
    this.root = root;
    this.caseId = root.dataset.caseId;
    this.url = root.dataset.fragmentUrl;
    this.live = root.querySelector("[data-dx-live]");
    this.announcer = root.querySelector("[data-dx-announce]");
    this.pending = null;
    this.voteTimers = {};
    this.bind();
  }

  Panel.prototype.version = function () {
    const el = this.live.querySelector("[data-dx-version]");
    return el ? parseInt(el.dataset.dxVersion || "0", 10) : 0;
  };

  Panel.prototype.order = function () {
    return this.root.dataset.order || "consensus";
  };

  Panel.prototype.announce = function (text) {
    if (!this.announcer || !text) return;
    this.announcer.textContent = "";
    const el = this.announcer;
    setTimeout(function () { el.textContent = text; }, 50);
  };

  // Fetch the server-rendered list (own votes and permitted actions included).
  Panel.prototype.refresh = function () {
    const self = this;
    if (this.pending) { this.again = true; return this.pending; }
    const url = this.url + "?order=" + encodeURIComponent(this.order());
    this.pending = fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { self.swap(html); })
      .catch(function () {})
      .then(function () {
        self.pending = null;
        // A frame arrived while fetching: what we got may predate it.
        if (self.again) { self.again = false; self.refresh(); }
      });
    return this.pending;
  };

  // A form someone is filling in (typed into, or showing a refusal and its
  // PHI findings) is identified by its entry, its kind and its action.
  function formKey(form) {
    const item = form.closest("[data-dx-id]");
    const action = form.querySelector('input[name="action"]');
    return (item ? item.dataset.dxId : "") + "|" + (form.dataset.dxForm || "") +
      "|" + (action ? action.value : "");
  }

  function inUse(form) {
    const errors = form.querySelector("[data-dx-errors]");
    return form.dataset.dxTouched === "1" || Boolean(errors && !errors.hidden);
  }

  Panel.prototype.swap = function (html) {
    const active = document.activeElement;
    const activeId = active && this.live.contains(active) ? active.id : null;
    const openDetails = Array.prototype.map.call(
      this.live.querySelectorAll("details[open]"),
      function (d) { const item = d.closest("[data-dx-id]"); return (item ? item.dataset.dxId : "") + "|" + d.className; }
    );
    // A refresh (someone else's change, or a late frame) must not wipe what
    // the user is typing or the findings they are answering: such forms
    // are carried over into the new list, where their entry still has one.
    const kept = {};
    Array.prototype.forEach.call(this.live.querySelectorAll("form[data-dx-form]"), function (form) {
      if (inUse(form)) kept[formKey(form)] = form;
    });
    this.live.innerHTML = html;
    Array.prototype.forEach.call(this.live.querySelectorAll("form[data-dx-form]"), function (form) {
      const old = kept[formKey(form)];
      if (old) form.replaceWith(old);
    });
    openDetails.forEach(function (key) {
      const parts = key.split("|");
      const scope = parts[0] ? this.live.querySelector('[data-dx-id="' + parts[0] + '"]') : this.live;
      const d = scope && scope.querySelector("details." + parts[1].trim().split(/\s+/).join("."));
      if (d) d.open = true;
    }, this);
    if (activeId) {
      const again = document.getElementById(activeId);
      if (again) again.focus({ preventScroll: true });
    }
  };

  function sameShape(list, ranking) {
    const items = list ? list.querySelectorAll("[data-dx-id]") : [];
    if (items.length !== ranking.length) return false;
    const status = {};
    ranking.forEach(function (e) { status[String(e.id)] = e.status; });
    return Array.prototype.every.call(items, function (li) {
      return status[li.dataset.dxId] === li.dataset.status;
    });
  }

  function fmt(n) {
    if (n === null || n === undefined) return "–";
    return String(Math.round(n * 10) / 10);
  }

  // Apply a differential.updated frame: numbers in place when only the numbers
  // or the order changed; otherwise re-fetch the list (new entries, decisions).
  Panel.prototype.applyFrame = function (frame) {
    if (String(frame.case) !== String(this.caseId)) return;
    if (typeof frame.version === "number" && frame.version <= this.version()) return;
    // Independent cases: what this viewer may see depends on their round, so
    // the server renders it (the consumer already stripped others' votes).
    if (frame.independent || frame.hidden) {
      this.refresh();
      this.announce(frame.summary);
      return;
    }
    const list = this.live.querySelector("[data-dx-list]");
    const ranking = frame.ranking || [];
    const wrap = this.live.querySelector("[data-dx-version]");
    if (!list || !sameShape(list, ranking) || (wrap && wrap.dataset.caseStatus !== frame.case_status)) {
      this.refresh();
      this.announce(frame.summary);
      return;
    }
    const byId = {};
    Array.prototype.forEach.call(list.querySelectorAll("[data-dx-id]"), function (li) { byId[li.dataset.dxId] = li; });
    ranking.forEach(function (e) {
      const li = byId[String(e.id)];
      li.dataset.rank = e.rank;
      li.dataset.position = e.position;
      const set = function (sel, text) { const el = li.querySelector(sel); if (el) el.textContent = text; };
      set("[data-dx-rank]", String(e.rank));
      set("[data-dx-label]", e.label);
      set('[data-dx-stat="mean"]', fmt(e.mean));
      set('[data-dx-stat="spread"]', e.spread === null ? "–" : "±" + fmt(e.spread));
      set('[data-dx-stat="voters"]', String(e.voters));
      set('[data-dx-stat="proposer"]', e.proposer_estimate === null ? "–" : String(e.proposer_estimate));
      const fill = li.querySelector("[data-dx-fill]");
      if (fill) fill.setAttribute("width", e.mean === null ? "0" : String(e.mean));
      const band = li.querySelector("[data-dx-spread]");
      if (band) {
        const lo = e.mean === null ? 0 : Math.max(0, e.mean - (e.spread || 0));
        const hi = e.mean === null ? 0 : Math.min(100, e.mean + (e.spread || 0));
        band.setAttribute("x", String(lo));
        band.setAttribute("width", String(hi - lo));
      }
      const meter = li.querySelector("[data-dx-meter]");
      if (meter) {
        meter.setAttribute(
          "aria-label",
          e.voters ? "Mean likelihood " + fmt(e.mean) + " out of 100, spread " + fmt(e.spread) + ", " + e.voters + " voter" + (e.voters === 1 ? "" : "s") : "No votes yet"
        );
      }
      if (frame.differential === e.id) {
        li.classList.remove("is-updated");
        void li.offsetWidth; // restart the highlight animation
        li.classList.add("is-updated");
      }
    });
    const key = this.order() === "working" ? "position" : "rank";
    const focused = document.activeElement;
    const ordered = ranking.slice().sort(function (a, b) { return a[key] - b[key] || a.id - b.id; });
    ordered.forEach(function (e) { list.appendChild(byId[String(e.id)]); });
    if (focused && list.contains(focused)) focused.focus({ preventScroll: true });
    if (wrap) wrap.dataset.dxVersion = String(frame.version);
    const final = this.live.querySelector("[data-dx-final]");
    if (final) {
      final.hidden = !frame.final_diagnosis;
      const label = final.querySelector("[data-dx-final-label]");
      if (label) label.textContent = frame.final_diagnosis || "";
    }
    this.announce(frame.summary);
  };

  Panel.prototype.showErrors = function (form, data) {
    let box = form.querySelector("[data-dx-errors]");
    const message = data.message || data.error || "That didn't work.";
    if (data.code === "phi_found") {
      if (!box) {
        box = document.createElement("div");
        box.className = "form-errors";
        box.setAttribute("role", "alert");
        box.setAttribute("data-dx-errors", "");
        form.insertBefore(box, form.firstChild);
      }
      showFindings(form, data.findings);
      const details = form.closest("details");
      if (details) details.open = true;
    }
    if (box) {
      box.innerHTML = "";
      const p = document.createElement("p");
      p.textContent = message;
      box.appendChild(p);
      box.hidden = false;
    } else {
      toast(message);
    }
    this.announce(message);
  };

  Panel.prototype.submit = function (form, submitter) {
    const self = this;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    form.setAttribute("aria-busy", "true");
    postForm(form, submitter)
      .then(function (data) {
        if (!data.ok) { self.showErrors(form, data); return; }
        delete form.dataset.dxTouched;
        const box = form.querySelector("[data-dx-errors]");
        if (box) box.hidden = true;
        clearFindings(form);
        if (form.dataset.dxForm === "add") {
          form.reset();
          const label = form.querySelector('input[name="label"]');
          if (label) label.focus();
        }
        self.announce(data.message);
        return self.refresh();
      })
      .catch(function () { toast("Network problem: your change was not saved."); })
      .then(function () { form.removeAttribute("aria-busy"); });
  };

  Panel.prototype.bind = function () {
    const self = this;
    this.root.addEventListener("input", function (ev) {
      const form = ev.target.closest && ev.target.closest("form[data-dx-form]");
      if (form && ev.target.type !== "checkbox") form.dataset.dxTouched = "1";
    });
    this.root.addEventListener("submit", function (ev) {
      const form = ev.target.closest("form[data-dx-form]");
      if (!form || !window.fetch) return;
      ev.preventDefault();
      self.submit(form, ev.submitter);
    });
    // The slider saves itself shortly after the user settles on a value.
    this.root.addEventListener("input", function (ev) {
      const slider = ev.target.closest("[data-dx-slider]");
      if (!slider) return;
      slider.removeAttribute("data-unset");
      const out = slider.parentNode.querySelector("[data-dx-output]");
      if (out) out.textContent = slider.value;
    });
    this.root.addEventListener("change", function (ev) {
      const slider = ev.target.closest("[data-dx-slider]");
      if (!slider) return;
      const form = slider.form;
      const key = formUrl(form);
      clearTimeout(self.voteTimers[key]);
      self.voteTimers[key] = setTimeout(function () { self.submit(form, null); }, 350);
    });
    this.root.addEventListener("click", function (ev) {
      const link = ev.target.closest("[data-dx-order]");
      if (!link || !self.url) return;
      ev.preventDefault();
      self.root.dataset.order = link.dataset.dxOrder;
      self.root.querySelectorAll("[data-dx-order]").forEach(function (a) {
        if (a === link) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
      });
      const url = new URL(location.href);
      url.searchParams.set("dx_order", link.dataset.dxOrder);
      history.replaceState(null, "", url.pathname + url.search + "#differentials");
      self.refresh();
    });
  };

  // --- Case status, live ----------------------------------------------------------------
  // case.updated carries the new status (and, on resolving, final_diagnosis): the page's
  // status badge and outcome panel follow it without a reload.
  const STATUS_LABELS = { draft: "Draft", published: "Published", resolved: "Resolved", archived: "Archived" };

  function caseStatus(frame) {
    const article = document.querySelector("[data-case-id]");
    if (!article || String(article.dataset.caseId) !== String(frame.case) || !frame.status) return;
    const pill = document.querySelector("[data-case-status-pill]");
    if (pill && pill.dataset.status !== frame.status) {
      pill.dataset.status = frame.status;
      pill.className = "pill pill--" + frame.status;
      pill.textContent = STATUS_LABELS[frame.status] || frame.status;
      toast("This case is now " + (STATUS_LABELS[frame.status] || frame.status).toLowerCase() + ".");
    }
    const outcome = document.querySelector("[data-case-outcome]");
    if (outcome) {
      const resolved = frame.status === "resolved";
      if (resolved && frame.final_diagnosis) {
        const dx = outcome.querySelector("[data-case-outcome-dx]");
        if (dx) dx.textContent = frame.final_diagnosis;
      }
      const date = outcome.querySelector("[data-case-outcome-date]");
      if (date && resolved && frame.resolved_at) {
        const time = date.querySelector("time") || document.createElement("time");
        time.setAttribute("datetime", frame.resolved_at);
        time.textContent = frame.resolved_on || frame.resolved_at.slice(0, 10);
        date.textContent = "Resolved ";
        date.appendChild(time);
        date.hidden = false;
      }
      outcome.hidden = !resolved || !(outcome.querySelector("[data-case-outcome-dx]") || {}).textContent;
    }
    if (frame.status !== "published") {
      const resolve = document.querySelector("[data-case-resolve]");
      if (resolve) resolve.hidden = true;
    }
  }

  // --- Wiring ---------------------------------------------------------------------------

  function init() {
    const panels = Clinical.panels;
    document.querySelectorAll("[data-dx][data-fragment-url]").forEach(function (root) { panels.push(new Panel(root)); });
    document.addEventListener("consilium:case-frame", function (ev) {
      const frame = ev.detail || {};
      if (frame.type === "differential.updated") {
        panels.forEach(function (p) { p.applyFrame(frame); });
      } else if (frame.type === "case.updated") {
        caseStatus(frame);
        // Autosaves announce case.updated too: re-fetch only when the status moved.
        panels.forEach(function (p) {
          if (String(p.caseId) !== String(frame.case)) return;
          const wrap = p.live.querySelector("[data-dx-version]");
          if (!wrap || wrap.dataset.caseStatus !== frame.status) p.refresh();
        });
      } else if (frame.type === "finding.added" || frame.type === "finding.updated") {
        panels.forEach(function (p) { if (String(p.caseId) === String(frame.case)) p.refresh(); });
      } else if (frame.type === "media.updated") {
        // A finding's case copy shows once it is reviewed, released and ready;
        // those steps are announced as media changes, so findings follow them.
        panels.forEach(function (p) { if (p.root.querySelector("[data-finding]")) p.refresh(); });
      } else if (frame.type === "hello") {
        // After a (re)connect, anything may have changed while we were away.
        panels.forEach(function (p) { p.refresh(); });
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();