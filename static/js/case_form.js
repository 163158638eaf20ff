// Case create/edit form: autosave of drafts and live PHI warnings.
//
// Drafts are posted (debounced) to the form's autosave URL, which answers with
// the findings of the PHI scanner; other cases are only scanned. The first
// autosave of a new case creates the draft, and the form then edits it. The
// form works the same without this script: it just saves on submit.
(function () {
  "use strict";

  const form = document.querySelector("[data-case-form]");
  if (!form || !window.fetch) return;

  const SAVE_DELAY = 1500;
  const SCAN_DELAY = 600;
  const statusEl = document.querySelector("[data-autosave-status]");
  const summary = document.querySelector("[data-phi-summary]");
  const panel = document.getElementById("phi-panel");

  let draft = form.dataset.draft === "true";
  let timer = null;
  let inFlight = false;
  let again = false;
  let submitting = false;
  let dirty = false;
  let lastSaved = null;
  let lastSignature = null;
  // While the first autosave is creating the draft, a submit waits for it
  // (the form still points at "new" and would create a second draft).
  let creating = false;
  let heldSubmit;

  function setStatus(text, state) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.classList.toggle("is-saved", state === "saved");
    statusEl.classList.toggle("is-error", state === "error");
  }

  function formBody() {
    const data = new FormData(form);
    data.delete("action");
    return new URLSearchParams(data);
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(send, delay);
  }

  function clearErrors() {
    form.querySelectorAll("[data-autosave-error]").forEach(function (el) {
      el.hidden = true;
      el.textContent = "";
    });
  }

  function showErrors(errors) {
    Object.keys(errors).forEach(function (name) {
      const el = form.querySelector('[data-autosave-error="' + name + '"]');
      if (el) {
        el.textContent = errors[name].join(" ");
        el.hidden = false;
      }
    });
  }

  function checkedKeys() {
    const keys = new Set();
    const present = new Set();
    form.querySelectorAll('input[name="dismiss"]').forEach(function (box) {
      present.add(box.value);
      if (box.checked) keys.add(box.value);
    });
    return { checked: keys, present: present };
  }

  function findingItem(f, checked) {
    const li = document.createElement("li");
    li.className = "phi-item" + (checked ? " phi-item--dismissed" : "");
    const reason = document.createElement("p");
    reason.className = "phi-item__reason";
    const kind = document.createElement("span");
    kind.className = "phi-kind";
    kind.textContent = f.label;
    reason.appendChild(kind);
    reason.appendChild(document.createTextNode(" " + f.reason));
    const excerpt = document.createElement("p");
    excerpt.className = "phi-item__excerpt";
    const mark = document.createElement("mark");
    mark.textContent = f.match;
    excerpt.appendChild(document.createTextNode(f.before));
    excerpt.appendChild(mark);
    excerpt.appendChild(document.createTextNode(f.after));
    const label = document.createElement("label");
    label.className = "phi-item__dismiss";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "dismiss";
    box.value = f.key;
    box.checked = checked;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" Not identifying: keep it as written"));
    li.appendChild(reason);
    li.appendChild(excerpt);
    li.appendChild(label);
    return li;
  }

  function updateSummary() {
    if (!summary) return;
    const boxes = form.querySelectorAll('input[name="dismiss"]');
    boxes.forEach(function (box) {
      const item = box.closest(".phi-item");
      if (item) item.classList.toggle("phi-item--dismissed", box.checked);
    });
    const n = form.querySelectorAll(".phi-item:not(.phi-item--dismissed)").length;
    if (n) {
      summary.textContent = n + " possible identifier" + (n === 1 ? "" : "s") +
        " to fix or mark as not identifying.";
    } else if (boxes.length) {
      summary.textContent = "Every flagged item is marked as not identifying.";
    } else {
      summary.textContent = "No identifiers found in the text.";
    }
    if (panel) {
      panel.classList.toggle("phi-panel--warn", n > 0);
      panel.classList.toggle("phi-panel--ok", n === 0);
    }
  }

  function renderFindings(findings) {
    const signature = JSON.stringify(findings.map(function (f) {
      return [f.field, f.key, f.start, f.end, f.before, f.after];
    }));
    if (signature === lastSignature) return;
    lastSignature = signature;
    const state = checkedKeys();
    const byField = {};
    findings.forEach(function (f) {
      (byField[f.field] = byField[f.field] || []).push(f);
    });
    form.querySelectorAll("[data-phi-for]").forEach(function (box) {
      const list = byField[box.dataset.phiFor] || [];
      box.textContent = "";
      if (!list.length) return;
      const ul = document.createElement("ul");
      ul.className = "phi-list";
      ul.setAttribute("aria-label", "Possible identifiers in this field");
      list.forEach(function (f) {
        const checked = state.present.has(f.key) ? state.checked.has(f.key) : f.dismissed;
        ul.appendChild(findingItem(f, checked));
      });
      box.appendChild(ul);
    });
    updateSummary();
  }

  function send() {
    if (submitting) return;
    if (inFlight) {
      again = true;
      return;
    }
    const body = formBody();
    const key = body.toString();
    const hasTitle = (body.get("title") || "").trim() !== "";
    const saving = draft && hasTitle;
    if (saving && key === lastSaved) return;
    inFlight = true;
    creating = saving && !/\/\d+\/autosave\/$/.test(form.dataset.autosaveUrl);
    if (saving) setStatus("Saving…");
    fetch(saving ? form.dataset.autosaveUrl : form.dataset.scanUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": Consilium.csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        const type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("json") === -1) {
          throw new Error("session");
        }
        return response.json().then(function (json) {
          return { status: response.status, json: json };
        });
      })
      .then(function (result) {
        const json = result.json;
        if (json.findings) renderFindings(json.findings);
        if (!saving) {
          if (draft && !hasTitle) setStatus("Add a title and the draft saves automatically.");
          return;
        }
        clearErrors();
        if (json.ok) {
          lastSaved = key;
          dirty = formBody().toString() !== key;
          if (json.edit_url) {
            // setAttribute: the submit buttons are named "action" and shadow form.action.
            form.setAttribute("action", json.edit_url);
            form.dataset.autosaveUrl = json.autosave_url;
            history.replaceState(null, "", json.edit_url);
          }
          const time = Consilium.formatTime(json.saved_at, {
            hour: "2-digit",
            minute: "2-digit",
          });
          setStatus("Draft saved at " + time, "saved");
        } else if (json.errors) {
          showErrors(json.errors);
          setStatus("Not saved yet: see the messages below the fields.", "error");
        } else {
          if (result.status === 409) draft = false;
          setStatus(json.error || "Not saved.", "error");
        }
      })
      .catch(function (error) {
        if (error && error.message === "session") {
          setStatus("Not saved: you may have been logged out. Log in again in another tab; your text is still here.", "error");
        } else {
          setStatus("Can't reach the server: not saved yet. Your text is still here.", "error");
        }
      })
      .finally(function () {
        inFlight = false;
        creating = false;
        if (heldSubmit !== undefined) {
          const submitter = heldSubmit;
          heldSubmit = undefined;
          form.requestSubmit(submitter || undefined);
          return;
        }
        if (again) {
          again = false;
          schedule(0);
        }
      });
  }

  form.addEventListener("input", function (event) {
    if (event.target.name === "dismiss") return;
    dirty = true;
    schedule(draft ? SAVE_DELAY : SCAN_DELAY);
  });

  form.addEventListener("change", function (event) {
    if (event.target.name === "dismiss") {
      updateSummary();
      dirty = true;
      if (draft) schedule(300);
      return;
    }
    if (event.target.tagName === "SELECT" || event.target.type === "radio") {
      dirty = true;
      schedule(draft ? 300 : SCAN_DELAY);
    }
  });

  form.addEventListener("submit", function (event) {
    if (creating) {
      event.preventDefault();
      heldSubmit = event.submitter || null;
      return;
    }
    submitting = true;
    clearTimeout(timer);
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Scan once on load, so warnings show for text restored by the browser.
  if (!draft) schedule(0);
})();
