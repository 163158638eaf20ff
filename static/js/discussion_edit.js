// Consilium live discussion: editing and deleting one's own messages in
// place (the inline editor, the PHI gate's refusal of an edit) and applying
// the `message.updated` / `message.deleted` frames.
(function () {
  "use strict";

  const D = window.Consilium.discussion;
  const el = D.el;
  const textOf = D.textOf;
  const renderPhiPanel = D.renderPhiPanel;

  D.installEdit = function (ctx) {
    const els = ctx.els;
    const state = ctx.state;
    const maxBody = ctx.maxBody;

    function onUpdated(m) {
      state.edits.delete(m.id);
      const node = document.getElementById("m" + m.id);
      const li = node && els.list.contains(node) ? ctx.renderMessage(m.html) : null;
      if (li) {
        node.replaceWith(li);
        if (state.editing === m.id) state.editing = null;
      }
    }

    function onDeleted(frame) {
      const node = document.getElementById("m" + frame.id);
      if (!node || !els.list.contains(node)) return;
      const li = ctx.renderMessage(frame.html);
      if (li) node.replaceWith(li);
    }

    // Edit and delete of one's own messages: without a live socket the Edit
    // link opens the edit page and Delete submits the panel's delete form.
    els.list.addEventListener("click", function (ev) {
      const action = ev.target.closest("[data-action]");
      if (!action || !state.live) return;
      const li = action.closest("li.msg");
      if (!li) return;
      if (action.dataset.action === "edit") {
        ev.preventDefault();
        startEdit(li);
      } else if (action.dataset.action === "delete" && action.tagName === "BUTTON") {
        ev.preventDefault();
        if (window.confirm("Delete this message? Others will see that a message was deleted.")) {
          ctx.send({ type: "message.delete", id: Number(li.dataset.id) });
        }
      }
    });

    // held: {body, findings, dismissed} when the PHI gate refused an edit.
    function startEdit(li, held) {
      const open = li.querySelector(".msg__editor");
      if (open && !held) return;
      if (open) open.remove();
      const id = Number(li.dataset.id);
      state.editing = id;
      const bodyNode = li.querySelector(".msg__body");
      const actions = li.querySelector(".msg__actions");
      const form = el("form", "msg__editor");
      const label = el("label", "visually-hidden", "Edit your message");
      const area = el("textarea");
      area.id = "edit-" + id;
      label.htmlFor = area.id;
      area.rows = 4;
      area.maxLength = maxBody;
      area.value = held ? held.body : li.dataset.body || textOf(bodyNode.innerHTML);
      const row = el("div", "row");
      const save = el("button", "btn btn--small", "Save");
      save.type = "submit";
      const cancel = el("button", "btn btn--secondary btn--small", "Cancel");
      cancel.type = "button";
      row.appendChild(save);
      row.appendChild(cancel);
      row.appendChild(el("span", "small muted", "Enter saves, Esc cancels"));
      form.appendChild(label);
      form.appendChild(area);
      let phi = null;
      if (held) {
        phi = el("div", "phi-findings");
        form.appendChild(phi);
        renderPhiPanel(phi, held, {
          verb: "saved", what: "the message", sendLabel: "Save anyway",
          field: function () { return area; },
          onSend: function () { form.requestSubmit(); },
        });
      }
      form.appendChild(row);
      bodyNode.hidden = true;
      if (actions) actions.hidden = true;
      li.appendChild(form);
      area.focus();
      function close() {
        form.remove();
        bodyNode.hidden = false;
        if (actions) actions.hidden = false;
        state.editing = null;
      }
      cancel.addEventListener("click", close);
      area.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { ev.preventDefault(); close(); }
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
      });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        const body = area.value;
        if (!body.trim()) return;
        if (body !== li.dataset.body) {
          const frame = { type: "message.edit", id: id, body: body };
          const dismissed = held ? Array.from(held.dismissed) : [];
          if (dismissed.length) frame.phi_dismissed = dismissed;
          if (ctx.send(frame)) state.edits.set(id, { body: body, dismissed: dismissed });
        }
        close();
      });
    }

    Object.assign(ctx, {
      onUpdated: onUpdated,
      onDeleted: onDeleted,
      startEdit: startEdit,
    });
  };
})();
