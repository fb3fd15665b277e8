/* « Mon compte »: the private feed token through the API (POST issues or rotates it, DELETE revokes it).
   Without JavaScript the same buttons post their forms to the page, which does the same. */
(function () {
  "use strict";
  var section = document.querySelector("[data-feed-token]");
  if (!section || !window.learning) { return; }
  var L = window.learning;
  var createForm = section.querySelector('[data-token-form="create"]');
  var revokeForm = section.querySelector('[data-token-form="revoke"]');
  var issued = section.querySelector("[data-token-issued]");
  var summary = section.querySelector("[data-token-summary]");
  var feedsList = section.querySelector("[data-token-feeds]");
  var status = section.querySelector("[data-token-status]");
  var tokenInput = document.getElementById("token-value");

  function frenchDate(iso) {
    return new Date(iso).toLocaleDateString("fr-FR", { day: "numeric", month: "long", year: "numeric" });
  }

  function copyRow(id, value, label) {
    var item = document.createElement("li");
    var hidden = document.createElement("label");
    hidden.htmlFor = id;
    hidden.textContent = label;
    var row = document.createElement("div");
    row.className = "copy-row";
    var input = document.createElement("input");
    input.id = id;
    input.type = "url";
    input.readOnly = true;
    input.value = value;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.dataset.copy = id;
    button.textContent = "Copier l’adresse";
    row.append(input, button);
    item.append(hidden, row);
    return item;
  }

  createForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var replacing = !revokeForm.hidden;  // a token exists: the new one replaces it
    status.textContent = "Création du jeton…";
    L.api("POST", "/api/v1/me/feed-token").then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (token) {
      tokenInput.value = token.token;
      feedsList.replaceChildren();
      (token.modules || []).forEach(function (feed, index) {
        feedsList.appendChild(copyRow("private-feed-" + (index + 1), feed.url, "Flux privé du module « " + feed.title + " »"));
      });
      issued.hidden = false;
      summary.textContent = "Jeton actif commençant par " + token.hint + "…, créé le " + frenchDate(token.created_at) + ".";
      createForm.querySelector("button").textContent = "Renouveler le jeton";
      revokeForm.hidden = false;
      L.setUpCopyButtons(section);
      status.textContent = "Nouveau jeton créé\u00a0: copiez-le maintenant, il ne sera plus affiché." +
        (replacing ? " L’ancien ne fonctionne plus." : "");
      tokenInput.focus();
    }).catch(function () {
      status.textContent = "Le jeton n’a pas pu être créé. Rechargez la page et réessayez.";
    });
  });

  revokeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    L.api("DELETE", "/api/v1/me/feed-token").then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      tokenInput.value = "";
      feedsList.replaceChildren();
      issued.hidden = true;
      summary.textContent = "Vous n’avez pas de jeton actif.";
      createForm.querySelector("button").textContent = "Créer un jeton";
      revokeForm.hidden = true;
      status.textContent = "Le jeton a été révoqué\u00a0: ses flux ne répondent plus.";
      createForm.querySelector("button").focus();
    }).catch(function () {
      status.textContent = "Le jeton n’a pas pu être révoqué. Rechargez la page et réessayez.";
    });
  });
})();
