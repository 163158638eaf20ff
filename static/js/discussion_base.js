// Consilium live case discussion (protocol: DESIGN.md, extensions: README).
//
// The panel is server-rendered and works without JavaScript (plain forms).
// These scripts make it live: messages appear as they are posted, sends are
// optimistic and idempotent (client_id), unacknowledged sends are retried
// after a reconnect, and the client resyncs through `history` after every
// reconnect and whenever a `seq` gap shows a frame was lost.
//
// Plain deferred scripts, in this order (templates/realtime/_panel.html),
// sharing one namespace, Consilium.discussion:
//   discussion_base.js      the namespace, constants and small helpers
//   discussion_phi.js       the PHI gate's findings panel
//   discussion_messages.js  the message list, read marker and "New" divider
//   discussion_topics.js    topics: list, badges, switching, creating
//   discussion_composer.js  the composer, typing and presence
//   discussion_edit.js      editing and deleting one's own messages
//   discussion_socket.js    the socket: resync, replay dedupe, retries
//   discussion.js           starts every panel on the page
// Each part adds its functions to the panel's context object (`ctx`, made
// in discussion.js); the parts call each other through it.
(function () {
  "use strict";

  const Consilium = (window.Consilium = window.Consilium || {});
  const D = (Consilium.discussion = Consilium.discussion || {});

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

  Object.assign(D, {
    TYPING_SEND_MS: TYPING_SEND_MS,
    TYPING_SHOW_MS: TYPING_SHOW_MS,
    PING_MS: PING_MS,
    PAGE: PAGE,
    uuid: uuid,
    el: el,
    formatTime: formatTime,
    textOf: textOf,
    utf16Index: utf16Index,
  });
})();
