// App page: update to the store's version, back up now, list and restore
// snapshots, and the backup schedule. Long operations show their progress
// in the page's progress panel, as start, stop and remove do.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("app");
  if (!root || !document.getElementById("backups")) return;
  var id = root.getAttribute("data-app"), name = root.getAttribute("data-name");
  var base = "/api/v1/apps/" + encodeURIComponent(id);
  var box = document.getElementById("progress");
  var mine = ["update-btn", "backup-now", "backups-list", "schedule-save", "schedule-off"];

  function busy(on) {
    mine.forEach(function (i) { var b = document.getElementById(i); if (b) b.disabled = on; });
    document.querySelectorAll("[data-restore]").forEach(function (b) { b.disabled = on; });
  }
  function refused(r) { return (r.data && r.data.error) || SH.t("Refused ({{.Status}})", { Status: r.status }); }
  function showError(el, msg) { el.textContent = msg; el.hidden = !msg; }
  function when(t) { var d = new Date(t); return isNaN(d) ? t : d.toLocaleString(); }

  // run starts a long operation and follows it in the progress panel;
  // resolves to the panel (its done event) and the end summary, or null
  // when refused.
  function run(method, path, body, title, errEl) {
    busy(true);
    if (errEl) showError(errEl, "");
    return SH.api(method, path, body).then(function (r) {
      if (!r.stream) {
        busy(false);
        if (errEl) showError(errEl, refused(r)); else window.alert(refused(r));
        return null;
      }
      window.scrollTo(0, 0);
      var p = new SH.Progress(box, title);
      return p.run(r.response).then(function (end) {
        busy(false);
        return { p: p, end: end };
      });
    });
  }

  // The last backup, as the page shows it, from the app's status.
  function showLastBackup(lb) {
    var dd = document.getElementById("last-backup");
    if (!dd || !lb) return;
    dd.textContent = "";
    if (lb.error) {
      var err = SH.el("p", "error");
      err.setAttribute("role", "alert");
      err.appendChild(SH.el("strong", "", SH.t("The last backup failed")));
      err.appendChild(document.createTextNode(" (" + when(lb.time) + "): " + lb.error));
      dd.appendChild(err);
      return;
    }
    var pill = SH.el("span");
    SH.setPill(pill, "ok");
    pill.className = "pill s-running";
    dd.appendChild(pill);
    dd.appendChild(document.createTextNode(" " + when(lb.time) + (lb.snapshot ? " · " + SH.t("snapshot") + " " + lb.snapshot.slice(0, 8) : "")));
  }
  function refreshFacts() {
    return SH.api("GET", base).then(function (r) {
      if (r.ok && r.data) showLastBackup(r.data.last_backup);
      return r;
    });
  }

  // Update: backup, new version, health; rolls back by itself.
  var upd = document.getElementById("update-btn");
  if (upd) {
    upd.addEventListener("click", function () {
      var to = upd.getAttribute("data-to"), from = upd.getAttribute("data-from");
      if (!window.confirm(SH.t("Update {{.Name}} from {{.From}} to {{.To}}? It is backed up first, and unreachable while the new version starts.", { Name: name, From: from, To: to }))) return;
      run("POST", base + "/update", { to: to }, SH.t("Updating {{.Name}} to {{.To}}…", { Name: name, To: to })).then(function (o) {
        if (!o) return;
        var dd = document.getElementById("update-available");
        if (!o.end.error && dd) {
          dd.textContent = SH.t("Updated to {{.To}}.", { To: to });
          var again = SH.el("a", "btn secondary", SH.t("Reload the page"));
          again.href = window.location.pathname;
          again.id = "updated-reload";
          o.p.result.appendChild(again);
        }
        return refreshFacts();
      });
    });
  }

  // Back up now.
  var backupErr = document.getElementById("backup-error");
  document.getElementById("backup-now").addEventListener("click", function () {
    run("POST", base + "/backup", undefined, SH.t("Backing up {{.Name}}…", { Name: name }), backupErr).then(function (o) {
      if (!o) return;
      refreshFacts();
      if (!document.getElementById("snapshots").hidden) listSnapshots();
    });
  });

  // Snapshots, each with Restore.
  // reasonText is a snapshot's reason (its tag: manual, schedule …) in the
  // page's language; an unknown one as it is.
  function reasonText(r) {
    var known = { manual: SH.t("manual"), schedule: SH.t("schedule"), "pre-update": SH.t("pre-update"),
      clone: SH.t("clone"), move: SH.t("move"), box: SH.t("box") };
    return known[r] || r;
  }

  function listSnapshots() {
    showError(backupErr, "");
    return SH.api("GET", base + "/backups").then(function (r) {
      if (!r.ok) { showError(backupErr, refused(r)); return; }
      var rows = document.getElementById("snapshot-rows");
      rows.textContent = "";
      (r.data || []).forEach(function (s) {
        var tr = SH.el("tr");
        tr.dataset.snapshot = s.id;
        tr.appendChild(SH.el("td", "", s.short_id));
        tr.appendChild(SH.el("td", "", when(s.time)));
        tr.appendChild(SH.el("td", "", s.version || "–"));
        tr.appendChild(SH.el("td", "", s.reason ? reasonText(s.reason) : "–"));
        var td = SH.el("td");
        var b = SH.el("button", "btn secondary small", SH.t("Restore"));
        b.type = "button";
        b.setAttribute("data-restore", s.id);
        b.setAttribute("aria-label", SH.t("Restore snapshot {{.ID}}", { ID: s.short_id }));
        td.appendChild(b);
        tr.appendChild(td);
        rows.appendChild(tr);
      });
      if (!(r.data || []).length) {
        var tr = SH.el("tr"), td = SH.el("td", "muted", SH.t("No backups yet."));
        td.colSpan = 5;
        tr.appendChild(td);
        rows.appendChild(tr);
      }
      document.getElementById("snapshots").hidden = false;
    });
  }
  document.getElementById("backups-list").addEventListener("click", listSnapshots);
  document.getElementById("snapshot-rows").addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-restore]");
    if (!b) return;
    var snap = b.getAttribute("data-restore");
    if (!window.confirm(SH.t("Restore {{.Name}} as it was in snapshot {{.ID}}? Changes since then are lost; the app stays as it is unless the restored one comes up healthy.", { Name: name, ID: snap.slice(0, 8) }))) return;
    run("POST", base + "/restore", { snapshot: snap }, SH.t("Restoring {{.Name}}…", { Name: name }), backupErr).then(function (o) {
      if (o) refreshFacts();
    });
  });

  // The schedule.
  var form = document.getElementById("schedule-form");
  var schedErr = document.getElementById("schedule-error"), schedOk = document.getElementById("schedule-ok");
  var off = document.getElementById("schedule-off");
  function num(idEl) { var v = document.getElementById(idEl).value.trim(); return v === "" ? 0 : Number(v); }
  function describe(s) {
    var dd = document.getElementById("schedule-now");
    if (!dd) return;
    if (!s) { dd.textContent = SH.t("No schedule: backed up only when asked."); return; }
    var text = SH.t("Every day at {{.Time}}; kept: {{.Daily}} daily, {{.Weekly}} weekly, {{.Monthly}} monthly", { Time: s.daily, Daily: s.retention.daily || 0, Weekly: s.retention.weekly || 0, Monthly: s.retention.monthly || 0 });
    if (s.auto_update) text += "; " + SH.t("updates by itself between {{.Window}}", { Window: s.window });
    dd.textContent = text;
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    showError(schedErr, "");
    schedOk.hidden = true;
    var body = {
      daily: document.getElementById("sched-daily").value.trim(),
      retention: { daily: num("sched-keep-daily"), weekly: num("sched-keep-weekly"), monthly: num("sched-keep-monthly") },
      auto_update: document.getElementById("sched-auto").checked,
      window: document.getElementById("sched-window").value.trim()
    };
    SH.api("PUT", base + "/schedule", body).then(function (r) {
      if (!r.ok) { showError(schedErr, refused(r)); return; }
      schedOk.hidden = false;
      off.hidden = false;
      describe(r.data);
    });
  });
  off.addEventListener("click", function () {
    showError(schedErr, "");
    SH.api("DELETE", base + "/schedule").then(function (r) {
      if (!r.ok) { showError(schedErr, refused(r)); return; }
      off.hidden = true;
      schedOk.hidden = false;
      describe(null);
    });
  });
});
