// StackHub portal: shared helpers and small enhancements. Every page's
// forms that post to the server work without it; the live parts (progress,
// logs, figures) need it. No framework, no build step.
"use strict";
document.documentElement.classList.add("js");

var SH = (function () {
  // t translates a text of the scripts: the page hands the catalog's
  // translations in <script type="application/json" id="messages"> (none
  // in English); {{.Name}} placeholders take args' values.
  var messages = {};
  try {
    var mEl = document.getElementById("messages");
    if (mEl) messages = JSON.parse(mEl.textContent) || {};
  } catch (e) { messages = {}; }
  function t(id, args) {
    var s = messages[id] || id;
    if (args) s = s.replace(/\{\{\.(\w+)\}\}/g, function (_, k) { return args[k] !== undefined ? String(args[k]) : ""; });
    return s;
  }

  function csrf() {
    var m = document.querySelector('meta[name="csrf"]');
    return m ? m.content : "";
  }

  // api calls the JSON API; resolves to {ok, status, data, response}.
  function api(method, path, body) {
    var opts = { method: method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      if (ct.indexOf("text/event-stream") === 0) return { ok: r.ok, status: r.status, stream: true, response: r };
      if (r.status === 204) return { ok: true, status: 204, data: null, response: r };
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = { error: t }; }
        return { ok: r.ok, status: r.status, data: data, response: r };
      });
    });
  }

  // readEvents reads a server-sent event stream from a fetch response,
  // calling onEvent(name, data) for each event; resolves at its end.
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var dec = new TextDecoder();
    var buf = "";
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) return;
        buf += dec.decode(r.value, { stream: true });
        var i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          var block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          var name = "", data = "";
          block.split("\n").forEach(function (ln) {
            if (ln.indexOf("event: ") === 0) name = ln.slice(7);
            else if (ln.indexOf("data: ") === 0) data += ln.slice(6);
          });
          if (name) {
            var v = null;
            try { v = JSON.parse(data); } catch (e) { v = data; }
            onEvent(name, v);
          }
        }
        return pump();
      });
    }
    return pump();
  }

  function bytes(n) {
    if (!n && n !== 0) return "–";
    var u = ["B", "kB", "MB", "GB", "TB"], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + " " + u[i];
  }
  function pct(n) { return (n < 10 ? n.toFixed(1) : Math.round(n)) + "%"; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setPill(pill, status) {
    if (!pill) return;
    pill.className = "pill s-" + status;
    pill.setAttribute("data-status", status);
    pill.textContent = t(status);
  }

  // Progress shows a long operation's events in a [data-op-*] panel.
  var labels = {
    validate: t("Check the app"), image: t("Images"), "compose:network": t("Network"), "compose:volume": t("Volumes"),
    "compose:container": t("Containers"), compose: t("Containers"), wait: t("Health"), publish: t("Published"), recover: t("Recovery"),
    backup: t("Backup"), restore: t("Restore")
  };
  var weights = { validate: 5, image: 55, "compose:network": 62, "compose:volume": 66, "compose:container": 80, compose: 80, wait: 90, publish: 97 };

  function Progress(box, title) {
    this.box = box;
    this.steps = box.querySelector("[data-op-steps]");
    this.imgs = box.querySelector("[data-op-images]");
    this.bar = box.querySelector("[data-op-bar]");
    this.pctEl = box.querySelector("[data-op-pct]");
    this.title = box.querySelector("[data-op-title]");
    this.result = box.querySelector("[data-op-result]");
    this.steps.textContent = "";
    this.imgs.textContent = "";
    this.result.textContent = "";
    this.seen = {};
    this.order = [];
    this.images = {};
    this.lines = [];
    this.evidence = [];
    this.current = null;
    this.title.textContent = title || t("Working…");
    box.hidden = false;
    box.classList.remove("failed", "finished");
    this.setPct(2);
  }
  Progress.prototype.setPct = function (p) {
    p = Math.max(0, Math.min(100, p));
    this.bar.style.width = p + "%";
    this.pctEl.textContent = Math.round(p) + "%";
  };
  Progress.prototype.step = function (key) {
    if (!this.seen[key]) {
      var li = el("li", "", labels[key] || key);
      li.dataset.step = key;
      this.steps.appendChild(li);
      this.seen[key] = li;
      this.order.push(key);
    }
    if (this.current !== key) {
      var self = this;
      this.order.forEach(function (k) {
        if (k === key) return;
        self.seen[k].className = "done";
      });
      this.seen[key].className = "now";
      this.current = key;
    }
  };
  Progress.prototype.handle = function (e) {
    // Statuses are English words of appctl, translated here; messages come
    // translated from the server (the event's msg_id and args).
    var msg = (e.resource ? e.resource + ": " : "") + t(e.status || "") + (e.message ? " " + e.message : "");
    if (msg.trim()) this.lines.push(msg.trim());
    if (this.lines.length > 60) this.lines.shift();
    switch (e.phase) {
      case "image": this.image(e); break;
      case "compose": {
        var kind = (e.resource || "").split(" ")[0].toLowerCase();
        var key = "compose:" + (kind === "network" || kind === "volume" || kind === "container" ? kind : "container");
        this.step(key);
        this.setPct(weights[key]);
        break;
      }
      case "done": this.finish(e); return;
      case "evidence": if (e.evidence) this.evidence.push(e.evidence); return;
      case "error": if (e.code) return; break; // the end event says it
      default:
        if (labels[e.phase]) { this.step(e.phase); this.setPct(weights[e.phase] || 50); }
    }
    if (e.phase === "wait" || e.phase === "validate") this.title.textContent = e.status ? cap(t(e.status)) + "…" : this.title.textContent;
  };
  Progress.prototype.image = function (e) {
    this.step("image");
    var parts = (e.resource || "").split(" ");
    var img = parts[0], layer = parts[1] || "";
    var im = this.images[img];
    if (!im) {
      var li = el("li");
      var line = el("div", "img-line");
      var name = el("span", "", img), st = el("span", "", "");
      line.appendChild(name); line.appendChild(st);
      var m = el("div", "meter"), i = el("i");
      m.appendChild(i); li.appendChild(line); li.appendChild(m);
      this.imgs.appendChild(li);
      im = this.images[img] = { layers: {}, st: st, bar: i, status: "" };
    }
    if (layer) im.layers[layer] = { cur: e.current || 0, total: e.total || 0 };
    else if (e.total) im.layers[""] = { cur: e.current || 0, total: e.total };
    var cur = 0, total = 0;
    Object.keys(im.layers).forEach(function (k) { cur += im.layers[k].cur; total += im.layers[k].total; });
    if (!layer && e.status) im.status = e.status;
    var present = /present|exists|already|complete/i.test(im.status || e.status || "");
    im.st.textContent = total ? bytes(cur) + " / " + bytes(total) + (present ? " · " + t("present") : "") : t(im.status || e.status || "");
    im.bar.style.width = (total ? Math.round(100 * cur / total) : (present ? 100 : 5)) + "%";
    var all = 0, n = 0, self = this;
    Object.keys(this.images).forEach(function (k) {
      var c = 0, t = 0, x = self.images[k];
      Object.keys(x.layers).forEach(function (l) { c += x.layers[l].cur; t += x.layers[l].total; });
      all += t ? c / t : (/present/i.test(x.status) ? 1 : 0); n++;
    });
    this.setPct(5 + 50 * (n ? all / n : 0));
  };
  Progress.prototype.finish = function (e) {
    var self = this;
    this.order.forEach(function (k) { self.seen[k].className = "done"; });
    this.setPct(100);
    this.title.textContent = cap(t(e.status || "done"));
    if (e.message) this.result.appendChild(el("p", "muted small", e.message));
    this.box.classList.add("finished");
    this.done = e;
  };
  Progress.prototype.fail = function (message) {
    if (this.current && this.seen[this.current]) this.seen[this.current].className = "failed";
    this.title.textContent = t("Failed");
    this.box.classList.add("failed");
    var err = el("p", "error", message);
    err.setAttribute("role", "alert");
    err.id = "op-error";
    this.result.appendChild(err);
    if (this.evidence.length) {
      var self = this;
      this.evidence.forEach(function (ev) {
        var box = el("div", "op-evidence");
        box.dataset.service = ev.service;
        var head = el("p");
        head.appendChild(el("strong", "", ev.service));
        head.appendChild(document.createTextNode(": " + (ev.state || "")));
        box.appendChild(head);
        if (ev.health && ev.health.length) {
          box.appendChild(el("p", "muted small", t("Its last failed healthchecks:")));
          box.appendChild(el("pre", "op-log op-health", ev.health.join("\n")));
        }
        box.appendChild(el("p", "muted small", ev.logs ? t("Its last log lines:") : t("It wrote no log lines.")));
        if (ev.logs) box.appendChild(el("pre", "op-log", ev.logs));
        self.result.appendChild(box);
      });
    } else if (this.lines.length) {
      this.result.appendChild(el("p", "muted small", t("Last steps:")));
      this.result.appendChild(el("pre", "op-log", this.lines.slice(-10).join("\n")));
    }
  };
  // run streams a fetch response of an operation into the panel; resolves
  // to the operation's end summary. When the stream breaks (a network
  // change, a proxy restart), it follows the operation again by its id: the
  // operation itself goes on on the server.
  Progress.prototype.run = function (response) {
    var self = this, end = null, tries = 0;
    var opId = response.headers.get("X-Operation-Id");
    function follow(resp) {
      return readEvents(resp, function (name, data) {
        if (name === "progress") self.handle(data);
        if (name === "end") end = data;
      }).catch(function () {});
    }
    function again() {
      if (end || !opId || tries++ >= 30) return Promise.resolve();
      return new Promise(function (ok) { setTimeout(ok, 1000); }).then(function () {
        return fetch("/api/v1/operations/" + encodeURIComponent(opId), { credentials: "same-origin" });
      }).then(function (r) {
        if (!r.ok) return again();
        return follow(r).then(again);
      }, again);
    }
    return follow(response).then(again).then(function () {
      if (!end) end = { error: t("The connection was lost; the operation goes on: reload the page to see where it is.") };
      if (end.error) self.fail(end.error);
      return end;
    });
  };

  function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }

  // formValues collects a data-api form: name[] fields become lists,
  // checkboxes booleans; empty passwords are left out.
  function formValues(form) {
    var out = {}, any = false;
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.disabled || f.type === "submit" || f.type === "button") return;
      any = true;
      if (f.name.slice(-2) === "[]") {
        out[f.name.slice(0, -2)] = f.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      } else if (f.type === "checkbox") {
        out[f.name] = f.checked;
      } else if (f.type === "password" && !f.value) {
        return;
      } else {
        out[f.name] = f.value;
      }
    });
    return any ? out : undefined;
  }

  return { t: t, csrf: csrf, api: api, readEvents: readEvents, bytes: bytes, pct: pct, el: el, setPill: setPill, Progress: Progress, formValues: formValues, cap: cap };
})();

