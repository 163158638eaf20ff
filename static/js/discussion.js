// Consilium live case discussion (protocol: DESIGN.md, extensions: README).
//
// The panel is server-rendered and works without JavaScript (plain forms).
// This script makes it live: messages appear as they are posted, sends are
// optimistic and idempotent (client_id), unacknowledged sends are retried
// after a reconnect, and the client resyncs through `history` after every
// reconnect and whenever a `seq` gap shows a frame was lost.
(function () {
  "use strict";

  const TYPING_SEND_MS = 3000; // the server also throttles to one per 3 s
  const TYPING_SHOW_MS = 6000;
  const PING_MS = 25000;
  const PAGE = 50;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatTime(iso) {
    return window.Consilium.formatTime ? window.Consilium.formatTime(iso) : "";
  }

  function textOf(html) {
    const tmp = document.createElement("div");
    tmp.innerHTML = html; // server-sanitized; never attached to the document
    return (tmp.textContent || "").replace(/\s+/g, " ").trim();
  }

  // Python counts code points, JavaScript UTF-16 units: the PHI gate's
  // offsets are code points.
  function utf16Index(text, codePoint) {
    return Array.from(text).slice(0, codePoint).join("").length;
  }

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

  function init(root) {
    if (!window.WebSocket || !window.Consilium || !window.Consilium.socket) return;
    const caseId = Number(root.dataset.caseId);
    const me = Number(root.dataset.userId);
    const maxBody = Number(root.dataset.maxBody) || 10000;
    const q = function (sel) { return root.querySelector(sel); };
    const els = {
      status: q("[data-status]"),
      presence: q("[data-presence]"),
      topics: q("[data-topic-list]"),
      title: q("[data-thread-title]"),
      log: q("[data-log]"),
      list: q("[data-messages]"),
      empty: q("[data-empty]"),
      older: q("[data-older]"),
      typing: q("[data-typing]"),
      composer: q("[data-composer]"),
      body: q("[data-composer-body]"),
      error: q("[data-composer-error]"),
      announcer: q("[data-announcer]"),
      newTopic: q("[data-new-topic]"),
      composerPhi: q("[data-composer-phi]"),
      topicPhi: q("[data-topic-phi]"),
    };
    const threadUrl = function (id) { return "/cases/" + caseId + "/discussion/" + id + "/"; };
    const state = {
      thread: Number(root.dataset.threadId),
      latest: root.dataset.latest === "true",
      canComment: root.dataset.canComment === "true",
      lastId: Number(root.dataset.lastId) || 0, // everything up to here is known
      lastSeq: null, // set from hello or catch-up; null while unknown
      syncing: false,
      live: false,
      everLive: false,
      helloSeq: 0,
      requests: [], // purposes of outstanding `history` requests, in order
      pending: new Map(), // client_id -> {thread, body, node}
      threads: new Map(), // id -> {title, lastId, unread, link}
      typers: new Map(), // user id -> {name, thread, until}
      lastTypingSent: 0,
      pendingTopic: null,
      editing: null,
      // Refused by the PHI gate, waiting for the author: the composer's
      // message {clientId, thread, body, findings, dismissed}, edits by
      // message id, the new topic {ref, title, findings, dismissed}.
      held: null,
      edits: new Map(), // message id -> {body, dismissed} of an edit in flight
      topic: null,
      // The place the next message annotates ({anchor, label}), set from a
      // photo, video or slice by annotations.js (`consilium:annotate`).
      anchor: null,
    };

    let readTracker = null; // static/js/unread.js, set up before the socket opens
    root.querySelectorAll("[data-js-only]").forEach(function (n) { n.hidden = false; });
    root.querySelectorAll("[data-thread-link]").forEach(function (link) {
      const id = Number(link.dataset.threadLink);
      state.threads.set(id, {
        title: link.querySelector(".discussion__topic-title").textContent.replace(/^#\s*/, ""),
        lastId: Number(link.dataset.lastId) || 0,
        lastRead: Number(link.dataset.lastRead) || 0,
        unread: Number(link.dataset.unreadCount) || 0,
        link: link,
      });
    });

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
      if (readTracker) readTracker.check();
    }
    function onReadState(frame) {
      const info = state.threads.get(frame.thread);
      if (!info) return;
      info.lastRead = Math.max(info.lastRead || 0, frame.last_read || 0);
      if (readTracker) readTracker.stored(frame.thread, info.lastRead);
      setUnread(frame.thread, frame.unread || 0);
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
      if (typer) { state.typers.delete(m.author.id); renderTyping(); }
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
          setUnread(m.thread, (typeof info.unread === "number" ? info.unread : 0) + 1);
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
      setStatus("Live", "live");
      renderPresence(frame.presence || []);
      (frame.threads || []).forEach(function (t) {
        addTopic(t);
        const info = state.threads.get(t.id);
        info.lastRead = Math.max(info.lastRead || 0, t.last_read || 0);
        setUnread(t.id, t.unread || 0);
      });
      if (readTracker) readTracker.reset();
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
          applyMessage(m, { announce: false });
          state.lastSeq = Math.max(state.lastSeq || 0, m.seq);
        });
        const others = messages.filter(function (m) { return m.author.id !== me && m.thread === state.thread; });
        if (others.length) announce(others.length === 1 ? "1 new message" : others.length + " new messages");
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
          replaceList(messages, frame.has_more);
        }
      } else if (purpose.kind === "older") {
        if (purpose.thread === state.thread) {
          const oldHeight = els.log.scrollHeight;
          const first = els.list.firstChild;
          messages.forEach(function (m) {
            const li = document.getElementById("m" + m.id) ? null : renderMessage(m.html);
            if (li) els.list.insertBefore(li, first);
          });
          els.log.scrollTop += els.log.scrollHeight - oldHeight;
          setOlder(frame.has_more);
        }
      } else {
        messages.forEach(function (m) {
          const li = m.thread === state.thread && state.latest ? renderMessage(m.html) : null;
          if (li) insertInOrder(li);
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
      applyMessage(m, { announce: true });
    }

    function onAck(frame) {
      const p = state.pending.get(frame.client_id);
      if (!p) return;
      resolvePending(frame.client_id);
      if (!document.getElementById("m" + frame.id) && p.thread === state.thread) {
        // Stored earlier (a retry after reconnect) but not shown here yet.
        requestHistory({ thread: p.thread, after: frame.id - 1, limit: 1 }, { kind: "merge" });
      }
    }

    function onUpdated(m) {
      state.edits.delete(m.id);
      const node = document.getElementById("m" + m.id);
      const li = node && els.list.contains(node) ? renderMessage(m.html) : null;
      if (li) {
        node.replaceWith(li);
        if (state.editing === m.id) state.editing = null;
      }
    }

    function onDeleted(frame) {
      const node = document.getElementById("m" + frame.id);
      if (!node || !els.list.contains(node)) return;
      const li = renderMessage(frame.html);
      if (li) node.replaceWith(li);
    }

    function onTyping(frame) {
      if (!frame.user || frame.user.id === me) return;
      state.typers.set(frame.user.id, { name: frame.user.name, thread: frame.thread, until: Date.now() + TYPING_SHOW_MS });
      renderTyping();
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
        if (p.anchor) setComposerAnchor(p.anchor);
        showComposerError("");
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
          startEdit(li, { body: edit.body, findings: findings, dismissed: new Set(edit.dismissed) });
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
        if (p.anchor && frame.code !== "bad_anchor" && !state.anchor) setComposerAnchor(p.anchor);
        return;
      }
      if (frame.ref === "history") {
        const purpose = state.requests.shift();
        if (purpose && purpose.kind === "catchup") state.syncing = false;
      }
      showComposerError(frame.detail);
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

    const handlers = {
      hello: onHello,
      history: onHistory,
      "message.new": function (f) { onMessageNew(f.message); },
      "message.ack": onAck,
      "message.updated": function (f) { onUpdated(f.message); },
      "message.deleted": onDeleted,
      presence: function (f) { renderPresence(f.users || []); },
      typing: onTyping,
      "thread.new": onThreadNew,
      "read.state": onReadState,
      error: onError,
      pong: function () {},
    };

    function onClose(ev) {
      state.live = false;
      state.syncing = false;
      state.requests = [];
      state.typers.clear();
      renderTyping();
      els.presence.textContent = "";
      if (ev.code === 4401) setStatus("Signed out — log in again to continue", "gone");
      else if (ev.code === 4403) setStatus("You no longer have access to this case", "gone");
      else if (ev.code === 4404) setStatus("This case no longer exists", "gone");
      else setStatus(state.everLive ? "Reconnecting… messages you send will go out when back" : "Connecting…", "offline");
      if (ev.code >= 4400 && ev.code < 4500) {
        if (els.composer) els.composer.querySelectorAll("textarea, button").forEach(function (n) { n.disabled = true; });
        if (els.newTopic) els.newTopic.closest("details").hidden = true;
      }
    }

    readTracker = window.Consilium.readTracker
      ? window.Consilium.readTracker({
          log: els.log,
          list: els.list,
          send: function (frame) { return state.live && send(frame); },
          thread: function () { return state.thread; },
          marker: readMarker,
        })
      : null;

    setStatus("Connecting…", "offline");
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

    // --- user actions --------------------------------------------------------------------

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
      renderTyping();
      requestHistory({ thread: id, limit: PAGE }, { kind: "switch", thread: id });
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
      requestHistory({ thread: state.thread, before: Number(first.dataset.id), limit: PAGE }, { kind: "older", thread: state.thread });
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
        send(frame);
        input.value = "";
        els.newTopic.closest("details").open = false;
      });
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
      scrollToBottom();
      els.body.value = "";
      state.lastTypingSent = 0;
      if (state.live && !state.syncing) sendFrame(pending, clientId);
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
          send({ type: "typing", thread: state.thread });
        }
      });
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
          send({ type: "message.delete", id: Number(li.dataset.id) });
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
          if (send(frame)) state.edits.set(id, { body: body, dismissed: dismissed });
        }
        close();
      });
    }

    els.log.addEventListener("scroll", function () { if (atBottom()) markRead(); });
    document.addEventListener("visibilitychange", markRead);
    els.list.querySelectorAll("li.msg[data-id]").forEach(decorate);
    dividerFromMarker();
    scrollToBottom();
    markRead();
  }

  function start() { document.querySelectorAll("[data-discussion]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
