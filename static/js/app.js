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

  // The zone the server renders times in (<html data-time-zone>, from the
  // profile, the browser's tz cookie or the site default).
  Consilium.timeZone = function () {
    return document.documentElement.dataset.timeZone || undefined;
  };

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // Format a time (Date, ISO string or milliseconds) in the page's zone. With
  // no opts it matches the server's "j M, H:i" (3 Dec, 09:05), so a live
  // message reads like one rendered by the server; opts are
  // Intl.DateTimeFormat options for anything else.
  Consilium.formatTime = function (date, opts) {
    if (date === null || date === undefined || date === "") return "";
    const d = date instanceof Date ? date : new Date(date);
    if (isNaN(d.getTime())) return "";
    const zone = Consilium.timeZone();
    function formatter(options, locale) {
      try {
        return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: zone }, options));
      } catch (e) {
        // An unknown zone name: fall back to the device's zone.
        return new Intl.DateTimeFormat(locale, options);
      }
    }
    if (opts) return formatter(opts).format(d);
    const parts = {};
    formatter({ month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, "en-US")
      .formatToParts(d)
      .forEach(function (p) { parts[p.type] = p.value; });
    return Number(parts.day) + " " + MONTHS[Number(parts.month) - 1] + ", " + parts.hour + ":" + parts.minute;
  };

  // Tell the server the browser's zone (workspace.time_zones), used when the
  // profile names none. It takes effect from the next page.
  function rememberTimeZone() {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) || cookie("tz") === zone) return;
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  rememberTimeZone();

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
    // Keep scroll-padding-top (app.css) as tall as the sticky top bar, so a
    // focused control or a #target never ends up hidden under it.
    const topbar = document.querySelector(".topbar");
    if (topbar) {
      const setTopbar = function () {
        document.documentElement.style.setProperty("--topbar-h", topbar.offsetHeight + "px");
      };
      setTopbar();
      if (window.ResizeObserver) new ResizeObserver(setTopbar).observe(topbar);
    }
    const toggle = document.querySelector("[data-nav-toggle]");
    const nav = document.getElementById("primary-nav");
    function setNav(open) {
      nav.classList.toggle("is-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        setNav(!nav.classList.contains("is-open"));
      });
    }
    const menus = Array.prototype.slice.call(document.querySelectorAll("details[data-menu]"));
    // Escape closes the open menu (the phone navigation or a <details> menu)
    // and puts focus back on the control that opened it.
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape" || ev.defaultPrevented) return;
      const openMenu = menus.find(function (m) { return m.open; });
      if (openMenu) {
        openMenu.open = false;
        openMenu.querySelector("summary").focus();
        ev.preventDefault();
        return;
      }
      if (toggle && nav && nav.classList.contains("is-open")) {
        setNav(false);
        toggle.focus();
        ev.preventDefault();
      }
    });
    // A click or focus outside an open <details> menu closes it.
    function closeOutside(ev) {
      menus.forEach(function (m) { if (m.open && !m.contains(ev.target)) m.open = false; });
    }
    document.addEventListener("click", closeOutside);
    document.addEventListener("focusin", closeOutside);
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
