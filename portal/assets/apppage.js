// App page: start, stop, restart and remove with progress; live logs;
// resource use; settings that recreate the app.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("app");
  if (!root) return;
  var id = root.getAttribute("data-app"), name = root.getAttribute("data-name");
  var box = document.getElementById("progress");
  var opButtons = document.querySelectorAll("[data-op], #remove");

  function busy(on) { opButtons.forEach(function (b) { b.disabled = on; }); }

  function refreshStatus() {
    return SH.api("GET", "/api/v1/apps/" + encodeURIComponent(id)).then(function (r) {
      if (r.status === 404) return gone();
      if (!r.ok || !r.data) return;
      SH.setPill(root.querySelector("h1 [data-status]"), r.data.card.status);
      (r.data.containers || []).forEach(function (c) {
        var row = document.querySelector('tr[data-service="' + c.service + '"]');
        if (row) SH.setPill(row.querySelector("[data-status]"), c.state);
      });
      updateButtons(r.data.card.status);
    });
  }
  // gone shows that the app was removed: nothing left to manage.
  function gone() {
    SH.setPill(root.querySelector("h1 [data-status]"), "removed");
    root.querySelector(".actions").hidden = true;
    document.getElementById("tabs").hidden = true;
    document.querySelectorAll(".tab").forEach(function (t) { t.hidden = true; });
    var url = root.querySelector(".url");
    if (url) url.hidden = true;
  }
  function updateButtons(status) {
    document.getElementById("start").disabled = status === "running";
    document.getElementById("stop").disabled = status === "stopped";
  }
  updateButtons(root.querySelector("h1 [data-status]").getAttribute("data-status"));

  function operate(method, path, title) {
    busy(true);
    return SH.api(method, path).then(function (r) {
      if (!r.stream) {
        busy(false);
        window.alert((r.data && r.data.error) || SH.t("Refused ({{.Status}})", { Status: r.status }));
        return null;
      }
      var p = new SH.Progress(box, title);
      return p.run(r.response).then(function (end) {
        busy(false);
        if (stats.timer && method === "DELETE" && !end.error) clearInterval(stats.timer);
        return refreshStatus().then(function () { return end; });
      });
    });
  }
  document.querySelectorAll("[data-op]").forEach(function (b) {
    b.addEventListener("click", function () {
      var op = b.getAttribute("data-op");
      operate("POST", "/api/v1/apps/" + encodeURIComponent(id) + "/" + op, (op === "stop" ? SH.t("Stopping {{.Name}}…", { Name: name }) : op === "start" ? SH.t("Starting {{.Name}}…", { Name: name }) : SH.t("Restarting {{.Name}}…", { Name: name })));
    });
  });

  // Remove, after a confirmation that names the app.
  var dlg = document.getElementById("remove-dialog");
  var confirmIn = document.getElementById("confirm-name");
  var confirmBtn = document.getElementById("remove-confirm");
  document.getElementById("remove").addEventListener("click", function () {
    confirmIn.value = "";
    confirmBtn.disabled = true;
    if (dlg.showModal) dlg.showModal(); else dlg.setAttribute("open", "");
    confirmIn.focus();
  });
  confirmIn.addEventListener("input", function () { confirmBtn.disabled = confirmIn.value.trim() !== id; });
  confirmBtn.addEventListener("click", function () {
    var keep = document.getElementById("keep-data").checked;
    dlg.close ? dlg.close() : dlg.removeAttribute("open");
    operate("DELETE", "/api/v1/apps/" + encodeURIComponent(id) + "?keep_data=" + keep, SH.t("Removing {{.Name}}…", { Name: name })).then(function (end) {
      if (end && !end.error) {
        var back = SH.el("a", "btn", SH.t("Back to your apps"));
        back.href = "/";
        back.id = "removed";
        box.querySelector("[data-op-result]").appendChild(back);
      }
    });
  });

  // A new address, checked while typing.
  var moveForm = document.getElementById("move-form"), moveIn = document.getElementById("move-sub");
  var moveStatus = document.getElementById("move-status"), moveTimer = null, current = moveIn.value;
  moveIn.addEventListener("input", function () {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(function () {
      var name = moveIn.value.trim().toLowerCase();
      if (!name || name === current) { moveStatus.textContent = ""; return; }
      SH.api("GET", "/api/v1/subdomain?name=" + encodeURIComponent(name) + "&app=" + encodeURIComponent(id)).then(function (r) {
        if (!r.ok || !r.data) return;
        moveStatus.textContent = r.data.available ? "✓ " + SH.t("{{.Host}} is free", { Host: r.data.host }) : r.data.message;
        moveStatus.className = "hint " + (r.data.available ? "ok" : "bad");
      });
    }, 250);
  });
  moveForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = moveIn.value.trim().toLowerCase();
    if (!name || name === current) return;
    busy(true);
    SH.api("PUT", "/api/v1/apps/" + encodeURIComponent(id) + "/subdomain", { subdomain: name }).then(function (r) {
      if (!r.stream) {
        busy(false);
        moveStatus.textContent = (r.data && r.data.error) || SH.t("Refused ({{.Status}})", { Status: r.status });
        moveStatus.className = "hint bad";
        return;
      }
      window.scrollTo(0, 0);
      var p = new SH.Progress(box, "Moving " + root.getAttribute("data-name") + " to " + name + "…");
      return p.run(r.response).then(function (end) {
        busy(false);
        if (!end.error && p.done && p.done.url) {
          current = name;
          moveStatus.textContent = "";
          var link = "/auth/app?rd=" + encodeURIComponent(p.done.url);
          document.querySelectorAll("#app-url, [data-app-url]").forEach(function (a) { a.textContent = p.done.url; a.href = link; });
          document.getElementById("open").href = link;
        }
        return refreshStatus();
      });
    });
  });

  // Resource use, every few seconds while the overview shows.
  var usage = document.getElementById("app-usage");
  function stats() {
    if (document.getElementById("overview").hidden || root.querySelector(".actions").hidden) return;
    SH.api("GET", "/api/v1/apps/" + encodeURIComponent(id) + "/stats").then(function (r) {
      if (!r.ok || !r.data) return;
      usage.textContent = SH.t("CPU {{.CPU}} · memory {{.Memory}}", { CPU: SH.pct(r.data.cpu_percent), Memory: SH.bytes(r.data.memory_bytes) });
      usage.className = "";
      (r.data.services || []).forEach(function (s) {
        var row = document.querySelector('tr[data-service="' + s.service + '"]');
        if (!row) return;
        row.querySelector("[data-cpu]").textContent = SH.pct(s.cpu_percent);
        row.querySelector("[data-mem]").textContent = SH.bytes(s.memory_bytes);
      });
    });
  }
  stats();
  stats.timer = setInterval(stats, 5000);

  // Resource use over the last hour, as two small charts.
  function chart(title, cls, values, fmt) {
    var NS = "http://www.w3.org/2000/svg";
    var fig = SH.el("figure", cls);
    var max = Math.max.apply(null, values.concat([1e-9]));
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 100 40");
    svg.setAttribute("preserveAspectRatio", "none");
    var line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", values.map(function (v, i) {
      var x = values.length > 1 ? 100 * i / (values.length - 1) : 50;
      return x.toFixed(1) + "," + (38 - 36 * v / max).toFixed(1);
    }).join(" "));
    svg.appendChild(line);
    fig.appendChild(svg);
    fig.appendChild(SH.el("figcaption", "", SH.t("{{.Title}} · now {{.Now}}, peak {{.Peak}}", { Title: title, Now: fmt(values[values.length - 1]), Peak: fmt(max) })));
    return fig;
  }
  function history() {
    SH.api("GET", "/api/v1/apps/" + encodeURIComponent(id) + "/history").then(function (r) {
      if (!r.ok || !r.data || r.data.length < 2) return;
      var box = document.getElementById("history");
      box.textContent = "";
      box.appendChild(chart(SH.t("CPU"), "cpu", r.data.map(function (p) { return p.cpu_percent; }), SH.pct));
      box.appendChild(chart(SH.t("Memory"), "mem", r.data.map(function (p) { return p.memory_bytes; }), SH.bytes));
    });
  }
  history();
  setInterval(history, 60000);

  // Live logs.
  var logEl = document.getElementById("log");
  var svc = document.getElementById("log-service"), tail = document.getElementById("log-tail");
  var follow = document.getElementById("log-follow"), find = document.getElementById("log-search");
  var es = null, lines = 0;
  function matches(div) {
    var q = find.value.trim().toLowerCase();
    return !q || div.textContent.toLowerCase().indexOf(q) >= 0;
  }
  function openLogs() {
    if (es) es.close();
    logEl.textContent = "";
    lines = 0;
    var u = "/api/v1/apps/" + encodeURIComponent(id) + "/logs?tail=" + tail.value + "&follow=" + follow.checked + (svc.value ? "&service=" + encodeURIComponent(svc.value) : "");
    es = new EventSource(u);
    es.addEventListener("log", function (ev) {
      var l = JSON.parse(ev.data);
      var near = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 40;
      var div = SH.el("div");
      div.appendChild(SH.el("span", "svc", l.service + " | "));
      div.appendChild(document.createTextNode(l.line));
      if (!matches(div)) div.classList.add("hide");
      logEl.appendChild(div);
      if (++lines > 5000) { logEl.removeChild(logEl.firstChild); lines--; }
      if (near) logEl.scrollTop = logEl.scrollHeight;
    });
    es.addEventListener("end", function () { es.close(); });
    es.onerror = function () { if (!follow.checked) es.close(); };
  }
  [svc, tail, follow].forEach(function (c) { c.addEventListener("change", openLogs); });
  find.addEventListener("input", function () {
    logEl.querySelectorAll("div").forEach(function (d) { d.classList.toggle("hide", !matches(d)); });
  });
  var logsOpen = false;
  function maybeLogs() {
    if (!document.getElementById("logs").hidden && !logsOpen) { logsOpen = true; openLogs(); }
  }
  document.addEventListener("sh:tab", maybeLogs);
  maybeLogs();

  // Settings.
  var sform = document.getElementById("settings-form");
  var sErr = document.getElementById("settings-error"), save = document.getElementById("settings-save");
  SH.api("GET", "/api/v1/apps/" + encodeURIComponent(id) + "/settings").then(function (r) {
    var loading = sform.querySelector("[data-loading]");
    if (!r.ok || !r.data) { loading.textContent = (r.data && r.data.error) || SH.t("Cannot read the settings."); return; }
    var secrets = r.data.secrets || [];
    if (!r.data.fields.length) { loading.textContent = SH.t("This app has no settings."); return; }
    loading.remove();
    r.data.fields.forEach(function (f) {
      var wrap = SH.el("div", "field");
      var val = r.data.values[f.key] || "";
      var secret = f.secret || secrets.indexOf(f.key) >= 0 || f.type === "password";
      var input;
      if (f.type === "bool") {
        var lab = SH.el("label", "check");
        input = SH.el("input");
        input.type = "checkbox";
        input.checked = val === "true";
        input.dataset.bool = "1";
        lab.appendChild(input);
        lab.appendChild(SH.el("span", "", f.label || f.key));
        wrap.appendChild(lab);
      } else {
        var label = SH.el("label", "", f.label || f.key);
        label.htmlFor = "s-" + f.key;
        if (f.required) label.appendChild(SH.el("span", "req", " *"));
        wrap.appendChild(label);
        if (f.type === "select") {
          input = SH.el("select");
          (f.options || []).forEach(function (o) { var op = SH.el("option", "", o); op.selected = o === val; input.appendChild(op); });
        } else {
          input = SH.el("input");
          input.type = secret ? "password" : ({ number: "number", email: "email", url: "url" }[f.type] || "text");
          input.value = secret ? "" : val;
          if (secret) input.placeholder = SH.t("unchanged (hidden)");
        }
        input.id = "s-" + f.key;
        wrap.appendChild(input);
      }
      input.dataset.key = f.key;
      input.dataset.orig = input.type === "checkbox" ? String(input.checked) : input.value;
      if (f.hint) wrap.appendChild(SH.el("p", "hint", f.hint));
      sform.insertBefore(wrap, sErr);
    });
    save.hidden = false;
  });
  sform.addEventListener("submit", function (ev) {
    ev.preventDefault();
    sErr.hidden = true;
    var values = {}, changed = false;
    sform.querySelectorAll("[data-key]").forEach(function (f) {
      var v = f.dataset.bool ? String(f.checked) : f.value;
      if (v !== f.dataset.orig) { values[f.dataset.key] = v; changed = true; }
    });
    if (!changed) { sErr.textContent = SH.t("Nothing changed."); sErr.hidden = false; return; }
    save.disabled = true;
    busy(true);
    SH.api("PUT", "/api/v1/apps/" + encodeURIComponent(id) + "/settings", { values: values }).then(function (r) {
      if (!r.stream) {
        save.disabled = false;
        busy(false);
        sErr.textContent = (r.data && r.data.error) || SH.t("Refused ({{.Status}})", { Status: r.status });
        sErr.hidden = false;
        return;
      }
      window.scrollTo(0, 0);
      var p = new SH.Progress(box, SH.t("Recreating {{.Name}} with the new settings…", { Name: name }));
      return p.run(r.response).then(function () {
        save.disabled = false;
        busy(false);
        sform.querySelectorAll("[data-key]").forEach(function (f) { f.dataset.orig = f.dataset.bool ? String(f.checked) : f.value; });
        return refreshStatus();
      });
    });
  });
});
