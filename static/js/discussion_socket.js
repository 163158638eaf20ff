// Consilium live discussion: the case socket (protocol: DESIGN.md). Connects
// and reconnects through Consilium.socket, resyncs through `history` after
// every reconnect and on a `seq` gap (frames already seen are dropped),
// retries unacknowledged sends, dispatches every frame to the handlers and
// re-dispatches it as `consilium:case-frame` for the other panels.
(function () {
  "use strict";

  const D = window.Consilium.discussion;
  const PING_MS = D.PING_MS;
  const renderPhiPanel = D.renderPhiPanel;

  D.installSocket = function (ctx) {
    const root = ctx.root;
    const els = ctx.els;
    const state = ctx.state;
    const me = ctx.me;

    // --- the socket --------------------------------------------------------------------

    let sock = null;
    function send(frame) { return !!sock && sock.send(frame); }

    function requestHistory(frame, purpose) {
      if (send(Object.assign({ type: "history" }, frame))) {
        state.requests.push(purpose);
        return true;
      }
      return false;
    }

    function startCatchUp() {
      state.syncing = true;
      if (!requestHistory({ after: state.lastId, limit: 100 }, { kind: "catchup" })) {
        state.syncing = false;
      }
    }

    function sendFrame(p, clientId) {
      const frame = { type: "message.send", thread: p.thread, client_id: clientId, body: p.body };
      if (p.anchor) frame.anchor = p.anchor.anchor;
      if (p.dismissed && p.dismissed.length) frame.phi_dismissed = p.dismissed;
      return send(frame);
    }

    // Unacknowledged sends go again after a reconnect; one the PHI gate
    // refused is no longer pending (it waits for its author), so it never
    // goes round in a loop.
    function flushPending() {
      state.pending.forEach(sendFrame);
    }

    function onHello(frame) {
      state.live = true;
      state.everLive = true;
      state.requests = [];
      state.canComment = !!(frame.user && frame.user.can_comment);
      ctx.setStatus("Live", "live");
      ctx.renderPresence(frame.presence || []);
      (frame.threads || []).forEach(function (t) {
        ctx.addTopic(t);
        const info = state.threads.get(t.id);
        info.lastRead = Math.max(info.lastRead || 0, t.last_read || 0);
        ctx.setUnread(t.id, t.unread || 0);
      });
      if (ctx.readTracker) ctx.readTracker.reset();
      state.helloSeq = frame.last_seq || 0;
      if ((frame.last_id || 0) > state.lastId) {
        state.lastSeq = null;
        startCatchUp();
      } else {
        state.syncing = false;
        state.lastSeq = frame.last_seq || 0;
        flushPending();
      }
    }

    function onHistory(frame) {
      const purpose = state.requests.shift() || { kind: "merge" };
      const messages = frame.messages || [];
      if (purpose.kind === "catchup") {
        messages.forEach(function (m) {
          ctx.applyMessage(m, { announce: false });
          state.lastSeq = Math.max(state.lastSeq || 0, m.seq);
        });
        const others = messages.filter(function (m) { return m.author.id !== me && m.thread === state.thread; });
        if (others.length) ctx.announce(others.length === 1 ? "1 new message" : others.length + " new messages");
        if (frame.has_more) {
          startCatchUp();
        } else {
          state.syncing = false;
          state.lastSeq = Math.max(state.lastSeq || 0, state.helloSeq);
          flushPending();
        }
      } else if (purpose.kind === "switch") {
        if (purpose.thread === state.thread) {
          messages.forEach(function (m) { state.lastId = Math.max(state.lastId, m.id); });
          ctx.replaceList(messages, frame.has_more);
        }
      } else if (purpose.kind === "older") {
        if (purpose.thread === state.thread) {
          const oldHeight = els.log.scrollHeight;
          const first = els.list.firstChild;
          messages.forEach(function (m) {
            const li = document.getElementById("m" + m.id) ? null : ctx.renderMessage(m.html);
            if (li) els.list.insertBefore(li, first);
          });
          els.log.scrollTop += els.log.scrollHeight - oldHeight;
          ctx.setOlder(frame.has_more);
        }
      } else {
        messages.forEach(function (m) {
          const li = m.thread === state.thread && state.latest ? ctx.renderMessage(m.html) : null;
          if (li) ctx.insertInOrder(li);
        });
      }
    }

    function onMessageNew(m) {
      if (state.syncing) return; // the catch-up in flight includes it (see README)
      if (state.lastSeq !== null && m.seq <= state.lastSeq) return; // already have it
      if (state.lastSeq !== null && m.seq > state.lastSeq + 1) {
        startCatchUp(); // a frame was lost: fetch exactly what is missing
        return;
      }
      state.lastSeq = m.seq;
      ctx.applyMessage(m, { announce: true });
    }

    function onAck(frame) {
      const p = state.pending.get(frame.client_id);
      if (!p) return;
      ctx.resolvePending(frame.client_id);
      if (!document.getElementById("m" + frame.id) && p.thread === state.thread) {
        // Stored earlier (a retry after reconnect) but not shown here yet.
        requestHistory({ thread: p.thread, after: frame.id - 1, limit: 1 }, { kind: "merge" });
      }
    }

    function onPhiFound(frame) {
      const findings = frame.findings || [];
      const p = typeof frame.ref === "string" ? state.pending.get(frame.ref) : null;
      if (p) {
        // Not stored: take it back into the composer for its author.
        state.pending.delete(frame.ref);
        if (p.node) p.node.remove();
        els.empty.hidden = els.list.children.length > 0;
        const current = els.body.value;
        if (!current.trim()) els.body.value = p.body;
        else if (current !== p.body) els.body.value = p.body + "\n\n" + current;
        const dismissed = new Set(p.dismissed || []);
        state.held = { clientId: frame.ref, thread: p.thread, body: p.body, findings: findings, dismissed: dismissed };
        if (p.anchor) ctx.setComposerAnchor(p.anchor);
        ctx.showComposerError("");
        renderPhiPanel(els.composerPhi, state.held, {
          verb: "sent", what: "the message", sendLabel: "Send anyway",
          field: function () { return els.body; },
          onSend: function () { els.composer.requestSubmit(); },
        });
        return true;
      }
      if (typeof frame.ref === "number" && state.edits.has(frame.ref)) {
        const edit = state.edits.get(frame.ref);
        state.edits.delete(frame.ref);
        const li = document.getElementById("m" + frame.ref);
        if (li && els.list.contains(li)) {
          ctx.startEdit(li, { body: edit.body, findings: findings, dismissed: new Set(edit.dismissed) });
        }
        return true;
      }
      if (state.topic && frame.ref === state.topic.ref && els.newTopic) {
        state.pendingTopic = null;
        const topic = state.topic;
        topic.findings = findings;
        topic.body = topic.title;
        const details = els.newTopic.closest("details");
        details.open = true;
        const input = els.newTopic.querySelector("input[name=title]");
        input.value = topic.title;
        renderPhiPanel(els.topicPhi, topic, {
          verb: "added", what: "the title", sendLabel: "Add anyway",
          field: function () { return input; },
          onSend: function () { els.newTopic.requestSubmit(); },
        });
        return true;
      }
      return false;
    }

    function onError(frame) {
      if (frame.code === "phi_found" && onPhiFound(frame)) return;
      if (typeof frame.ref === "number") state.edits.delete(frame.ref);
      if (state.topic && frame.ref === state.topic.ref) state.topic = null;
      const p = frame.ref ? state.pending.get(frame.ref) : null;
      if (p) {
        if (frame.code === "rate_limited") {
          p.node.querySelector(".msg__state").textContent = "Waiting to send…";
          const wait = Math.max(1, Number(frame.retry_after) || 3) * 1000;
          window.setTimeout(function () {
            if (state.pending.has(frame.ref)) sendFrame(p, frame.ref);
          }, wait);
          return;
        }
        state.pending.delete(frame.ref);
        p.node.classList.add("msg--failed");
        p.node.querySelector(".msg__state").textContent = "Not sent: " + frame.detail;
        if (!els.body.value) els.body.value = p.body;
        if (p.anchor && frame.code !== "bad_anchor" && !state.anchor) ctx.setComposerAnchor(p.anchor);
        return;
      }
      if (frame.ref === "history") {
        const purpose = state.requests.shift();
        if (purpose && purpose.kind === "catchup") state.syncing = false;
      }
      ctx.showComposerError(frame.detail);
    }

    const handlers = {
      hello: onHello,
      history: onHistory,
      "message.new": function (f) { onMessageNew(f.message); },
      "message.ack": onAck,
      "message.updated": function (f) { ctx.onUpdated(f.message); },
      "message.deleted": ctx.onDeleted,
      presence: function (f) { ctx.renderPresence(f.users || []); },
      typing: ctx.onTyping,
      "thread.new": ctx.onThreadNew,
      "read.state": ctx.onReadState,
      error: onError,
      pong: function () {},
    };

    function onClose(ev) {
      state.live = false;
      state.syncing = false;
      state.requests = [];
      state.typers.clear();
      ctx.renderTyping();
      els.presence.textContent = "";
      if (ev.code === 4401) ctx.setStatus("Signed out — log in again to continue", "gone");
      else if (ev.code === 4403) ctx.setStatus("You no longer have access to this case", "gone");
      else if (ev.code === 4404) ctx.setStatus("This case no longer exists", "gone");
      else ctx.setStatus(state.everLive ? "Reconnecting… messages you send will go out when back" : "Connecting…", "offline");
      if (ev.code >= 4400 && ev.code < 4500) {
        if (els.composer) els.composer.querySelectorAll("textarea, button").forEach(function (n) { n.disabled = true; });
        if (els.newTopic) els.newTopic.closest("details").hidden = true;
      }
    }

    // Opened once, after every part of the panel is in place; the read
    // tracker (static/js/unread.js) is set up before the socket opens.
    function connect() {
      ctx.readTracker = window.Consilium.readTracker
        ? window.Consilium.readTracker({
            log: els.log,
            list: els.list,
            send: function (frame) { return state.live && send(frame); },
            thread: function () { return state.thread; },
            marker: ctx.readMarker,
          })
        : null;

      ctx.setStatus("Connecting…", "offline");
      sock = window.Consilium.socket(root.dataset.wsPath, {
        frame: function (frame) {
          const handler = handlers[frame.type];
          if (handler) handler(frame);
          // One socket per case page: other panels (differentials, media) listen here.
          document.dispatchEvent(new CustomEvent("consilium:case-frame", { detail: frame }));
        },
        close: onClose,
      });
      window.setInterval(function () { if (state.live) send({ type: "ping" }); }, PING_MS);
    }

    Object.assign(ctx, {
      send: send,
      requestHistory: requestHistory,
      startCatchUp: startCatchUp,
      sendFrame: sendFrame,
      flushPending: flushPending,
      onHello: onHello,
      onHistory: onHistory,
      onMessageNew: onMessageNew,
      onAck: onAck,
      onPhiFound: onPhiFound,
      onError: onError,
      onClose: onClose,
      connect: connect,
    });
  };
})();
