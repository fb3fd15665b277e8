/* The admin desk: the message of the action just done is focused (it sits in the row acted on, so the
   page shows it where the admin is); uploads waiting for or under processing are followed until they are
   ready or failed. */
(function () {
  "use strict";
  var message = document.querySelector("[data-row-message]") || document.querySelector("#erreurs");
  /* After the browser has scrolled to the row named in the address (which moves the focus to the page). */
  function focusMessage() { window.setTimeout(function () { message.focus(); }, 0); }
  if (message) {
    if (document.readyState === "complete") { focusMessage(); } else { window.addEventListener("load", focusMessage); }
  }

  var LABELS = {
    uploading: "Envoi en cours", uploaded: "En attente de traitement", processing: "Traitement en cours",
    ready: "Prêt", failed: "Échec"
  };
  var pending = Array.prototype.filter.call(document.querySelectorAll("[data-upload-id][data-status]"), function (badge) {
    return badge.dataset.status === "uploaded" || badge.dataset.status === "processing";
  });
  if (!pending.length) { return; }
  var deadline = Date.now() + 15 * 60 * 1000;

  function check() {
    var still = [];
    Promise.all(pending.map(function (badge) {
      return fetch("/api/v1/admin/uploads/" + badge.dataset.uploadId, {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) { return response.ok ? response.json() : null; }).then(function (upload) {
        if (!upload) { return; }
        badge.dataset.status = upload.status;
        badge.className = "badge state-" + upload.status;
        badge.textContent = LABELS[upload.status] || upload.status;
        if (upload.status === "ready" || upload.status === "failed") {
          var note = document.createElement("a");
          note.href = window.location.pathname;
          note.textContent = upload.status === "failed" ? " Actualiser pour voir la suite" : " Actualiser";
          badge.after(note);
        } else {
          still.push(badge);
        }
      }).catch(function () { still.push(badge); });
    })).then(function () {
      pending = still;
      if (pending.length && Date.now() < deadline) { window.setTimeout(check, 2000); }
    });
  }
  window.setTimeout(check, 2000);
})();
