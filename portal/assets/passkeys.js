// StackHub passkeys: the WebAuthn calls of the passkey pages. The server
// (internal/auth) checks everything; this only carries options and answers
// between it and navigator.credentials, in base64url JSON.
"use strict";
(function () {
  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(b) {
    var bytes = new Uint8Array(b), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    pk.user.id = b64uToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return o;
  }
  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return o;
  }
  function credentialJSON(c) {
    var r = c.response, resp = { clientDataJSON: bufToB64u(r.clientDataJSON) };
    if (r.attestationObject) {
      resp.attestationObject = bufToB64u(r.attestationObject);
      if (r.getTransports) resp.transports = r.getTransports();
    } else {
      resp.authenticatorData = bufToB64u(r.authenticatorData);
      resp.signature = bufToB64u(r.signature);
      if (r.userHandle) resp.userHandle = bufToB64u(r.userHandle);
    }
    return JSON.stringify({ id: c.id, rawId: bufToB64u(c.rawId), type: c.type, response: resp,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {} });
  }
  function post(url, form, csrf) {
    var headers = { "Content-Type": "application/x-www-form-urlencoded" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    return fetch(url, { method: "POST", headers: headers, body: new URLSearchParams(form), credentials: "same-origin" })
      .then(function (r) {
        if (r.ok) return r.json();
        return r.text().then(function (t) { throw new Error(t || r.statusText); });
      });
  }
  function fail(err) {
    var el = document.getElementById("passkey-error");
    if (!el) return;
    el.textContent = (err && err.message) || String(err);
    el.hidden = false;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var login = document.querySelector("form[data-passkey=login]");
    if (login) login.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var csrf = login.elements.csrf.value, rd = login.elements.rd.value;
      post("/login/passkey/begin", { csrf: csrf }).then(function (c) {
        return navigator.credentials.get(requestOptions(c.options)).then(function (cred) {
          return post("/login/passkey/finish", { csrf: csrf, rd: rd, token: c.token, credential: credentialJSON(cred) });
        });
      }).then(function (r) { window.location.assign(r.next); }).catch(fail);
    });
    var reg = document.querySelector("form[data-passkey=register]");
    if (reg) reg.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var csrf = reg.elements.csrf.value, name = reg.elements.name.value;
      post("/account/passkeys/begin", {}, csrf).then(function (c) {
        return navigator.credentials.create(creationOptions(c.options)).then(function (cred) {
          return post("/account/passkeys/finish", { token: c.token, name: name, credential: credentialJSON(cred) }, csrf);
        });
      }).then(function () { window.location.reload(); }).catch(fail);
    });
  });
})();
