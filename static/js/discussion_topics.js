// Consilium live discussion: topics. The topic list and its unread badges,
// switching topic and paging older messages without a reload, and creating
// a topic over the socket (held by the PHI gate like a message).
(function () {
  "use strict";

  const D = window.Consilium.discussion;
  const PAGE = D.PAGE;
  const el = D.el;
  const uuid = D.uuid;
  const clearPhiPanel = D.clearPhiPanel;

  D.installTopics = function (ctx) {
    const root = ctx.root;
    const els = ctx.els;
    const state = ctx.state;
    const me = ctx.me;
    const threadUrl = ctx.threadUrl;

    function setUnread(thread, count) {
      const info = state.threads.get(thread);
      if (!info) return;
      info.unread = count;
      const badge = info.link.querySelector("[data-unread]");
      if (count === "dot") {
        badge.textContent = "•";
        badge.hidden = false;
        badge.setAttribute("aria-label", "unread messages");
      } else {
        badge.textContent = count ? String(count) : "";
        badge.hidden = !count;
        badge.setAttribute("aria-label", count + " unread");
      }
    }

    function addTopic(t) {
      if (state.threads.has(t.id)) {
        const info = state.threads.get(t.id);
        info.lastId = Math.max(info.lastId, t.last_id || 0);
        return;
      }
      const li = el("li");
      const link = el("a", "discussion__topic");
      link.href = threadUrl(t.id);
      link.dataset.threadLink = t.id;
      link.appendChild(el("span", "discussion__topic-title", "# " + t.title));
      link.appendChild(document.createTextNode(" "));
      const badge = el("span", "badge discussion__unread");
      badge.dataset.unread = "";
      badge.hidden = true;
      link.appendChild(badge);
      li.appendChild(link);
      els.topics.appendChild(li);
      state.threads.set(t.id, { title: t.title, lastId: t.last_id || 0, lastRead: t.last_read || 0, unread: 0, link: link });
    }

    function onThreadNew(frame) {
      const t = frame.thread;
      addTopic(t);
      if (t.created_by === me && state.pendingTopic && state.pendingTopic === t.title.toLowerCase()) {
        state.pendingTopic = null;
        state.topic = null;
        clearPhiPanel(els.topicPhi);
        switchThread(t.id);
      }
    }

    function switchThread(id) {
      const info = state.threads.get(id);
      if (!info) return;
      state.thread = id;
      state.latest = true;
      root.dataset.threadId = id;
      state.threads.forEach(function (t, tid) {
        if (tid === id) t.link.setAttribute("aria-current", "true");
        else t.link.removeAttribute("aria-current");
      });
      els.title.textContent = "# " + info.title;
      els.log.setAttribute("aria-label", "Messages in " + info.title);
      if (els.composer) {
        els.composer.setAttribute("action", threadUrl(id));
        const label = els.composer.querySelector("label[for]");
        if (label) label.textContent = "Message to # " + info.title;
      }
      els.list.textContent = "";
      els.empty.hidden = true;
      setUnread(id, 0);
      ctx.renderTyping();
      ctx.requestHistory({ thread: id, limit: PAGE }, { kind: "switch", thread: id });
    }

    els.topics.addEventListener("click", function (ev) {
      const link = ev.target.closest("[data-thread-link]");
      if (!link || !state.live || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
      ev.preventDefault();
      switchThread(Number(link.dataset.threadLink));
    });

    els.older.addEventListener("click", function (ev) {
      const first = els.list.querySelector("li.msg[data-id]");
      if (!state.live || !first) return;
      ev.preventDefault();
      ctx.requestHistory({ thread: state.thread, before: Number(first.dataset.id), limit: PAGE }, { kind: "older", thread: state.thread });
    });

    if (els.newTopic) {
      els.newTopic.addEventListener("submit", function (ev) {
        const input = els.newTopic.querySelector("input[name=title]");
        const title = input.value.replace(/\s+/g, " ").trim();
        if (!state.live || !title) return;
        ev.preventDefault();
        state.pendingTopic = title.toLowerCase();
        // A topic the PHI gate held keeps its ref and the ticked findings.
        const held = state.topic && state.topic.findings ? state.topic : null;
        const frame = { type: "thread.create", title: title, client_id: held ? held.ref : uuid() };
        if (held && held.dismissed.size) frame.phi_dismissed = Array.from(held.dismissed);
        state.topic = { ref: frame.client_id, title: title, findings: null, dismissed: held ? held.dismissed : new Set() };
        clearPhiPanel(els.topicPhi);
        ctx.send(frame);
        input.value = "";
        els.newTopic.closest("details").open = false;
      });
    }

    Object.assign(ctx, {
      setUnread: setUnread,
      addTopic: addTopic,
      onThreadNew: onThreadNew,
      switchThread: switchThread,
    });
  };
})();
