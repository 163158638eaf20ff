// Consilium live case discussion: starts every panel on the page. The parts
// (discussion_*.js, loaded before this one; see discussion_base.js) each add
// their functions to the panel's context object made here.
(function () {
  "use strict";

  const D = window.Consilium && window.Consilium.discussion;

  function init(root) {
    if (!D || !window.WebSocket || !window.Consilium || !window.Consilium.socket) return;
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
    const ctx = {
      root: root,
      caseId: caseId,
      me: me,
      maxBody: maxBody,
      els: els,
      threadUrl: threadUrl,
      state: state,
      readTracker: null, // static/js/unread.js, set up before the socket opens
    };
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

    D.installMessages(ctx);
    D.installTopics(ctx);
    D.installComposer(ctx);
    D.installEdit(ctx);
    D.installSocket(ctx);
    ctx.connect();

    els.log.addEventListener("scroll", function () { if (ctx.atBottom()) ctx.markRead(); });
    document.addEventListener("visibilitychange", ctx.markRead);
    els.list.querySelectorAll("li.msg[data-id]").forEach(ctx.decorate);
    ctx.dividerFromMarker();
    ctx.scrollToBottom();
    ctx.markRead();
  }

  function start() { document.querySelectorAll("[data-discussion]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