document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons (recovery codes, manual key).
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      if (!el || !navigator.clipboard) return;
      navigator.clipboard.writeText(el.innerText.trim()).then(function () {
        btn.textContent = t("Copied");
      });
    });
  });
  // Confirm destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (!window.confirm(f.getAttribute("data-confirm"))) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
      }
    });
  });
  // One-time codes: keep digits only.
  document.querySelectorAll("input[data-otp]").forEach(function (inp) {
    inp.addEventListener("input", function () {
      var v = inp.value.replace(/\D/g, "").slice(0, 6);
      if (v !== inp.value) inp.value = v;
    });
  });
  // Show or hide a secret field.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-reveal]");
    if (!b) return;
    var inp = document.getElementById(b.getAttribute("data-reveal"));
    if (!inp) return;
    inp.type = inp.type === "password" ? "text" : "password";
    b.textContent = inp.type === "password" ? t("Show") : t("Hide");
  });
  // Forms that call the JSON API (data-api="METHOD", data-action="/api/v1/…").
  document.querySelectorAll("form[data-api]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var err = f.querySelector("[data-form-error]"), ok = f.querySelector("[data-form-ok]");
      if (err) err.hidden = true;
      if (ok) ok.hidden = true;
      var btn = f.querySelector("button[type=submit],button:not([type])");
      if (btn) btn.disabled = true;
      SH.api(f.getAttribute("data-api"), f.getAttribute("data-action"), SH.formValues(f)).then(function (r) {
        if (btn) btn.disabled = false;
        if (!r.ok) {
          var msg = (r.data && r.data.error) || t("Failed ({{.Status}})", { Status: r.status });
          if (err) { err.textContent = msg; err.hidden = false; } else { window.alert(msg); }
          return;
        }
        if (ok) { ok.hidden = false; } else { window.location.reload(); }
      }, function (e) {
        if (btn) btn.disabled = false;
        if (err) { err.textContent = String(e); err.hidden = false; }
      });
    });
  });
  // Dismiss a finished operation's panel.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-op-close]");
    if (b) b.closest(".op").hidden = true;
  });
  // Selects that submit their form when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // Section tabs (on the app page, sections show one at a time).
  var tabs = document.getElementById("tabs");
  if (tabs) {
    var links = tabs.querySelectorAll("a");
    var show = function (id) {
      var found = false;
      links.forEach(function (a) {
        var on = a.getAttribute("href") === "#" + id;
        found = found || on;
        a.classList.toggle("on", on);
        var sec = document.getElementById(a.getAttribute("href").slice(1));
        if (sec) sec.hidden = !on;
      });
      if (!found && links.length) show(links[0].getAttribute("href").slice(1));
      document.dispatchEvent(new CustomEvent("sh:tab", { detail: id }));
    };
    links.forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var id = a.getAttribute("href").slice(1);
        history.replaceState(null, "", "#" + id);
        show(id);
      });
    });
    show((location.hash || "#").slice(1));
  }
});
