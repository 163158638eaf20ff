// Consilium: reporting what the reader has actually seen (unread state, README
// "WebSocket protocol"). A message counts as read once it has been on screen
// inside the discussion log while the page is visible (a visible page is being read, focused or not);
// the highest such id per topic is sent as one `read` frame, coalesced, and
// only when it moves the marker forward. The server keeps the marker
// (ThreadReadState), so badges and the "New" divider survive a reload.
(function () {
  "use strict";

  const Consilium = (window.Consilium = window.Consilium || {});
  const COALESCE_MS = 400;

  // opts: {log, list, send(frame) -> bool, thread() -> current topic id,
  //        marker(thread) -> last read id known}
  Consilium.readTracker = function (opts) {
    const visible = new Set(); // li elements on screen now
    const sent = new Map(); // thread -> highest id reported
    let timer = null;

    function attentive() {
      return document.visibilityState === "visible";
    }

    function newestSeen() {
      const thread = opts.thread();
      let newest = 0;
      visible.forEach(function (li) {
        if (!li.isConnected || Number(li.dataset.thread) !== thread) return;
        newest = Math.max(newest, Number(li.dataset.id) || 0);
      });
      return { thread: thread, id: newest };
    }

    function flush() {
      timer = null;
      if (!attentive()) return;
      const seen = newestSeen();
      if (!seen.id) return;
      const known = Math.max(sent.get(seen.thread) || 0, opts.marker(seen.thread) || 0);
      if (seen.id <= known) return;
      if (opts.send({ type: "read", thread: seen.thread, up_to: seen.id })) {
        sent.set(seen.thread, seen.id);
      }
    }

    function check() {
      if (timer === null) timer = window.setTimeout(flush, COALESCE_MS);
    }

    const io = "IntersectionObserver" in window
      ? new IntersectionObserver(function (entries) {
          entries.forEach(function (e) {
            if (e.isIntersecting) visible.add(e.target);
            else visible.delete(e.target);
          });
          check();
        }, { root: opts.log, threshold: 0.6 })
      : null;

    function watch(node) {
      if (!io || node.nodeType !== 1) return;
      if (node.matches("li.msg[data-id]")) io.observe(node);
      node.querySelectorAll && node.querySelectorAll("li.msg[data-id]").forEach(function (li) { io.observe(li); });
    }

    watch(opts.list);
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        r.addedNodes.forEach(watch);
        r.removedNodes.forEach(function (n) {
          if (n.nodeType === 1) { visible.delete(n); if (io) io.unobserve(n); }
        });
      });
    }).observe(opts.list, { childList: true });

    window.addEventListener("focus", check);
    // Leaving the page: send what was seen now rather than lose it to the timer.
    window.addEventListener("pagehide", function () {
      if (timer !== null) window.clearTimeout(timer);
      flush();
    });
    document.addEventListener("visibilitychange", check);

    return {
      check: check,
      // The server's answer (`read.state`): never report below it again.
      stored: function (thread, lastRead) {
        sent.set(thread, Math.max(sent.get(thread) || 0, lastRead));
      },
      // A reconnect: reports may have been lost with the old socket.
      reset: function () { sent.clear(); check(); },
    };
  };
})();
