/* Shared by every page: the CSRF token for API calls, and the « Copier » buttons. No dependencies. */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* A JSON call to our API with the session cookie; the CSRF header goes with every request. */
  function api(method, url, body, options) {
    var headers = { "X-CSRF-Token": csrf(), "Accept": "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (options && options.keepalive) { init.keepalive = true; }
    return fetch(url, init);
  }

  /* A random UUID (version 4): crypto.randomUUID where the page is a secure context, else from getRandomValues. */
  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function clock(seconds) {
    var total = Math.max(0, Math.round(seconds || 0));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function copyText(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    input.focus();
    input.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function setUpCopyButtons(root) {
    root.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
      if (button.dataset.ready) { return; }
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copy);
        var container = button.closest(".subscribe, .feed-token");
        var status = container ? container.querySelector(".copy-status") : null;
        if (!input) { return; }
        copyText(input).then(function () {
          if (status) { status.textContent = "Copié dans le presse-papiers."; }
        }, function () {
          input.select();
          if (status) { status.textContent = "Sélectionné\u00a0: copiez avec Ctrl+C (ou ⌘+C)."; }
        });
      });
    });
  }

  /* « Ouvrir dans l'application » (podcast://): when no app takes the link the page stays in front, so after a
     moment it says so and points to the address to copy. */
  function setUpPodcastLinks(root) {
    root.querySelectorAll("a.podcast-open").forEach(function (link) {
      link.addEventListener("click", function () {
        var status = document.querySelector(".open-status");
        var left = false;
        function gone() { left = true; }
        window.addEventListener("blur", gone, { once: true });
        document.addEventListener("visibilitychange", gone, { once: true });
        window.setTimeout(function () {
          if (!left && status) {
            status.textContent = "Aucune application de podcast ne s’est ouverte sur cet appareil : copiez l’adresse " +
              "ci-dessus et collez-la dans votre application (les étapes sont plus bas).";
          }
        }, 2500);
      });
    });
  }

  /* The phone menu: the navigation folds behind « Menu » (wide screens ignore the button: CSS hides it). */
  function setUpMenu() {
    var header = document.querySelector(".site-header");
    var button = header ? header.querySelector(".menu-button") : null;
    if (!button) { return; }
    function set(open) {
      header.dataset.menu = open ? "open" : "closed";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.hidden = false;
    set(false);
    button.addEventListener("click", function () { set(header.dataset.menu !== "open"); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.dataset.menu === "open") { set(false); button.focus(); }
    });
  }

  window.learning = { csrf: csrf, api: api, uuid: uuid, clock: clock, setUpCopyButtons: setUpCopyButtons };
  document.addEventListener("DOMContentLoaded", function () { setUpCopyButtons(document); setUpPodcastLinks(document); setUpMenu(); });
})();
