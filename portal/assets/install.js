// Install from the store page, or the user's own app: the subdomain is
// checked while typing, the install streams its progress, and errors point
// at the field or the compose file's line they concern.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var store = document.getElementById("install-form");
  var own = document.getElementById("own-form");
  var form = store || own;
  if (!form) return;
  var errBox = document.getElementById("install-error");
  var box = document.getElementById("progress");
  var btn = document.getElementById("install");

  function showError(msg) {
    errBox.textContent = msg;
    errBox.hidden = false;
  }

  // Subdomain check while typing.
  var sub = document.getElementById("subdomain");
  var subStatus = document.getElementById("subdomain-status");
  var timer = null;
  function check() {
    var name = sub.value.trim().toLowerCase();
    if (!name) { subStatus.textContent = SH.t("Choose an address."); subStatus.className = "hint bad"; return; }
    SH.api("GET", "/api/v1/subdomain?name=" + encodeURIComponent(name) + "&app=" + encodeURIComponent(form.getAttribute("data-app"))).then(function (r) {
      if (!r.ok || !r.data) return;
      subStatus.textContent = r.data.available ? "✓ " + SH.t("{{.Host}} is free", { Host: r.data.host }) : r.data.message;
      subStatus.className = "hint " + (r.data.available ? "ok" : "bad");
      subStatus.dataset.available = r.data.available ? "yes" : "no";
    });
  }
  if (sub) {
    sub.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 250); });
    check();
  }

  // Own app: compose text or folder, file upload, id echo, error lines.
  var source = "compose";
  if (own) {
    own.querySelectorAll("[data-source]").forEach(function (b) {
      b.addEventListener("click", function () {
        source = b.getAttribute("data-source");
        own.querySelectorAll("[data-source]").forEach(function (x) { x.classList.toggle("on", x === b); });
        own.querySelectorAll("[data-pane]").forEach(function (p) { p.hidden = p.getAttribute("data-pane") !== source; });
      });
    });
    var idIn = document.getElementById("own-id");
    idIn.addEventListener("input", function () {
      own.querySelector("[data-id-echo]").textContent = idIn.value.trim() || "notes";
    });
    document.getElementById("own-file").addEventListener("change", function (ev) {
      var f = ev.target.files[0];
      if (!f) return;
      f.text().then(function (t) {
        document.getElementById("own-compose").value = t;
        if (!idIn.value) {
          idIn.value = f.name.replace(/\.(ya?ml)$/i, "").replace(/(docker-)?compose/i, "").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
          idIn.dispatchEvent(new Event("input"));
        }
      });
    });
  }
  function showLines(text, line) {
    var ol = document.getElementById("own-lines");
    if (!ol) return;
    ol.textContent = "";
    text.split("\n").forEach(function (l, i) {
      var li = SH.el("li", i + 1 === line ? "err" : "", l || " ");
      ol.appendChild(li);
    });
    ol.hidden = false;
    var bad = ol.querySelector(".err");
    if (bad) ol.scrollTop = bad.offsetTop - 40;
  }

  function body() {
    if (own) {
      var b = { approve_hazards: document.getElementById("own-approve").checked };
      if (source === "folder") b.folder = document.getElementById("own-folder").value.trim();
      else {
        b.compose = document.getElementById("own-compose").value;
        b.id = document.getElementById("own-id").value.trim();
      }
      return b;
    }
    var values = {};
    form.querySelectorAll("[data-key]").forEach(function (f) {
      values[f.getAttribute("data-key")] = f.hasAttribute("data-bool") ? String(f.checked) : f.value;
    });
    var approve = document.getElementById("approve");
    return {
      ref: form.getAttribute("data-ref"), subdomain: sub.value.trim().toLowerCase(), values: values,
      approve_hazards: approve ? approve.checked : false, policy: { access: document.getElementById("access").value }
    };
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    errBox.hidden = true;
    form.querySelectorAll(".invalid").forEach(function (x) { x.classList.remove("invalid"); });
    var approve = document.getElementById("approve");
    if (approve && !approve.checked) {
      showError(SH.t("Tick the approval box: this app asks for settings that endanger the machine."));
      approve.focus();
      return;
    }
    var missing = Array.prototype.filter.call(form.querySelectorAll("[required]"), function (f) { return !f.value && f.type !== "checkbox" && !f.closest("[hidden]"); });
    if (missing.length) {
      showError(SH.t("Fill in the required fields."));
      missing[0].focus();
      return;
    }
    btn.disabled = true;
    var name = form.getAttribute("data-name") || SH.t("the app");
    var idle = document.querySelector("[data-op-idle]");
    SH.api("POST", "/api/v1/install", body()).then(function (r) {
      if (!r.stream) {
        btn.disabled = false;
        var d = r.data || {};
        showError(d.error || SH.t("Install refused ({{.Status}})", { Status: r.status }));
        if (d.line && own) showLines(document.getElementById("own-compose").value, d.line);
        var m = /needs a value for (\w+)|, (\w+): /.exec(d.error || "");
        var key = m && (m[1] || m[2]);
        var f = key && form.querySelector('[data-key="' + key + '"]');
        if (f) { f.classList.add("invalid"); f.focus(); }
        return;
      }
      if (idle) idle.hidden = true;
      form.hidden = !!store;
      var p = new SH.Progress(box, SH.t("Installing {{.Name}}…", { Name: name }));
      return p.run(r.response).then(function (end) {
        if (end.error) {
          form.hidden = false;
          btn.disabled = false;
          return;
        }
        var done = p.done || {};
        var wrap = SH.el("div", "ok-box");
        wrap.id = "install-done";
        wrap.appendChild(SH.el("strong", "", "✓ " + SH.t("{{.Name}} is ready", { Name: name })));
        var row = SH.el("div", "button-row");
        if (done.url) {
          var open = SH.el("a", "btn", SH.t("Open {{.Name}}", { Name: name }));
          open.id = "open-app";
          open.href = "/auth/app?rd=" + encodeURIComponent(done.url);
          row.appendChild(open);
        }
        var manage = SH.el("a", "btn secondary", SH.t("Manage"));
        manage.href = "/apps/" + end.app;
        row.appendChild(manage);
        wrap.appendChild(row);
        p.result.appendChild(wrap);
      });
    }, function (e) {
      btn.disabled = false;
      showError(String(e));
    });
  });
});
