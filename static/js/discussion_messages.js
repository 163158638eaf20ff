// Consilium live discussion: the message list. Every message's markup is the
// server's (realtime/_message.html, the page's items and every frame's `html`);
// here it is decorated for the reader, put in id order, and the read marker,
// the "New" divider and the screen-reader announcer are kept.
(function () {
  "use strict";

  const D = window.Consilium.discussion;
  const el = D.el;
  const textOf = D.textOf;
  const formatTime = D.formatTime;

  D.installMessages = function (ctx) {
    const els = ctx.els;
    const state = ctx.state;
    const me = ctx.me;

    // --- read markers and the unread divider -----------------------------------------

    // The marker is the server's (hello, read.state, the page's data-last-read);
    // static/js/unread.js reports what has been seen.
    function readMarker(thread) {
      const info = state.threads.get(thread);
      return info ? info.lastRead || 0 : 0;
    }
    function atBottom() {
      const log = els.log;
      return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    }
    function scrollToBottom() { els.log.scrollTop = els.log.scrollHeight; }
    function markRead() {
      if (ctx.readTracker) ctx.readTracker.check();
    }
    function onReadState(frame) {
      const info = state.threads.get(frame.thread);
      if (!info) return;
      info.lastRead = Math.max(info.lastRead || 0, frame.last_read || 0);
      if (ctx.readTracker) ctx.readTracker.stored(frame.thread, info.lastRead);
      ctx.setUnread(frame.thread, frame.unread || 0);
    }
    function removeDivider() {
      const old = els.list.querySelector(".discussion__divider");
      if (old) old.remove();
    }
    function placeDividerBefore(li) {
      if (els.list.querySelector(".discussion__divider")) return;
      // A list item (an <ol> holds only <li>), whose content is the separator.
      const divider = el("li", "discussion__divider");
      const label = el("span", null, "New");
      label.setAttribute("role", "separator");
      label.setAttribute("aria-label", "New messages");
      divider.appendChild(label);
      els.list.insertBefore(divider, li);
    }
    function dividerFromMarker() {
      removeDivider();
      const marker = readMarker(state.thread);
      const first = Array.from(els.list.querySelectorAll("li.msg[data-id]")).find(function (li) {
        return Number(li.dataset.id) > marker && Number(li.dataset.authorId) !== me;
      });
      if (first) placeDividerBefore(first);
    }

    function announce(text) {
      els.announcer.textContent = "";
      // A fresh text node after clearing makes screen readers read it again.
      window.setTimeout(function () { els.announcer.textContent = text; }, 30);
    }

    // --- rendering -------------------------------------------------------------------

    // A message's markup comes from the server, always: the page includes
    // realtime/_message.html and every message frame carries the same
    // template's output as `html` (bleach-sanitised bodies; parsed through a
    // <template>, never with user text put in by this script). What depends on
    // the reader is done here, the same for a page's items and live ones.
    function renderMessage(html) {
      if (!html) return null;
      const t = document.createElement("template");
      t.innerHTML = html;
      const li = t.content.querySelector("li.msg[data-id]");
      return li ? decorate(li) : null;
    }

    function decorate(li) {
      const mine = Number(li.dataset.authorId) === me;
      li.classList.toggle("msg--mine", mine);
      const own = li.querySelector("[data-own]");
      if (own) own.hidden = !mine;
      const time = li.querySelector("time.msg__time[datetime]");
      if (time) {
        const text = formatTime(time.getAttribute("datetime"));
        if (text) time.textContent = text;
      }
      const edited = li.querySelector(".msg__edited[data-edited]");
      if (edited) {
        const text = formatTime(edited.dataset.edited);
        if (text) edited.title = "Edited " + text;
      }
      highlightMentions(li);
      if (window.Consilium.annotations && window.Consilium.annotations.relabel) {
        window.Consilium.annotations.relabel(li);
      }
      return li;
    }

    function highlightMentions(scope) {
      scope.querySelectorAll(".mention").forEach(function (span) {
        if (Number(span.dataset.userId) === me) span.classList.add("mention--me");
      });
    }

    function insertInOrder(li) {
      const id = Number(li.dataset.id);
      const existing = document.getElementById(li.id);
      if (existing && els.list.contains(existing)) {
        existing.replaceWith(li);
        return false;
      }
      const items = els.list.querySelectorAll("li.msg[data-id]");
      let before = null;
      for (let i = items.length - 1; i >= 0; i--) {
        if (Number(items[i].dataset.id) < id) break;
        before = items[i];
      }
      // Pending (unacknowledged) sends always stay last.
      if (!before) before = els.list.querySelector("li.msg--pending");
      els.list.insertBefore(li, before);
      els.empty.hidden = true;
      return true;
    }

    function resolvePending(clientId) {
      const p = state.pending.get(clientId);
      if (!p) return;
      state.pending.delete(clientId);
      if (p.node) p.node.remove();
    }

    // Apply one message from `message.new` or a catch-up `history`.
    function applyMessage(m, opts) {
      state.lastId = Math.max(state.lastId, m.id);
      if (m.author.id === me) resolvePending(m.client_id);
      const info = state.threads.get(m.thread);
      if (info) info.lastId = Math.max(info.lastId, m.id);
      const typer = state.typers.get(m.author.id);
      if (typer) { state.typers.delete(m.author.id); ctx.renderTyping(); }
      if (m.thread === state.thread && state.latest) {
        const wasAtBottom = atBottom();
        const li = renderMessage(m.html);
        if (!li) return;
        const added = insertInOrder(li);
        if (added && m.author.id !== me) {
          if (document.visibilityState !== "visible" || !wasAtBottom) placeDividerBefore(li);
          if (opts.announce) announce(m.author.name + ": " + textOf(m.body_html).slice(0, 160));
        }
        if (wasAtBottom || m.author.id === me) scrollToBottom();
        markRead();
      } else if (m.thread !== state.thread && m.author.id !== me && !m.deleted) {
        if (info) {
          ctx.setUnread(m.thread, (typeof info.unread === "number" ? info.unread : 0) + 1);
          if (opts.announce) announce("New message in # " + info.title + " from " + m.author.name);
        }
      }
    }

    function replaceList(messages, hasMore) {
      els.list.textContent = "";
      messages.forEach(function (m) {
        const li = renderMessage(m.html);
        if (li) els.list.appendChild(li);
      });
      state.pending.forEach(function (p) {
        if (p.thread === state.thread && p.node) els.list.appendChild(p.node);
      });
      els.empty.hidden = els.list.children.length > 0;
      setOlder(hasMore);
      dividerFromMarker();
      scrollToBottom();
      markRead();
    }

    function setOlder(hasMore) {
      els.older.parentElement.hidden = !hasMore;
    }

    Object.assign(ctx, {
      readMarker: readMarker,
      atBottom: atBottom,
      scrollToBottom: scrollToBottom,
      markRead: markRead,
      onReadState: onReadState,
      removeDivider: removeDivider,
      placeDividerBefore: placeDividerBefore,
      dividerFromMarker: dividerFromMarker,
      announce: announce,
      renderMessage: renderMessage,
      decorate: decorate,
      highlightMentions: highlightMentions,
      insertInOrder: insertInOrder,
      resolvePending: resolvePending,
      applyMessage: applyMessage,
      replaceList: replaceList,
      setOlder: setOlder,
    });
  };
})();
