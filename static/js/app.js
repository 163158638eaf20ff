// Consilium: small shared helpers for every page. No framework.
(function () {
  "use strict";

  function cookie(name) {
    const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  const Consilium = (window.Consilium = window.Consilium || {});
  Consilium.csrfToken = function () {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return cookie("csrftoken") || (input ? input.value : "");
  };

  // Show a short message in the polite live region (read by screen readers).
  Consilium.toast = function (text, href) {
    const region = document.querySelector("[data-toasts]");
    if (!region) return;
    const el = document.createElement("div");
    el.className = "toast";
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      el.appendChild(a);
    } else {
      el.textContent = text;
    }
    region.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  };

  Consilium.setUnread = function (count) {
    document.querySelectorAll("[data-unread-count]").forEach(function (el) {
      el.textContent = String(count);
      el.hidden = !count;
      const link = el.closest("a");
      if (link) link.setAttribute("aria-label", "Notifications, " + count + " unread");
    });
  };

  // A WebSocket that reconnects with capped, jittered backoff.
  Consilium.socket = function (path, handlers) {
    let ws = null;
    let attempt = 0;
    let closedByUs = false;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    function open() {
      ws = new WebSocket(scheme + location.host + path);
      ws.addEventListener("open", function () {
        attempt = 0;
        if (handlers.open) handlers.open(ws);
      });
      ws.addEventListener("message", function (ev) {
        let frame;
        try { frame = JSON.parse(ev.data); } catch (e) { return; }
        if (handlers.frame) handlers.frame(frame, ws);
      });
      ws.addEventListener("close", function (ev) {
        if (handlers.close) handlers.close(ev);
        if (closedByUs || (ev.code >= 4400 && ev.code < 4500)) return;
        attempt += 1;
        const delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
        setTimeout(open, delay);
      });
    }
    open();
    return {
      send: function (obj) {
        if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; }
        return false;
      },
      isOpen: function () { return !!ws && ws.readyState === WebSocket.OPEN; },
      close: function () { closedByUs = true; if (ws) ws.close(); },
    };
  };

  document.addEventListener("DOMContentLoaded", function () {
    const toggle = document.querySelector(".nav-toggle");
    const nav = document.getElementById("primary-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        const open = nav.classList.toggle("is-open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    if (document.body.dataset.userId && window.WebSocket) {
      Consilium.notifications = Consilium.socket("/ws/notifications/", {
        frame: function (frame) {
          if (frame.type === "notification") {
            if (typeof frame.unread === "number") Consilium.setUnread(frame.unread);
            const n = frame.notification || {};
            Consilium.toast(n.title || "New notification", n.id ? "/notifications/" + n.id + "/" : null);
            document.dispatchEvent(new CustomEvent("consilium:notification", { detail: frame }));
          }
        },
      });
    }
  });
})();
