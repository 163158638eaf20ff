// Patient portal and submission inbox. No framework; loaded with defer.
//
// - Uploads: a file is sent in parts through an upload session as soon as it
//   is picked (to the app, or straight to S3 with presigned URLs). Each part
//   is retried with backoff; after a dropped connection the upload resumes
//   from the last part the server holds, including after a page reload (the
//   session is remembered per file). Progress is shown and announced.
// - Links: pasted links are checked live (no network access on the server)
//   and shown as a card; embeds load only when asked for.
// - Live lists: the portal and the inbox refresh when a "submission"
//   notification arrives or their socket reconnects, and the portal polls
//   while a file is still being processed.
(function () {
  "use strict";

  const C = window.Consilium || {};
  const uploads = C.uploads; // static/js/upload_client.js
  function csrf() { return C.csrfToken ? C.csrfToken() : ""; }

  function $(root, selector) { return root.querySelector(selector); }
  function $$(root, selector) { return Array.from(root.querySelectorAll(selector)); }

  function formatBytes(n) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return unit === 0 ? n + " bytes" : value.toFixed(value < 10 ? 1 : 0) + " " + units[unit];
  }

  // --- Uploads ----------------------------------------------------------------------

  // The widget around one file's upload; the protocol (parts, retries,
  // resuming) is the shared client's.
  class Uploader {
    constructor(form) {
      this.form = form;
      // "Take photo or video" (capture) and "Choose from library": either
      // feeds the same upload; the last one used holds the file.
      this.inputs = $$(form, "[data-portal-file]");
      this.input = this.inputs[0];
      this.picker = $(form, "[data-picker]");
      this.box = $(form, "[data-upload]");
      this.bar = $(form, "[data-upload-progress]");
      this.status = $(form, "[data-upload-status]");
      this.retryButton = $(form, "[data-upload-retry]");
      this.cancelButton = $(form, "[data-upload-cancel]");
      this.assetInput = form.querySelector("input[name=asset]");
      this.startUrl = form.dataset.uploadStart;
      this.state = "idle"; // idle | uploading | paused | done | failed
      this.file = null;
      this.upload = null;
      this.waiters = [];
      this.lastAnnounced = -1;
      this.inputs.forEach((input) => input.addEventListener("change", () => this.pick(input)));
      this.retryButton.addEventListener("click", () => this.run());
      this.cancelButton.addEventListener("click", () => this.cancel());
    }

    pick(input) {
      if (this.upload && this.state !== "done") this.upload.cancel(); // a different file replaces it
      this.reset(false);
      if (input) {
        this.input = input;
        // Only one file is sent: forget what the other button held.
        this.inputs.forEach(function (other) { if (other !== input) other.value = ""; });
      }
      const file = this.input.files && this.input.files[0];
      if (!file) return;
      this.file = file;
      this.upload = new uploads.Upload(file, {
        startUrl: this.startUrl,
        onProgress: (bytes) => this.progress(bytes),
        onStatus: (text) => this.say(text),
      });
      this.box.hidden = false;
      this.cancelButton.hidden = false;
      this.run();
    }

    reset(clearInput) {
      this.upload = null;
      this.file = null;
      this.assetInput.value = "";
      this.setState("idle");
      this.bar.value = 0;
      this.status.textContent = "";
      this.box.hidden = true;
      this.retryButton.hidden = true;
      this.cancelButton.hidden = true;
      if (clearInput) this.inputs.forEach(function (input) { input.value = ""; });
    }

    cancel() {
      if (this.upload) this.upload.cancel();
      this.reset(true);
      this.notify();
    }

    setState(state) {
      this.state = state;
      this.picker.classList.toggle("picker--busy", state === "uploading");
      this.picker.classList.toggle("picker--done", state === "done");
      this.picker.classList.toggle("picker--failed", state === "failed" || state === "paused");
      this.retryButton.hidden = !(state === "failed" || state === "paused");
    }

    say(text) { this.status.textContent = text; }

    progress(done) {
      const size = this.file.size;
      const percent = size ? Math.min(100, Math.floor((done / size) * 100)) : 100;
      this.bar.value = percent;
      // Announce in 10% steps so screen readers are not flooded.
      const step = Math.floor(percent / 10);
      if (step !== this.lastAnnounced) {
        this.lastAnnounced = step;
        this.say("Uploading " + this.file.name + ": " + formatBytes(done) + " of " + formatBytes(size) + " (" + percent + "%)");
      }
    }

    // Resolves when the upload has finished (true) or stopped (false).
    settled() {
      if (this.state === "done") return Promise.resolve(true);
      if (this.state !== "uploading") return Promise.resolve(false);
      return new Promise((resolve) => this.waiters.push(resolve));
    }

    notify() {
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((resolve) => resolve(this.state === "done"));
    }

    async run() {
      const upload = this.upload;
      if (!upload || this.state === "uploading") return;
      this.setState("uploading");
      try {
        const done = await upload.run();
        if (upload !== this.upload) return; // replaced or cancelled meanwhile
        this.assetInput.value = String(done.asset.id);
        this.bar.value = 100;
        this.setState("done");
        this.say("Uploaded " + this.file.name + " (" + formatBytes(this.file.size) + "). Add a description and send it.");
      } catch (err) {
        if (err.cancelled || upload !== this.upload) return;
        const resumable = err.retryable;
        this.setState(resumable ? "paused" : "failed");
        this.say(resumable
          ? "The upload paused: " + err.message + " Press “Retry upload” to continue from where it stopped."
          : "The upload failed: " + err.message);
      } finally {
        this.notify();
      }
    }
  }

  // --- Link check -------------------------------------------------------------------

  function linkCard(data) {
    const card = document.createElement("div");
    card.className = "link-card";
    const badge = document.createElement("span");
    badge.className = "link-card__badge link-card__badge--" + data.platform;
    badge.setAttribute("aria-hidden", "true");
    badge.textContent = data.platform_label.slice(0, 2);
    const title = document.createElement("p");
    title.className = "link-card__title";
    title.textContent = data.platform_label + (data.content_id ? " · post " + data.content_id : "");
    const url = document.createElement("p");
    url.className = "link-card__url";
    card.append(badge, title, url);
    if (data.canonical_url) {
      url.textContent = data.canonical_url;
    } else {
      // A share link or a profile: it stays with the clinician, so say so.
      url.textContent = data.pasted || "";
      const why = document.createElement("p");
      why.className = "small muted";
      why.dataset.linkPrivate = "";
      why.textContent = data.private_reason;
      card.appendChild(why);
    }
    if (data.hashtags && data.hashtags.length) {
      const tags = document.createElement("ul");
      tags.className = "tags";
      tags.setAttribute("aria-label", "Hashtags");
      data.hashtags.forEach(function (tag) {
        const li = document.createElement("li");
        const span = document.createElement("span");
        span.className = "tag";
        span.textContent = "#" + tag;
        li.appendChild(span);
        tags.appendChild(li);
      });
      card.appendChild(tags);
    }
    const wrap = document.createElement("div");
    wrap.appendChild(card);
    if (data.embed_url) {
      const embed = document.createElement("div");
      embed.className = "embed embed--" + data.platform;
      embed.dataset.embed = data.embed_url;
      embed.dataset.embedTitle = data.platform_label + " post";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--secondary btn--small";
      button.dataset.embedLoad = "";
      button.textContent = "Preview the " + data.platform_label + " post";
      embed.appendChild(button);
      wrap.appendChild(embed);
      bindEmbeds(wrap);
    }
    return wrap;
  }

  function bindLinkCheck(form) {
    const input = $(form, "[data-portal-link]");
    const status = $(form, "[data-link-status]");
    const holder = $(form, "[data-link-card]");
    const url = form.dataset.linkCheck;
    let timer = null;
    let seq = 0;
    let checked = null;
    function check() {
      const value = input.value.trim();
      if (value === checked) return;
      checked = value;
      const mine = ++seq;
      if (!value) {
        holder.replaceChildren();
        status.textContent = "";
        status.className = "link-check";
        input.removeAttribute("aria-invalid");
        return;
      }
      const query = "?url=" + encodeURIComponent(value);
      fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== seq) return;
          if (data.ok) {
            status.className = "link-check link-check--ok";
            status.textContent = "✓ " + data.platform_label + " link recognised.";
            input.removeAttribute("aria-invalid");
            holder.replaceChildren(linkCard(Object.assign({ pasted: value }, data)));
          } else {
            status.className = "link-check link-check--error";
            status.textContent = data.error;
            input.setAttribute("aria-invalid", "true");
            holder.replaceChildren();
          }
        })
        .catch(function () {
          if (mine !== seq) return;
          checked = null;
          status.className = "link-check";
          status.textContent = "Couldn't check the link right now; you can still send it.";
        });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 350); });
    input.addEventListener("change", check);
    if (input.value.trim()) check();
    return function reset() {
      seq += 1;
      checked = null;
      status.textContent = "";
      status.className = "link-check";
      holder.replaceChildren();
      input.removeAttribute("aria-invalid");
    };
  }

  // --- Embeds (click to load) -------------------------------------------------------

  function bindEmbeds(root) {
    $$(root, "[data-embed]").forEach(function (box) {
      const button = $(box, "[data-embed-load]");
      if (!button || button.dataset.bound) return;
      button.dataset.bound = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        const frame = document.createElement("iframe");
        frame.src = box.dataset.embed;
        frame.title = box.dataset.embedTitle || "Embedded post";
        frame.loading = "lazy";
        frame.allow = "encrypted-media; picture-in-picture; fullscreen";
        frame.referrerPolicy = "strict-origin-when-cross-origin";
        box.replaceChildren(frame);
      });
    });
  }

  // --- Portal form --------------------------------------------------------------------

  function showErrors(form, errors) {
    $$(form, "p.error[data-client-error], p.error[data-server-error]").forEach(function (p) { p.remove(); });
    $$(form, ".field--error").forEach(function (f) { f.classList.remove("field--error"); });
    const general = $(form, "[data-form-error]");
    general.hidden = true;
    general.replaceChildren();
    let first = null;
    Object.keys(errors || {}).forEach(function (name) {
      const field = $(form, '[data-field="' + name + '"]');
      (errors[name] || []).forEach(function (message) {
        const p = document.createElement("p");
        p.className = "error";
        p.dataset.clientError = "";
        p.textContent = message;
        if (field) {
          field.classList.add("field--error");
          field.appendChild(p);
          first = first || field.querySelector("input, textarea, select");
        } else {
          general.appendChild(p);
          general.hidden = false;
        }
      });
    });
    if (!general.hidden) general.scrollIntoView({ block: "center" });
    else if (first) first.focus();
  }

  function bindPortalForm(form, refreshList) {
    const uploader = new Uploader(form);
    const button = $(form, "[data-portal-submit]");
    const label = button.textContent;
    const resetLink = bindLinkCheck(form);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (button.disabled) return;
      button.disabled = true;
      try {
        if (uploader.state === "uploading") {
          button.textContent = "Waiting for the upload…";
          const ok = await uploader.settled();
          if (!ok) {
            showErrors(form, { file: ["The file hasn't finished uploading. Press “Retry upload”, or remove the file."] });
            return;
          }
        } else if (uploader.file && uploader.state !== "done") {
          showErrors(form, { file: ["The file hasn't finished uploading. Press “Retry upload”, or remove the file."] });
          return;
        }
        button.textContent = "Sending…";
        const data = new FormData(form);
        data.delete("file");
        const response = await fetch(window.location.pathname, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrf() },
        });
        let reply = null;
        try { reply = await response.json(); } catch (e) { reply = null; }
        if (response.ok && reply && reply.ok) {
          form.reset();
          uploader.reset(true);
          showErrors(form, {});
          resetLink();
          if (C.toast) C.toast("Sent. Your clinician will see it in their inbox.");
          await refreshList();
          const item = document.getElementById("submission-" + reply.id);
          if (item) { item.scrollIntoView({ block: "start" }); }
        } else {
          showErrors(form, (reply && reply.errors) || { __all__: ["Something went wrong; please try again."] });
        }
      } catch (err) {
        showErrors(form, { __all__: ["The connection was lost. Your details are still here; press Send again."] });
      } finally {
        button.disabled = false;
        button.textContent = label;
      }
    });
  }

  // --- Live lists -----------------------------------------------------------------------

  // Put fresh server-rendered HTML (same origin, escaped) into ``container``.
  // Items (``[data-submission]`` in a ``[data-list]``) whose ``data-version``
  // is unchanged keep their DOM node, so a video being watched keeps playing.
  function update(container, html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const fresh = template.content;
    const oldList = container.querySelector("[data-list]");
    const newList = fresh.querySelector("[data-list]");
    if (!oldList || !newList) {
      container.replaceChildren(fresh);
      return;
    }
    const kept = new Map();
    Array.from(oldList.children).forEach(function (item) { kept.set(item.dataset.submission, item); });
    const items = Array.from(newList.children).map(function (item) {
      const old = kept.get(item.dataset.submission);
      return old && old.dataset.version === item.dataset.version ? old : item;
    });
    const same = items.length === oldList.children.length &&
      items.every(function (item, i) { return oldList.children[i].dataset.submission === item.dataset.submission; });
    if (same) {
      items.forEach(function (item, i) {
        const old = oldList.children[i];
        if (old !== item) old.replaceWith(item);
      });
    } else {
      oldList.replaceChildren.apply(oldList, items);
    }
    // Everything around the list (counts, empty state, pager) is replaced.
    newList.replaceWith(oldList);
    container.replaceChildren(fresh);
  }

  function liveList(container, url, onUpdate) {
    let busy = null;
    function refresh() {
      if (busy) return busy;
      busy = fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (html) {
          const open = $$(container, "details[open]").map(function (d) { return d.closest("[data-submission]"); })
            .filter(Boolean).map(function (li) { return li.dataset.submission; });
          update(container, html);
          open.forEach(function (id) {
            const details = container.querySelector('[data-submission="' + id + '"] details');
            if (details) details.open = true;
          });
          bindEmbeds(container);
          if (onUpdate) onUpdate(container);
        })
        .catch(function () { /* the next event or poll tries again */ })
        .finally(function () { busy = null; });
      return busy;
    }
    return refresh;
  }

  // Refresh on every "submission" notification, and whenever the socket
  // (re)connects: anything sent while it was down is caught up at once.
  // Falls back to the page-wide notification events without WebSockets.
  function onSubmissionNews(refresh) {
    function relevant(frame) {
      return frame && frame.type === "notification" && (frame.notification || {}).kind === "submission";
    }
    if (window.WebSocket && C.socket) {
      C.socket("/ws/notifications/", {
        open: function () { refresh(); },
        frame: function (frame) { if (relevant(frame)) refresh(); },
      });
    } else {
      document.addEventListener("consilium:notification", function (event) {
        if (relevant(event.detail)) refresh();
      });
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") refresh();
    });
  }

  function bindPortalList(container) {
    let polls = 0;
    let timer = null;
    const refresh = liveList(container, container.dataset.listUrl, schedule);
    function schedule() {
      clearTimeout(timer);
      // Poll while a file is still being processed (at most ~10 minutes).
      if (container.querySelector("[data-pending]") && polls < 150) {
        polls += 1;
        timer = setTimeout(refresh, 4000);
      }
    }
    onSubmissionNews(refresh);
    schedule();
    return function () { polls = 0; return refresh().then(schedule); };
  }

  function bindInbox(section) {
    const container = $(section, "[data-inbox-list]");
    const refresh = liveList(container, section.dataset.listUrl, function () {
      const counts = $(container, "[data-inbox-counts]");
      if (!counts) return;
      const unread = $(section, "[data-inbox-unread]");
      const open = $(section, "[data-inbox-open]");
      if (unread) unread.textContent = "(" + counts.dataset.unread + ")";
      if (open) open.textContent = "(" + counts.dataset.open + ")";
    });
    onSubmissionNews(refresh);
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindEmbeds(document);
    const list = document.querySelector("[data-portal-list]");
    const refreshList = list ? bindPortalList(list) : function () { return Promise.resolve(); };
    const form = document.querySelector("[data-portal-form]");
    if (form) bindPortalForm(form, refreshList);
    const inbox = document.querySelector("[data-inbox]");
    if (inbox) bindInbox(inbox);
  });
})();
