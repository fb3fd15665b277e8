/* Resumable upload of a replay with tus 1.0.0 (POST to create, HEAD for the offset, PATCH from there).

   The upload's URL is kept in localStorage under a fingerprint of the file, so a page reload only needs the
   same file chosen again: HEAD says how many bytes the server holds, and PATCH goes on from there. A broken
   connection is retried by itself, with growing pauses, the same way. Once every byte is in, the page
   follows the processing (uploaded → processing → ready | failed). */
(function () {
  "use strict";
  var form = document.querySelector("[data-upload-form]");
  if (!form || !window.learning) { return; }
  var L = window.learning;
  var TUS = "1.0.0";
  var PREFIX = "learning.tus.";
  var DELAYS = [1, 2, 4, 8, 15, 30];
  var endpoint = form.dataset.endpoint;
  var fileInput = form.querySelector('input[type="file"]');
  var targetSelect = form.querySelector("select");
  var publishBox = form.querySelector('input[name="publier"]');
  var startButton = form.querySelector("[data-start]");
  var panel = document.querySelector("[data-progress-panel]");
  var bar = document.querySelector("[data-progress]");
  var percentText = document.querySelector("[data-percent]");
  var statusLine = document.querySelector("[data-status]");
  var doneLink = document.querySelector("[data-done]");
  var pendingBox = document.querySelector("[data-pending]");
  var pendingList = document.querySelector("[data-pending-list]");
  var running = false;

  function say(text) { statusLine.textContent = text; }
  function sleep(seconds) { return new Promise(function (resolve) { window.setTimeout(resolve, seconds * 1000); }); }
  function fingerprint(file) { return PREFIX + [file.name, file.size, file.lastModified, file.type].join("|"); }
  function base64(text) {
    var bytes = new TextEncoder().encode(text), binary = "";
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return btoa(binary);
  }
  function chunkBytes() { return Math.max(16 * 1024, Number(form.dataset.chunkBytes) || 8 * 1024 * 1024); }
  function percent(done, total) { return total ? Math.floor((100 * done) / total) : 0; }
  function showProgress(done, total) {
    var value = percent(done, total);
    bar.value = value;
    percentText.textContent = value + "\u00a0%";
  }
  function remember(key, entry) { try { localStorage.setItem(key, JSON.stringify(entry)); } catch (e) { /* full */ } }
  function recall(key) { try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; } }

  function Fatal(message) { this.message = message; }

  /* The API's own detail, when it is in French (the API speaks English to programs; the page says it in French). */
  function problemText(response) {
    return response.json().then(function (body) {
      var detail = body.detail || "";
      return /[^\x00-\x7f]/.test(detail) ? detail : "";
    }, function () { return ""; });
  }

  /* ---- the protocol --------------------------------------------------------------------------------- */
  function create(file, target, publish) {
    var metadata = [
      "filename " + base64(file.name), "filetype " + base64(file.type || "application/octet-stream"),
      "target " + base64(target)
    ];
    if (publish) { metadata.push("publish " + base64("true")); }
    return fetch(endpoint, {
      method: "POST", credentials: "same-origin",
      headers: {
        "Tus-Resumable": TUS, "Upload-Length": String(file.size), "Upload-Metadata": metadata.join(","),
        "X-CSRF-Token": L.csrf()
      }
    }).then(function (response) {
      if (response.status === 201) { return new URL(response.headers.get("Location"), window.location.href).href; }
      return problemText(response).then(function (detail) {
        var reasons = { 401: "Votre session a expiré\u00a0: reconnectez-vous.", 413: "Ce fichier est trop volumineux.",
                        422: "Cette cible n’existe pas (ou plus)." };
        throw new Fatal((reasons[response.status] || "L’envoi a été refusé.") + (detail ? " (" + detail + ")" : ""));
      });
    });
  }

  /* How many bytes the server holds; null when it no longer knows this upload. */
  function offsetOf(url) {
    return fetch(url, { method: "HEAD", credentials: "same-origin", cache: "no-store", headers: { "Tus-Resumable": TUS } })
      .then(function (response) {
        if (response.status === 404 || response.status === 410) { return null; }
        if (!response.ok) { throw new Error("HEAD " + response.status); }
        return Number(response.headers.get("Upload-Offset"));
      });
  }

  function patch(url, file, offset) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PATCH", url);
      xhr.setRequestHeader("Tus-Resumable", TUS);
      xhr.setRequestHeader("Upload-Offset", String(offset));
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.setRequestHeader("X-CSRF-Token", L.csrf());
      xhr.upload.onprogress = function (event) { showProgress(offset + event.loaded, file.size); };
      xhr.onload = function () {
        if (xhr.status === 204) { resolve(Number(xhr.getResponseHeader("Upload-Offset"))); return; }
        if (xhr.status === 409 || xhr.status === 423 || xhr.status >= 500) { reject(new Error("PATCH " + xhr.status)); return; }
        if (xhr.status === 404 || xhr.status === 410) { reject(new Fatal("Cet envoi a expiré côté serveur\u00a0: recommencez-le.")); return; }
        reject(new Fatal("Le serveur a refusé un morceau du fichier (" + xhr.status + ")."));
      };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.ontimeout = function () { reject(new Error("timeout")); };
      xhr.send(file.slice(offset, offset + chunkBytes()));
    });
  }

  /* ---- one upload, from wherever the server is ------------------------------------------------------ */
  function upload(file, target, publish) {
    var key = fingerprint(file);
    var saved = recall(key);
    var url = saved && saved.target === target ? saved.url : null;
    var failures = 0;
    running = true;
    startButton.disabled = true;
    panel.hidden = false;
    doneLink.hidden = true;
    showProgress(0, file.size);

    function start() {
      if (!url) {
        say("Création de l’envoi…");
        return create(file, target, publish).then(function (created) {
          url = created;
          remember(key, { url: url, name: file.name, size: file.size, target: target, offset: 0, at: Date.now() });
          say("Envoi en cours…");
          return 0;
        });
      }
      return offsetOf(url).then(function (offset) {
        if (offset === null) { localStorage.removeItem(key); url = null; return start(); }
        say("Reprise de l’envoi à " + percent(offset, file.size) + "\u00a0%.");
        return offset;
      });
    }

    function send(offset) {
      showProgress(offset, file.size);
      if (offset >= file.size) { return Promise.resolve(); }
      return patch(url, file, offset).then(function (next) {
        failures = 0;
        remember(key, { url: url, name: file.name, size: file.size, target: target, offset: next, at: Date.now() });
        return send(next);
      }, function (error) {
        if (error instanceof Fatal) { throw error; }
        return retry();
      });
    }

    function retry() {
      var delay = DELAYS[Math.min(failures, DELAYS.length - 1)];
      failures += 1;
      say("Connexion perdue\u00a0: nouvelle tentative dans " + delay + "\u00a0s (l’envoi reprendra où il s’est arrêté).");
      return sleep(delay).then(function () { return offsetOf(url); }).then(function (offset) {
        if (offset === null) { throw new Fatal("Cet envoi a expiré côté serveur\u00a0: recommencez-le."); }
        say("Reprise de l’envoi à " + percent(offset, file.size) + "\u00a0%.");
        return send(offset);
      }, function () { return retry(); });
    }

    return start().then(send).then(function () {
      localStorage.removeItem(key);
      showProgress(file.size, file.size);
      say("Fichier reçu. Vérification et préparation du replay…");
      return follow(url, publish);
    }).catch(function (error) {
      say(error instanceof Fatal ? error.message : "L’envoi s’est interrompu\u00a0: choisissez à nouveau le fichier pour le reprendre.");
    }).then(function () {
      running = false;
      startButton.disabled = false;
      listPending();
    });
  }

  /* The processing, followed until ready or failed. */
  function follow(url, publish) {
    var deadline = Date.now() + 30 * 60 * 1000;
    function poll() {
      return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .catch(function () { return null; })
        .then(function (state) {
          var status = state ? state.status : "";
          if (status === "ready") {
            say(publish ? "Replay prêt, rattaché et publié." : "Replay prêt et rattaché. Publiez-le depuis le tableau de bord.");
            doneLink.hidden = false;
            return;
          }
          if (status === "failed") {
            /* The error is one sentence of its own that says what to do (send a corrected file, or retry). */
            say("Échec du traitement\u00a0: " + (state.error || "erreur inconnue, voyez le tableau de bord."));
            doneLink.hidden = false;
            return;
          }
          if (status === "processing") { say("Traitement en cours (vérification, version audio, image)…"); }
          else if (status === "uploaded") { say("Fichier reçu, en attente de traitement…"); }
          if (Date.now() > deadline) { say("Le traitement prend du temps\u00a0: suivez-le depuis le tableau de bord."); return; }
          return sleep(1).then(poll);
        });
    }
    return poll();
  }

  /* ---- what this device left unfinished ------------------------------------------------------------ */
  function listPending() {
    var entries = [];
    for (var i = 0; i < localStorage.length; i += 1) {
      var key = localStorage.key(i);
      if (key && key.indexOf(PREFIX) === 0) { entries.push([key, recall(key)]); }
    }
    pendingList.replaceChildren();
    entries.forEach(function (pair) {
      var key = pair[0], entry = pair[1];
      if (!entry) { return; }
      var item = document.createElement("li");
      item.textContent = entry.name + " — " + percent(entry.offset || 0, entry.size) + "\u00a0% envoyés, pour " + entry.target + " ";
      var forget = document.createElement("button");
      forget.type = "button";
      forget.className = "secondary small";
      forget.textContent = "Abandonner cet envoi";
      forget.addEventListener("click", function () {
        if (!window.confirm("Abandonner l’envoi de «\u202f" + entry.name + "\u202f»\u00a0? Les morceaux déjà envoyés seront supprimés.")) { return; }
        fetch(entry.url, { method: "DELETE", credentials: "same-origin", headers: { "Tus-Resumable": TUS, "X-CSRF-Token": L.csrf() } })
          .catch(function () { /* gone already */ });
        localStorage.removeItem(key);
        listPending();
      });
      item.appendChild(forget);
      pendingList.appendChild(item);
    });
    pendingBox.hidden = entries.length === 0;
  }

  /* Choosing a file this device had started: its target comes back and the upload resumes by itself. */
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    var saved = file ? recall(fingerprint(file)) : null;
    if (!saved || running) { return; }
    targetSelect.value = saved.target;
    if (targetSelect.value === saved.target) { upload(file, saved.target, publishBox.checked); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = fileInput.files[0];
    if (!file || !targetSelect.value || running) { return; }
    upload(file, targetSelect.value, publishBox.checked);
  });

  listPending();
})();
