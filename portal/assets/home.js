// Home: search the apps, live figures of the machine and of each app, and
// the status of apps and installs in progress.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var search = document.getElementById("app-search");
  var none = document.getElementById("no-match");
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase(), shown = 0;
      document.querySelectorAll("[data-card]").forEach(function (c) {
        var on = !q || c.getAttribute("data-search").toLowerCase().indexOf(q) >= 0;
        c.hidden = !on;
        if (on) shown++;
      });
      if (none) none.hidden = shown > 0;
    });
  }

  function set(name, text) {
    var e = document.querySelector('[data-stat="' + name + '"]');
    if (e) e.textContent = text;
  }
  function meter(name, frac) {
    var e = document.querySelector('[data-meter="' + name + '"]');
    if (!e) return;
    var p = Math.max(0, Math.min(100, frac * 100));
    e.style.width = p + "%";
    e.className = p > 90 ? "full" : p > 75 ? "hot" : "";
  }
  if (window.EventSource && document.getElementById("stats")) {
    var es = new EventSource("/api/v1/system/stats");
    es.addEventListener("stats", function (ev) {
      var s = JSON.parse(ev.data);
      set("cpu", SH.pct(s.cpu_percent));
      meter("cpu", s.cpu_percent / 100);
      set("cores", (s.cores === 1 ? SH.t("{{.Count}} core", { Count: s.cores }) : SH.t("{{.Count}} cores", { Count: s.cores })));
      set("mem", SH.pct(100 * s.mem_used / (s.mem_total || 1)));
      meter("mem", s.mem_used / (s.mem_total || 1));
      set("mem-sub", SH.t("{{.Used}} of {{.Total}}", { Used: SH.bytes(s.mem_used), Total: SH.bytes(s.mem_total) }));
      set("disk", SH.pct(100 * s.disk_used / (s.disk_total || 1)));
      meter("disk", s.disk_used / (s.disk_total || 1));
      set("disk-sub", SH.t("{{.Used}} of {{.Total}}", { Used: SH.bytes(s.disk_used), Total: SH.bytes(s.disk_total) }));
      set("net", "↓ " + SH.bytes(s.net_rx_rate) + "/s");
      set("net-sub", "↑ " + SH.t("{{.Rate}}/s out", { Rate: SH.bytes(s.net_tx_rate) }));
      (s.apps || []).forEach(function (a) {
        var u = document.querySelector('[data-card="' + a.app + '"] [data-usage]');
        if (u) { u.textContent = SH.t("{{.CPU}} CPU · {{.Memory}}", { CPU: SH.pct(a.cpu_percent), Memory: SH.bytes(a.memory_bytes) }); u.title = SH.t("CPU and memory in use"); }
      });
    });
  }

  // Statuses and installs in progress: ask again every few seconds.
  var known = {};
  document.querySelectorAll("[data-card]").forEach(function (c) { known[c.getAttribute("data-card")] = true; });
  function refresh() {
    SH.api("GET", "/api/v1/apps").then(function (r) {
      if (!r.ok || !r.data) return;
      var added = false;
      r.data.forEach(function (a) {
        if (!known[a.id]) { added = true; return; }
        var card = document.querySelector('[data-card="' + a.id + '"]');
        SH.setPill(card.querySelector("[data-status]"), a.status);
        var bar = card.querySelector("[data-card-progress]");
        var busy = a.operation && !a.operation.done;
        bar.hidden = !busy;
        if (busy) {
          var w = { validate: 8, image: 40, compose: 75, wait: 88, publish: 96, done: 100 }[(a.operation.last || {}).phase] || 5;
          bar.firstElementChild.style.width = w + "%";
        }
        if (a.link) card.querySelector(".app-open").setAttribute("href", a.link);
        if (a.host) card.querySelector(".app-host").textContent = a.host;
        badges(card, a);
      });
      if (added && !(search && search.value)) window.location.reload();
    });
  }
  // badges keeps a card's update and failed-backup badges (admins' cards
  // carry update_to and backup_failed) in step with the app.
  function badges(card, a) {
    var meta = card.querySelector(".app-meta"), pill = meta && meta.querySelector("[data-status]");
    if (!pill) return;
    [["update", !!a.update_to, "badge update", SH.t("Update available")], ["backup-failed", !!a.backup_failed, "badge bad", SH.t("Backup failed")]].forEach(function (b) {
      var el = meta.querySelector('[data-badge="' + b[0] + '"]');
      if (b[1] && !el) {
        el = SH.el("a", b[2], b[3]);
        el.href = "/apps/" + encodeURIComponent(a.id) + "#overview";
        el.setAttribute("data-badge", b[0]);
        var after = meta.querySelector('[data-badge="update"]') || pill;
        meta.insertBefore(el, b[0] === "update" ? pill.nextSibling : after.nextSibling);
      } else if (!b[1] && el) {
        el.remove();
      }
    });
  }
  setInterval(refresh, 3000);
});
