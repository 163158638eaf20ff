/* One upload client for every page that sends files through an upload
   session: the case media gallery, the DICOM study upload and the patient
   portal. The pages own their widgets; this owns the protocol.

   A session is opened with a POST to the page's start URL ({size} in, the
   session out: mode, part_size, part_count, part_url, sign_url, status_url,
   complete_url, abort_url). Its parts then go one request each, so no request
   carries more than a part: PUT to the app ("local" mode), or straight to the
   bucket on presigned URLs ("s3" mode; a signature that expired while waiting
   is signed again). Every request is retried with backoff, waiting for the
   network to come back when the browser is offline; a retried or reloaded
   upload resumes from the parts the server already holds (the session is
   remembered per file in localStorage). `complete_url` is posted last, with
   the page's own body (a DICOM study's name and date-shift choice), and its
   answer is what `run()` resolves with. */
(function () {
  "use strict";

  const C = (window.Consilium = window.Consilium || {});
  const STORE_PREFIX = "consilium-upload:";
  // Waits between attempts of one request; a page may set
  // window.ConsiliumUploads = {retryDelays: [...]} first (tests do).
  const DEFAULT_DELAYS = [1000, 2000, 4000, 8000, 15000];
  const SIGN_BATCH = 20;

  function csrf() { return C.csrfToken ? C.csrfToken() : ""; }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function waitOnline() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (resolve) {
      window.addEventListener("online", function once() {
        window.removeEventListener("online", once);
        resolve();
      });
    });
  }

  class HttpError extends Error {
    constructor(status, message, retryable) {
      super(message);
      this.status = status;
      this.retryable = retryable;
    }
    get cancelled() { return this.status === -1; }
  }

  // One XHR (fetch has no upload progress). Resolves with the parsed JSON (or
  // null); rejects with an HttpError that says whether trying again may help.
  function send(method, url, body, opts) {
    opts = opts || {};
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      if (opts.sameOrigin !== false) {
        xhr.setRequestHeader("X-CSRFToken", csrf());
        xhr.setRequestHeader("Accept", "application/json");
      }
      if (opts.json) xhr.setRequestHeader("Content-Type", "application/json");
      if (opts.onProgress && xhr.upload) {
        xhr.upload.addEventListener("progress", function (e) { opts.onProgress(e.loaded); });
      }
      if (opts.signal) {
        if (opts.signal.aborted) { reject(new HttpError(-1, "Cancelled.", false)); return; }
        opts.signal.addEventListener("abort", function () { xhr.abort(); });
      }
      xhr.addEventListener("load", function () {
        let data = null;
        try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
        const retryable = xhr.status >= 500 || xhr.status === 408 || xhr.status === 429 || xhr.status === 0;
        const message = (data && data.error) || "The server answered " + xhr.status + ".";
        reject(new HttpError(xhr.status, message, retryable));
      });
      xhr.addEventListener("error", function () { reject(new HttpError(0, "The connection was lost.", true)); });
      xhr.addEventListener("timeout", function () { reject(new HttpError(0, "The connection timed out.", true)); });
      xhr.addEventListener("abort", function () { reject(new HttpError(-1, "Cancelled.", false)); });
      xhr.send(body === undefined ? null : body);
    });
  }

  function postJSON(url, body, opts) {
    return send("POST", url, JSON.stringify(body || {}), Object.assign({ json: true }, opts || {}));
  }

  // Upload(file, {startUrl, completeBody, name, onProgress(bytes), onStatus(text)})
  // `name` is the key the session is remembered by (default: the file's name,
  // size and date); pass `remember: false` for a blob made on the page.
  class Upload {
    constructor(file, options) {
      this.file = file;
      this.options = Object.assign({ remember: true, completeBody: {} }, options || {});
      this.delays = (window.ConsiliumUploads && window.ConsiliumUploads.retryDelays) || DEFAULT_DELAYS;
      this.session = null;
      this.controller = null;
      this.result = null;
    }

    get key() {
      const file = this.file;
      return STORE_PREFIX + (this.options.name || [file.name, file.size, file.lastModified].join(":"));
    }

    status(text) { if (this.options.onStatus) this.options.onStatus(text); }
    progress(bytes) { if (this.options.onProgress) this.options.onProgress(Math.min(bytes, this.file.size)); }

    async withRetry(label, fn) {
      const signal = this.controller.signal;
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await fn();
        } catch (err) {
          if (!(err instanceof HttpError) || !err.retryable || attempt >= this.delays.length) throw err;
          if (navigator.onLine === false) {
            this.status("You're offline. The upload will continue when you're back online.");
            await waitOnline();
          } else {
            this.status(err.message + " Trying " + label + " again in " + Math.round(this.delays[attempt] / 1000) + " s…");
            await sleep(this.delays[attempt]);
          }
          if (signal.aborted) throw new HttpError(-1, "Cancelled.", false);
        }
      }
    }

    remember() {
      if (!this.options.remember || !this.session) return;
      const where = { status_url: this.session.status_url, complete_url: this.session.complete_url };
      try { localStorage.setItem(this.key, JSON.stringify(where)); } catch (e) { /* private mode */ }
    }

    forget() {
      try { localStorage.removeItem(this.key); } catch (e) { /* private mode */ }
    }

    async open() {
      if (this.session) {
        // Trying again: ask where the server got to (it does not repeat the
        // page's complete_url, so that is kept).
        const current = await this.withRetry("to reconnect", () => send("GET", this.session.status_url));
        return Object.assign({}, this.session, current);
      }
      if (this.options.remember) {
        let saved = null;
        try { saved = JSON.parse(localStorage.getItem(this.key) || "null"); } catch (e) { saved = null; }
        if (saved && saved.status_url) {
          try {
            const current = await send("GET", saved.status_url);
            if (current && (current.status === "open" || current.asset)) return Object.assign({}, saved, current);
          } catch (e) { /* expired or gone: start again */ }
        }
      }
      return this.withRetry("to start", () =>
        postJSON(this.options.startUrl, { size: this.file.size }, { signal: this.controller.signal }));
    }

    // Resolves with complete_url's answer; rejects with an HttpError
    // (`retryable`: run() again resumes; `cancelled`: cancel() was called).
    async run() {
      if (this.result) return this.result;
      this.controller = new AbortController();
      try {
        this.session = await this.open();
        this.remember();
        if (this.session.status !== "open" && this.session.asset) {
          // Finished before a reload: the asset is there already.
          this.result = { ok: true, asset: this.session.asset };
          this.forget();
          return this.result;
        }
        if (this.session.mode === "s3") await this.sendS3();
        else await this.sendLocal();
        this.status("Checking the file…");
        this.result = await this.withRetry("to finish", () =>
          postJSON(this.session.complete_url, this.options.completeBody, { signal: this.controller.signal }));
        this.forget();
        return this.result;
      } catch (err) {
        if (!(err instanceof HttpError && err.retryable)) {
          this.forget();
          if (!(err instanceof HttpError && err.cancelled)) this.session = null;
        }
        throw err instanceof HttpError ? err : new HttpError(0, err.message || String(err), false);
      } finally {
        this.controller = null;
      }
    }

    cancel() {
      const session = this.session;
      if (this.controller) this.controller.abort();
      this.forget();
      this.session = null;
      if (session && session.status === "open") postJSON(session.abort_url, {}).catch(function () { /* best effort */ });
    }

    slice(number) {
      const start = (number - 1) * this.session.part_size;
      return this.file.slice(start, Math.min(this.file.size, start + this.session.part_size));
    }

    async sendLocal() {
      const s = this.session;
      const signal = this.controller.signal;
      this.progress(s.received);
      for (let number = Math.floor(s.received / s.part_size) + 1; number <= s.part_count; number += 1) {
        const before = (number - 1) * s.part_size;
        const url = s.part_url.replace("{n}", String(number));
        const reply = await this.withRetry("this part", () =>
          send("PUT", url, this.slice(number), { signal: signal, onProgress: (loaded) => this.progress(before + loaded) }));
        s.received = reply.received;
        this.progress(s.received);
      }
    }

    async sendS3() {
      const s = this.session;
      const signal = this.controller.signal;
      const done = new Set(s.parts_done || []);
      const todo = [];
      for (let n = 1; n <= s.part_count; n += 1) if (!done.has(n)) todo.push(n);
      let sent = done.size * s.part_size;
      this.progress(sent);
      let urls = {};
      const sign = (numbers) => this.withRetry("to sign", () => postJSON(s.sign_url, { parts: numbers }, { signal: signal }));
      for (const number of todo) {
        if (!urls[number]) urls = (await sign(todo.filter((n) => n >= number).slice(0, SIGN_BATCH))).urls;
        const blob = this.slice(number);
        await this.withRetry("this part", async () => {
          try {
            return await send("PUT", urls[number], blob, {
              sameOrigin: false, signal: signal, onProgress: (loaded) => this.progress(sent + loaded),
            });
          } catch (err) {
            if (err.status === 403) {
              // The signature expired while waiting: sign again, then retry.
              urls[number] = (await sign([number])).urls[String(number)];
              throw new HttpError(0, "The upload link expired.", true);
            }
            throw err;
          }
        });
        sent += blob.size;
        this.progress(sent);
      }
    }
  }

  C.uploads = { Upload: Upload, HttpError: HttpError, send: send, postJSON: postJSON };
})();
