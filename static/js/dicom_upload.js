/* Consilium DICOM study upload: files, a folder, or a zip, in one session.
 *
 * One file goes up as it is. Several files (a selection, a folder, or a
 * drop of files and folders) are packed into one uncompressed zip in the
 * browser first, so a CT of a thousand slices is one upload and one file
 * on the server. Either goes in upload-session parts, like a video. The server groups the files into series and answers with
 * one entry per series plus the files that failed or were skipped; each
 * series is then polled until it is ready (or needs review).
 */
(function () {
  "use strict";

  var POLL_MS = 1500;

  // --- packing several files into one zip -----------------------------------------

  // client-zip (static/vendor/client-zip) streams a stored (uncompressed)
  // zip, Zip64 when it must; the browser keeps a large Blob on disk, so a
  // folder of a thousand slices is never held in memory whole. The module
  // is loaded only when a study has more than one file.
  async function makeZip(form, entries, onProgress) {
    var zip = await import(form.getAttribute("data-zip-module"));
    var done = 0;
    async function* files() {
      for (var i = 0; i < entries.length; i++) {
        var file = entries[i].file;
        yield { name: entries[i].name.replace(/^\/+/, ""), lastModified: file.lastModified, input: file };
        done += 1;
        if (onProgress) onProgress(done, entries.length);
      }
    }
    return zip.downloadZip(files()).blob();
  }

  // --- collecting files ---------------------------------------------------------------

  function readEntries(reader) {
    return new Promise(function (resolve, reject) { reader.readEntries(resolve, reject); });
  }

  async function walk(entry, prefix, out) {
    if (entry.isFile) {
      var file = await new Promise(function (resolve, reject) { entry.file(resolve, reject); });
      out.push({ file: file, name: prefix + file.name });
    } else if (entry.isDirectory) {
      var reader = entry.createReader();
      var batch;
      do {
        batch = await readEntries(reader);
        for (var i = 0; i < batch.length; i++) await walk(batch[i], prefix + entry.name + "/", out);
      } while (batch.length);
    }
  }

  async function dropped(dataTransfer) {
    var out = [];
    var items = dataTransfer.items ? Array.from(dataTransfer.items) : [];
    var entries = items
      .map(function (item) { return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null; })
      .filter(Boolean);
    if (entries.length) {
      for (var i = 0; i < entries.length; i++) await walk(entries[i], "", out);
      return out;
    }
    return Array.from(dataTransfer.files || []).map(function (f) { return { file: f, name: f.name }; });
  }

  function chosen(form) {
    var out = [];
    form.querySelectorAll("[data-dicom-files]").forEach(function (input) {
      Array.from(input.files || []).forEach(function (f) {
        out.push({ file: f, name: f.webkitRelativePath || f.name });
      });
    });
    return out;
  }

  // --- the page ---------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function statusLabel(status) {
    return {
      uploaded: "Waiting",
      processing: "De-identifying…",
      ready: "Ready",
      needs_review: "Needs your review",
      rejected: "Rejected",
    }[status] || status;
  }

  function renderSeries(li, series) {
    li.textContent = "";
    li.setAttribute("data-status", series.status);
    li.appendChild(el("strong", null, series.caption));
    li.appendChild(el("span", "pill pill--" + series.status, statusLabel(series.status)));
    if (series.status === "ready") {
      var open = el("a", "btn btn--small", "Open viewer");
      open.href = series.viewer_url;
      li.appendChild(open);
    } else if (series.status === "needs_review") {
      var review = el("a", "btn btn--small", "Review burned-in text");
      review.href = series.review_url;
      li.appendChild(review);
    }
    if (series.reason) li.appendChild(el("span", "small muted", series.reason));
  }

  function poll(li, series) {
    if (series.status !== "uploaded" && series.status !== "processing") return;
    window.setTimeout(function () {
      fetch(series.status_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : series; })
        .then(function (fresh) {
          renderSeries(li, fresh);
          poll(li, fresh);
        })
        .catch(function () { poll(li, series); });
    }, POLL_MS);
  }

  function showResults(data) {
    var box = document.querySelector("[data-dicom-results]");
    var list = box.querySelector("[data-dicom-series]");
    (data.series || []).forEach(function (series) {
      var li = el("li");
      li.setAttribute("data-series", String(series.id));
      renderSeries(li, series);
      list.appendChild(li);
      poll(li, series);
    });
    var failed = box.querySelector("[data-dicom-failed]");
    (data.failed || []).forEach(function (problem) {
      var li = el("li");
      li.appendChild(el("span", "dicom-results__name", problem.name));
      li.appendChild(el("span", "error", problem.reason));
      failed.appendChild(li);
    });
    box.querySelector("[data-dicom-failed-h]").hidden = !(data.failed || []).length;
    var skipped = box.querySelector("[data-dicom-skipped]");
    (data.skipped || []).forEach(function (problem) {
      var li = el("li");
      li.appendChild(el("span", "dicom-results__name", problem.name));
      li.appendChild(el("span", "small muted", problem.reason));
      skipped.appendChild(li);
    });
    var skippedBox = box.querySelector("[data-dicom-skipped-box]");
    skippedBox.hidden = !(data.skipped || []).length;
    box.querySelector("[data-dicom-skipped-count]").textContent = String((data.skipped || []).length);
    box.hidden = false;
  }

  // The file or the packed zip goes up in upload-session parts (the shared
  // client, static/js/upload_client.js): no request carries more than a
  // part, and in S3 mode the parts go straight to the bucket.
  function send(form, body, filename, progress, onStatus) {
    var upload = new window.Consilium.uploads.Upload(body, {
      startUrl: form.getAttribute("data-start-url"),
      remember: false,
      completeBody: { name: filename, shift_dates: form.querySelector("#shift-dates").checked },
      onProgress: function (bytes) { progress(body.size ? Math.round((bytes / body.size) * 100) : 100); },
      onStatus: onStatus,
    });
    return upload.run().catch(function (err) {
      if (!err.cancelled) upload.cancel();
      throw err;
    });
  }

  function start() {
    var form = document.querySelector("[data-dicom-upload]");
    if (!form) return;
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || Infinity;
    var submit = form.querySelector("[data-dicom-submit]");
    var selection = form.querySelector("[data-dicom-selection]");
    var error = form.querySelector("[data-dicom-error]");
    var progressBox = form.querySelector("[data-dicom-progress]");
    var bar = form.querySelector("[data-dicom-progress-bar]");
    var droppedFiles = null;

    function describe(files) {
      var total = files.reduce(function (sum, f) { return sum + f.file.size; }, 0);
      selection.textContent = files.length
        ? files.length + " file" + (files.length === 1 ? "" : "s") + " (" + (total / 1048576).toFixed(1) + " MB) selected"
        : "";
    }

    form.querySelectorAll("[data-dicom-files]").forEach(function (input) {
      input.addEventListener("change", function () {
        droppedFiles = null;
        describe(chosen(form));
      });
    });
    form.querySelectorAll("[data-dicom-drop]").forEach(function (zone) {
      zone.addEventListener("dragover", function (e) {
        e.preventDefault();
        zone.classList.add("is-dragover");
      });
      zone.addEventListener("dragleave", function () { zone.classList.remove("is-dragover"); });
      zone.addEventListener("drop", function (e) {
        e.preventDefault();
        zone.classList.remove("is-dragover");
        dropped(e.dataTransfer).then(function (files) {
          droppedFiles = files;
          describe(files);
        });
      });
    });

    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      error.hidden = true;
      var files = droppedFiles || chosen(form);
      if (!files.length) {
        error.textContent = "Choose DICOM files, a folder or a zip archive first.";
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      progressBox.hidden = false;
      bar.value = 0;
      try {
        var body;
        var name;
        if (files.length === 1) {
          body = files[0].file;
          name = files[0].file.name;
        } else {
          selection.textContent = "Packing " + files.length + " files…";
          body = await makeZip(form, files, function (done, total) {
            bar.value = Math.round((done / total) * 20);
          });
          name = "study.zip";
        }
        if (body.size > maxBytes) {
          throw new Error("The upload is too large: at most " + form.getAttribute("data-max-label") + ".");
        }
        selection.textContent = "Uploading…";
        var result = await send(form, body, name, function (percent) {
          bar.value = files.length === 1 ? percent : 20 + percent * 0.8;
        }, function (text) { selection.textContent = text; });
        if (result.error) throw new Error(result.error);
        selection.textContent = "";
        showResults(result);
        form.reset();
        droppedFiles = null;
      } catch (err) {
        error.textContent = err.message || String(err);
        error.hidden = false;
      } finally {
        submit.disabled = false;
        progressBox.hidden = true;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
