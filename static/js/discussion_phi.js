// Consilium live discussion: the PHI gate's findings panel, shared by the
// composer, the inline editor and the new-topic form.
(function () {
  "use strict";

  const D = window.Consilium.discussion;
  const el = D.el;
  const utf16Index = D.utf16Index;

  let phiPanels = 0;

  // The PHI gate refused a text (`phi_found`): show each finding in context
  // with its reason, an "Edit" that selects it in `field`, and a "Not
  // identifying" box; `onSend` resends with the ticked keys (held.dismissed).
  // held: {body, findings, dismissed: Set of keys}.
  function renderPhiPanel(container, held, opts) {
    const n = ++phiPanels;
    container.textContent = "";
    container.hidden = false;
    const findings = held.findings || [];
    const count = findings.length;
    const summary = el("p", "phi-findings__summary");
    summary.id = "phi-summary-" + n;
    summary.setAttribute("role", "alert");
    summary.appendChild(el("strong", null, "Not " + opts.verb + " yet: "));
    summary.appendChild(document.createTextNode(
      count + " possible identifier" + (count === 1 ? "" : "s") + " found. Edit " + opts.what +
      ", or mark each item as not identifying and choose “" + opts.sendLabel + "”."));
    container.appendChild(summary);

    // The refused text with every finding highlighted.
    const chars = Array.from(held.body || "");
    const spans = findings.slice().sort(function (a, b) { return a.start - b.start; });
    const preview = el("p", "phi-findings__preview");
    preview.setAttribute("aria-label", "Flagged in what you sent");
    let at = 0;
    spans.forEach(function (f) {
      if (f.start < at) return; // overlapping: the first one is shown
      preview.appendChild(document.createTextNode(chars.slice(at, f.start).join("")));
      const mark = el("mark", "phi-mark", chars.slice(f.start, f.end).join("") || f.text);
      mark.dataset.key = f.key;
      if (held.dismissed.has(f.key)) mark.classList.add("phi-mark--dismissed");
      preview.appendChild(mark);
      at = f.end;
    });
    preview.appendChild(document.createTextNode(chars.slice(at).join("")));
    container.appendChild(preview);

    const list = el("ul", "phi-list");
    list.setAttribute("aria-label", "Possible identifiers");
    const boxes = [];
    findings.forEach(function (f, i) {
      const item = el("li", "phi-item");
      item.dataset.key = f.key;
      const reason = el("p", "phi-item__reason");
      reason.appendChild(el("span", "phi-kind", f.label || f.kind));
      reason.appendChild(document.createTextNode(" " + (f.reason || "")));
      item.appendChild(reason);
      const excerpt = el("p", "phi-item__excerpt");
      excerpt.appendChild(document.createTextNode(f.before || ""));
      excerpt.appendChild(el("mark", null, f.match || f.text));
      excerpt.appendChild(document.createTextNode(f.after || ""));
      item.appendChild(excerpt);
      const row = el("div", "phi-item__actions");
      const edit = el("button", "linklike", "Edit");
      edit.type = "button";
      edit.dataset.phiEdit = "";
      edit.appendChild(el("span", "visually-hidden", " “" + f.text + "”"));
      edit.addEventListener("click", function () { selectFinding(opts.field(), held, f); });
      const label = el("label", "phi-item__dismiss");
      const box = el("input");
      box.type = "checkbox";
      box.id = "phi-" + n + "-" + i;
      box.dataset.phiDismiss = f.key;
      box.checked = held.dismissed.has(f.key);
      box.addEventListener("change", function () {
        if (box.checked) held.dismissed.add(f.key); else held.dismissed.delete(f.key);
        item.classList.toggle("phi-item--dismissed", box.checked);
        preview.querySelectorAll("mark").forEach(function (m) {
          if (m.dataset.key === f.key) m.classList.toggle("phi-mark--dismissed", box.checked);
        });
        hint.hidden = true;
      });
      item.classList.toggle("phi-item--dismissed", box.checked);
      boxes.push(box);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" Not identifying: keep “" + f.text + "” as written"));
      row.appendChild(edit);
      row.appendChild(label);
      item.appendChild(row);
      list.appendChild(item);
    });
    container.appendChild(list);

    const hint = el("p", "error small", "Mark each item as not identifying first, or edit " + opts.what + ".");
    hint.hidden = true;
    hint.setAttribute("role", "alert");
    const actions = el("div", "row phi-findings__actions");
    const sendAnyway = el("button", "btn btn--small", opts.sendLabel);
    sendAnyway.type = "button";
    sendAnyway.dataset.phiSend = "";
    sendAnyway.setAttribute("aria-describedby", summary.id);
    sendAnyway.addEventListener("click", function () {
      const open = boxes.find(function (b) { return !b.checked; });
      if (open) {
        hint.hidden = false;
        open.focus();
        return;
      }
      opts.onSend();
    });
    const editAll = el("button", "btn btn--secondary btn--small", "Edit " + opts.what);
    editAll.type = "button";
    editAll.addEventListener("click", function () {
      const open = findings.find(function (f) { return !held.dismissed.has(f.key); }) || findings[0];
      if (open) selectFinding(opts.field(), held, open); else opts.field().focus();
    });
    actions.appendChild(sendAnyway);
    actions.appendChild(editAll);
    container.appendChild(hint);
    container.appendChild(actions);
  }

  function clearPhiPanel(container) {
    if (!container) return;
    container.textContent = "";
    container.hidden = true;
  }

  // Focus the text field and select the finding in it.
  function selectFinding(field, held, f) {
    if (!field) return;
    field.focus();
    let start = -1;
    let end = -1;
    if (field.value === held.body) {
      start = utf16Index(held.body, f.start);
      end = utf16Index(held.body, f.end);
    } else {
      start = field.value.indexOf(f.match || f.text);
      if (start >= 0) end = start + (f.match || f.text).length;
    }
    if (start >= 0 && field.setSelectionRange) field.setSelectionRange(start, end);
  }

  Object.assign(D, {
    renderPhiPanel: renderPhiPanel,
    clearPhiPanel: clearPhiPanel,
    selectFinding: selectFinding,
  });
})();
