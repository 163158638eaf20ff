// Consilium live discussion: the composer and who is here. Optimistic,
// idempotent sends (client_id), the annotation a message is the note of,
// typing notices sent and shown, the presence list and the status line.
(function () {
  "use strict";

  const D = window.Consilium.discussion;
  const TYPING_SEND_MS = D.TYPING_SEND_MS;
  const TYPING_SHOW_MS = D.TYPING_SHOW_MS;
  const el = D.el;
  const uuid = D.uuid;
  const clearPhiPanel = D.clearPhiPanel;

  D.installComposer = function (ctx) {
    const els = ctx.els;
    const state = ctx.state;
    const me = ctx.me;
    const maxBody = ctx.maxBody;

    function renderPresence(users) {
      els.presence.textContent = "";
      const label = el("span", "discussion__presence-count small muted", users.length + " here");
      els.presence.appendChild(label);
      const ul = el("ul", "discussion__presence-list");
      users.forEach(function (u) {
        const li = el("li", "presence" + (u.id === me ? " presence--me" : ""));
        li.title = u.name;
        const dot = el("span", "presence__avatar", (u.name || "?").slice(0, 1).toUpperCase());
        dot.setAttribute("aria-hidden", "true");
        li.appendChild(dot);
        li.appendChild(el("span", "presence__name", u.id === me ? u.name + " (you)" : u.name));
        ul.appendChild(li);
      });
      els.presence.appendChild(ul);
    }

    function renderTyping() {
      const now = Date.now();
      const names = [];
      state.typers.forEach(function (t, id) {
        if (t.until < now) state.typers.delete(id);
        else if (t.thread === state.thread) names.push(t.name);
      });
      let text = "";
      if (names.length === 1) text = names[0] + " is typing…";
      else if (names.length === 2) text = names[0] + " and " + names[1] + " are typing…";
      else if (names.length > 2) text = "Several people are typing…";
      if (els.typing.textContent !== text) els.typing.textContent = text;
    }
    window.setInterval(renderTyping, 1000);

    function setStatus(text, kind) {
      els.status.textContent = text;
      els.status.dataset.state = kind;
    }

    function onTyping(frame) {
      if (!frame.user || frame.user.id === me) return;
      state.typers.set(frame.user.id, { name: frame.user.name, thread: frame.thread, until: Date.now() + TYPING_SHOW_MS });
      renderTyping();
    }

    let anchorBox = null;
    function setComposerAnchor(anchor) {
      state.anchor = anchor;
      if (!els.composer) return;
      if (!anchorBox) {
        anchorBox = el("p", "discussion__anchor small");
        anchorBox.dataset.composerAnchor = "";
        els.composer.insertBefore(anchorBox, els.body);
      }
      anchorBox.textContent = "";
      anchorBox.hidden = !anchor;
      if (!anchor) return;
      anchorBox.appendChild(document.createTextNode("Annotating "));
      anchorBox.appendChild(el("strong", null, anchor.label));
      anchorBox.appendChild(document.createTextNode(": your message is the note. "));
      const drop = el("button", "linklike small", "Remove");
      drop.type = "button";
      drop.setAttribute("aria-label", "Remove the annotation from this message");
      drop.addEventListener("click", function () { setComposerAnchor(null); els.body.focus(); });
      anchorBox.appendChild(drop);
    }
    document.addEventListener("consilium:annotate", function (ev) {
      if (!els.composer || !ev.detail || !ev.detail.anchor) return;
      setComposerAnchor({ anchor: ev.detail.anchor, label: ev.detail.label || "the media" });
      els.composer.scrollIntoView({ block: "center" });
      els.body.focus({ preventScroll: true });
    });

    function showComposerError(text) {
      if (!els.error) return;
      els.error.textContent = text;
      els.error.hidden = !text;
    }

    function sendMessage() {
      const body = els.body.value;
      if (!body.trim()) return;
      if (body.length > maxBody) {
        showComposerError("Messages are at most " + maxBody.toLocaleString() + " characters.");
        return;
      }
      showComposerError("");
      // A message the PHI gate held goes again with the same client_id (it
      // was not stored) and the findings its author marked not identifying.
      const held = state.held;
      const clientId = held ? held.clientId : uuid();
      const dismissed = held ? Array.from(held.dismissed) : [];
      // Boxes ticked on a page the server rendered after a refused form post.
      els.composer.querySelectorAll("input[name=dismiss]:checked").forEach(function (box) {
        if (dismissed.indexOf(box.value) < 0) dismissed.push(box.value);
      });
      state.held = null;
      clearPhiPanel(els.composerPhi);
      const node = el("li", "msg msg--mine msg--pending");
      node.dataset.clientId = clientId;
      const meta = el("div", "msg__meta");
      meta.appendChild(el("strong", "msg__author", "You"));
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", "msg__state small muted", "Sending…"));
      node.appendChild(meta);
      node.appendChild(el("p", "msg__body msg__plain", body));
      const anchor = state.anchor;
      if (anchor) {
        node.appendChild(el("p", "msg__anchor-row small muted", "On " + anchor.label));
        setComposerAnchor(null);
      }
      const pending = { thread: state.thread, body: body, node: node, dismissed: dismissed, anchor: anchor };
      state.pending.set(clientId, pending);
      els.list.appendChild(node);
      els.empty.hidden = true;
      ctx.scrollToBottom();
      els.body.value = "";
      state.lastTypingSent = 0;
      if (state.live && !state.syncing) ctx.sendFrame(pending, clientId);
    }

    if (els.composer) {
      els.composer.addEventListener("submit", function (ev) {
        // Before the first connection, the plain form post still works.
        if (!state.everLive) return;
        ev.preventDefault();
        sendMessage();
        els.body.focus();
      });
      els.body.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.isComposing) {
          ev.preventDefault();
          els.composer.requestSubmit();
        }
      });
      els.body.addEventListener("input", function () {
        const now = Date.now();
        if (state.live && els.body.value.trim() && now - state.lastTypingSent > TYPING_SEND_MS) {
          state.lastTypingSent = now;
          ctx.send({ type: "typing", thread: state.thread });
        }
      });
    }

    Object.assign(ctx, {
      renderPresence: renderPresence,
      renderTyping: renderTyping,
      setStatus: setStatus,
      onTyping: onTyping,
      setComposerAnchor: setComposerAnchor,
      showComposerError: showComposerError,
      sendMessage: sendMessage,
    });
  };
})();
