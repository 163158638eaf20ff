/* Case media: drag-and-drop uploads with a progress bar per file, and a
   gallery that follows processing live.

   Small files go in one multipart POST each (the server streams them to disk
   and caps them by type). Files larger than one part go part by part through
   an upload session (the shared client, static/js/upload_client.js):
   straight to S3 on presigned URLs in scale mode, or PUT to the app one part
   per request, so no request ever carries more than a part. The gallery refreshes on `media.updated` frames from the case socket
   (the discussion panel's, re-dispatched as `consilium:case-frame`, or its
   own when the page has no discussion) and, while anything is processing,
   by polling (a task worker in another process cannot reach an in-memory
   channel layer). */
(function () {
  "use strict";

  const ACTIVE = ["uploaded", "processing"];
  const CONCURRENCY = 2;
  const POLL_MIN_MS = 1500;
  const POLL_MAX_MS = 10000;

  function csrfToken() {
    if (window.Consilium && window.Consilium.csrfToken) return window.Consilium.csrfToken();
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function formatBytes(n) {
    if (n < 1024) return n + " bytes";
    const units = ["KB", "MB", "GB"];
    let value = n / 1024;
    let i = 0;
    while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
    return value.toFixed(value < 10 ? 1 : 0) + " " + units[i];
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // One XHR with upload progress; resolves with {status, json}. The promise
  // carries the XHR as `.xhr`, so the upload can be cancelled.
  function send(method, url, body, headers, onProgress) {
    const xhr = new XMLHttpRequest();
    const promise = new Promise(function (resolve, reject) {
      xhr.open(method, url);
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (ev) { if (ev.lengthComputable) onProgress(ev.loaded); });
      }
      xhr.addEventListener("load", function () {
        let json = null;
        try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; }
        resolve({ status: xhr.status, json: json });
      });
      xhr.addEventListener("error", function () { reject(new Error("network")); });
      xhr.addEventListener("abort", function () { reject(new Error("cancelled")); });
      xhr.send(body);
      if (onProgress) onProgress(0);
    });
    promise.xhr = xhr;
    return promise;
  }

  function init(root) {
    const list = root.querySelector("[data-media-list]");
    const empty = root.querySelector("[data-media-empty]");
    const announcer = root.querySelector("[data-media-announce]");
    const drop = root.querySelector("[data-media-drop]");
    const input = drop ? drop.querySelector("input[type=file]") : null;
    const rows = root.querySelector("[data-media-uploads]");
    const partBytes = Number(root.dataset.partBytes || 8 * 1024 * 1024);
    const maxBytes = Math.max(Number(root.dataset.maxImage || 0), Number(root.dataset.maxVideo || 0));
    const queue = [];
    let running = 0;
    let pollTimer = null;
    let pollDelay = POLL_MIN_MS;
    let refreshing = false;
    let again = false;

    function say(text) {
      if (!announcer) return;
      announcer.textContent = "";
      window.setTimeout(function () { announcer.textContent = text; }, 50);
    }

    // --- the gallery -----------------------------------------------------------------

    function hasActive() {
      return running > 0 || queue.length > 0 || ACTIVE.some(function (s) {
        return list.querySelector('[data-status="' + s + '"]');
      });
    }

    function schedulePoll() {
      window.clearTimeout(pollTimer);
      if (!hasActive()) { pollDelay = POLL_MIN_MS; return; }
      pollTimer = window.setTimeout(refresh, pollDelay);
      pollDelay = Math.min(POLL_MAX_MS, Math.round(pollDelay * 1.5));
    }

    function refresh() {
      if (refreshing) { again = true; return; }
      refreshing = true;
      fetch(root.dataset.itemsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.items) apply(data.items); })
        .catch(function () {})
        .then(function () {
          refreshing = false;
          if (again) { again = false; refresh(); return; }
          schedulePoll();
        });
    }

    function apply(items) {
      const seen = new Set();
      let previous = null;
      let changed = false;
      items.forEach(function (entry) {
        const id = String(entry.id);
        seen.add(id);
        let el = list.querySelector('[data-asset="' + id + '"]');
        if (!el || el.dataset.version !== entry.version) {
          const fresh = fragment(entry.html);
          if (el) {
            describeChange(el.dataset.status, fresh.dataset.status);
            el.replaceWith(fresh);
          }
          el = fresh;
          changed = true;
        }
        const expected = previous ? previous.nextElementSibling : list.firstElementChild;
        if (expected !== el) list.insertBefore(el, expected);
        previous = el;
      });
      list.querySelectorAll("[data-asset]").forEach(function (el) {
        if (!seen.has(el.dataset.asset)) { el.remove(); changed = true; }
      });
      if (empty) empty.hidden = list.children.length > 0;
      if (changed) pollDelay = POLL_MIN_MS;
    }

    function describeChange(before, after) {
      if (before === after) return;
      const words = {
        ready: "A photo or video is ready.",
        needs_review: "Faces were found: review them before release.",
        rejected: "A file was rejected.",
      };
      if (words[after]) say(words[after]);
    }

    function insertItem(html) {
      const fresh = fragment(html);
      const existing = list.querySelector('[data-asset="' + fresh.dataset.asset + '"]');
      if (existing) existing.replaceWith(fresh);
      else list.appendChild(fresh);
      if (empty) empty.hidden = true;
    }

    list.addEventListener("submit", function (ev) {
      const form = ev.target.closest("form[data-media-action]");
      if (!form) return;
      ev.preventDefault();
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      const button = form.querySelector("button");
      if (button) button.disabled = true;
      fetch(form.getAttribute("action") || location.href, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: new FormData(form),
      })
        .then(function (r) { return r.json().catch(function () { return { ok: r.ok }; }); })
        .then(function (data) {
          if (!data.ok && data.error) window.Consilium ? window.Consilium.toast(data.error) : window.alert(data.error);
          refresh();
        })
        .catch(function () { if (button) button.disabled = false; });
    });

    // --- uploads ---------------------------------------------------------------------

    function makeRow(file) {
      const li = document.createElement("li");
      li.className = "media-upload";
      const name = document.createElement("span");
      name.className = "media-upload__name";
      name.textContent = file.name || "file";
      const size = document.createElement("span");
      size.className = "media-upload__size small muted";
      size.textContent = formatBytes(file.size);
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + (file.name || "file"));
      const status = document.createElement("span");
      status.className = "media-upload__status small";
      status.setAttribute("role", "status");
      status.textContent = "Waiting…";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--small btn--secondary media-upload__cancel";
      button.textContent = "Cancel";
      li.append(name, size, bar, status, button);
      rows.appendChild(li);
      const job = { file: file, li: li, bar: bar, status: status, button: button, cancelled: false, xhr: null, upload: null };
      button.addEventListener("click", function () {
        if (li.classList.contains("is-finished")) { li.remove(); return; }
        job.cancelled = true;
        if (job.xhr) job.xhr.abort();
        if (job.upload) job.upload.cancel();
        const at = queue.indexOf(job);
        if (at >= 0) { queue.splice(at, 1); finish(job, false, "Cancelled."); }
      });
      return job;
    }

    function progress(job, done) {
      const total = job.file.size || 1;
      const pct = Math.min(100, Math.round((done / total) * 100));
      job.bar.value = pct;
      job.status.textContent = pct >= 100 ? "Checking…" : "Uploading " + pct + "%";
    }

    function finish(job, ok, message) {
      job.li.classList.add("is-finished", ok ? "is-ok" : "is-error");
      job.bar.value = ok ? 100 : job.bar.value;
      job.status.textContent = message;
      job.button.textContent = ok ? "Hide" : "Dismiss";
      job.button.setAttribute("aria-label", (ok ? "Hide " : "Dismiss ") + (job.file.name || "file"));
      say((job.file.name || "File") + ": " + message);
      if (ok) window.setTimeout(function () { job.li.remove(); }, 4000);
    }

    function accepted(job, result) {
      insertItem(result.html);
      finish(job, true, "Uploaded. Processing…");
    }

    function formUpload(job) {
      const data = new FormData();
      data.append("files", job.file, job.file.name);
      return track(job, send("POST", root.dataset.uploadUrl, data,
        { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        function (loaded) { progress(job, loaded); }))
        .then(function (res) {
          const result = res.json && res.json.files ? res.json.files[0] : null;
          if (result && result.ok) accepted(job, result);
          else finish(job, false, (result && result.error) || (res.json && res.json.error) || "The upload failed (" + res.status + ").");
        });
    }

    function track(job, promise) {
      job.xhr = promise.xhr;
      return promise;
    }

    // Larger than one part: through an upload session (static/js/upload_client.js).
    function sessionUpload(job) {
      job.upload = new window.Consilium.uploads.Upload(job.file, {
        startUrl: root.dataset.startUrl,
        onProgress: function (bytes) { progress(job, bytes); },
        onStatus: function (text) { job.status.textContent = text; },
      });
      return job.upload.run().then(function (res) {
        if (res && res.ok) accepted(job, res);
        else finish(job, false, (res && res.error) || "The upload could not be completed.");
      }).catch(function (err) {
        job.upload.cancel();
        finish(job, false, err.cancelled ? "Cancelled." : err.message);
      });
    }

    function run(job) {
      if (job.file.size > maxBytes && maxBytes > 0) {
        finish(job, false, "Too large (" + formatBytes(job.file.size) + "): the limit is " + formatBytes(maxBytes) + ".");
        return Promise.resolve();
      }
      job.status.textContent = "Uploading 0%";
      const upload = job.file.size > partBytes && root.dataset.startUrl ? sessionUpload(job) : formUpload(job);
      return upload.catch(function (err) {
        finish(job, false, err.message === "cancelled" ? "Cancelled." : "Network error: check your connection and try again.");
      });
    }

    function pump() {
      while (running < CONCURRENCY && queue.length) {
        const job = queue.shift();
        running += 1;
        run(job).then(function () {
          running -= 1;
          pump();
          schedulePoll();
        });
      }
    }

    function addFiles(files) {
      Array.prototype.forEach.call(files, function (file) { queue.push(makeRow(file)); });
      say(files.length === 1 ? "Uploading 1 file." : "Uploading " + files.length + " files.");
      pump();
    }

    if (drop && input && root.dataset.uploadUrl) {
      drop.classList.add("is-enhanced");
      input.addEventListener("change", function () {
        if (input.files && input.files.length) addFiles(input.files);
        input.value = "";
      });
      drop.addEventListener("submit", function (ev) { ev.preventDefault(); });
      ["dragenter", "dragover"].forEach(function (type) {
        drop.addEventListener(type, function (ev) {
          if (!ev.dataTransfer || Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") < 0) return;
          ev.preventDefault();
          ev.dataTransfer.dropEffect = "copy";
          drop.classList.add("is-over");
        });
      });
      ["dragleave", "dragend"].forEach(function (type) {
        drop.addEventListener(type, function (ev) {
          if (ev.target === drop || !drop.contains(ev.relatedTarget)) drop.classList.remove("is-over");
        });
      });
      drop.addEventListener("drop", function (ev) {
        ev.preventDefault();
        drop.classList.remove("is-over");
        if (ev.dataTransfer && ev.dataTransfer.files.length) addFiles(ev.dataTransfer.files);
      });
    }

    // --- live updates ----------------------------------------------------------------

    function onFrame(frame) {
      // "hello" follows every (re)connect: anything may have changed meanwhile.
      if (frame.type === "media.updated" || frame.type === "hello") refresh();
    }
    if (document.querySelector("[data-discussion][data-ws-path]")) {
      // The discussion panel owns the page's socket and re-dispatches frames.
      document.addEventListener("consilium:case-frame", function (ev) { onFrame(ev.detail || {}); });
    } else if (window.WebSocket && window.Consilium && window.Consilium.socket && root.dataset.wsPath) {
      window.Consilium.socket(root.dataset.wsPath, { frame: onFrame });
    }
    schedulePoll();
  }

  function start() { document.querySelectorAll("[data-media]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
