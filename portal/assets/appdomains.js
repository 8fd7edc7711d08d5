// App page, Domains section: the app's names of the user's own (with their
// certificate and DNS state), adding one after the DNS check (with the
// record to create when the name does not point here yet, and a check
// again), removing one. The API is /api/v1/apps/{id}/domains.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var sec = document.getElementById("domains"), root = document.getElementById("app");
  if (!sec || !root) return;
  var id = root.getAttribute("data-app"), managed = sec.hasAttribute("data-managed");
  var base = "/api/v1/apps/" + encodeURIComponent(id) + "/domains";
  var loading = document.getElementById("domains-loading"), loadErr = document.getElementById("domains-error");
  var table = document.getElementById("domains-table"), list = document.getElementById("domain-list");
  var none = document.getElementById("domains-none");

  function failText(r) {
    if (!r) return SH.t("The connection failed: check your network and try again.");
    return (r.data && r.data.error) || SH.t("Refused ({{.Status}})", { Status: r.status });
  }

  function certText(d) {
    if (d.certificate) return SH.t("{{.Issuer}}, until {{.Date}}", { Issuer: d.certificate.issuer, Date: new Date(d.certificate.not_after).toLocaleDateString() });
    if (!d.served) return SH.t("none: the app is not running");
    return SH.t("none yet: obtained on the first visit");
  }

  function dnsCell(td, d) {
    td.textContent = "";
    if (!d.dns) { td.appendChild(SH.el("span", "muted", SH.t("checking…"))); return; }
    if (d.dns.ok) { td.appendChild(SH.el("span", "hint ok", "✓ " + SH.t("points here"))); return; }
    td.appendChild(SH.el("span", "hint bad", SH.t("does not point here; create:")));
    td.appendChild(document.createTextNode(" "));
    td.appendChild(SH.el("code", "", d.dns.record));
  }

  // render shows the list; dns=true when the rows carry their DNS state.
  function render(data, dns) {
    loading.hidden = true;
    list.textContent = "";
    var ds = (data && data.domains) || [];
    table.hidden = !ds.length;
    none.hidden = !!ds.length;
    ds.forEach(function (d) {
      var tr = SH.el("tr");
      tr.setAttribute("data-domain", d.name);
      var name = SH.el("td");
      name.setAttribute("data-label", SH.t("Name"));
      name.appendChild(SH.el("strong", "break", d.name));
      tr.appendChild(name);
      var kind = SH.el("td", "", d.kind === "redirect" ? SH.t("redirects to the main address") : SH.t("serves the app"));
      kind.setAttribute("data-label", SH.t("Kind"));
      tr.appendChild(kind);
      var cert = SH.el("td", "muted small", certText(d));
      cert.setAttribute("data-label", SH.t("Certificate"));
      tr.appendChild(cert);
      var dnsTd = SH.el("td", "small");
      dnsTd.setAttribute("data-label", SH.t("DNS"));
      if (dns || d.dns) dnsCell(dnsTd, d); else dnsTd.appendChild(SH.el("span", "muted", SH.t("checking…")));
      tr.appendChild(dnsTd);
      if (!managed) {
        var act = SH.el("td", "row-actions");
        var rm = SH.el("button", "link danger-text", SH.t("Remove"));
        rm.type = "button";
        rm.setAttribute("aria-label", SH.t("Remove {{.Name}}", { Name: d.name }));
        rm.addEventListener("click", function () { remove(d.name, rm); });
        act.appendChild(rm);
        tr.appendChild(act);
      }
      list.appendChild(tr);
    });
  }

  // load lists the names at once, then again with their DNS state (the
  // checks can take a few seconds).
  function load() {
    return SH.api("GET", base).then(function (r) {
      if (!r.ok) { loading.hidden = true; loadErr.textContent = SH.t("Cannot read the domains: {{.Error}}", { Error: failText(r) }); loadErr.hidden = false; return; }
      loadErr.hidden = true;
      render(r.data, false);
      if (!r.data.domains.length) return;
      return SH.api("GET", base + "?dns=true").then(function (r2) {
        if (r2.ok) render(r2.data, true);
      });
    }, function () { loading.hidden = true; loadErr.textContent = failText(null); loadErr.hidden = false; });
  }

  function remove(name, btn) {
    if (!window.confirm(SH.t("Stop serving this app at {{.Name}}?", { Name: name }))) return;
    btn.disabled = true;
    setStatus(SH.t("Removing {{.Name}}…", { Name: name }), "");
    SH.api("DELETE", base + "/" + encodeURIComponent(name)).then(function (r) {
      if (!r.ok) { btn.disabled = false; setStatus(failText(r), "bad"); return; }
      setStatus(SH.t("{{.Name}} removed: it no longer answers for this app.", { Name: name }), "ok");
      render(r.data, false);
      load();
      if (nameIn) nameIn.focus();
    }, function () { btn.disabled = false; setStatus(failText(null), "bad"); });
  }

  var form = document.getElementById("domain-form");
  var nameIn = document.getElementById("domain-name"), status = document.getElementById("domain-status");
  function setStatus(text, cls) {
    if (!status) { if (cls === "bad") window.alert(text); return; }
    status.textContent = text;
    status.className = "hint" + (cls ? " " + cls : "");
  }
  load();
  if (!form) return;

  var redirect = document.getElementById("domain-redirect"), force = document.getElementById("domain-force");
  var addBtn = document.getElementById("domain-add"), recheck = document.getElementById("domain-recheck");
  var refusal = document.getElementById("domain-refusal");

  function busy(on) {
    addBtn.disabled = on;
    recheck.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // showRefusal explains a check that failed: what the name resolves to,
  // where this box is, the record to create.
  function showRefusal(check) {
    document.getElementById("domain-refusal-title").textContent = SH.t("{{.Name}} does not point at this StackHub yet.", { Name: check.name }) +
      (check.problem ? " (" + check.problem + ")" : "");
    var now = SH.t("nothing: the name does not exist in DNS yet");
    var addrs = (check.addresses || []).join(", ");
    if (check.cname) now = "CNAME " + check.cname + (addrs ? " → " + addrs : "");
    else if (addrs) now = addrs;
    document.getElementById("domain-now").textContent = now;
    document.getElementById("domain-box").textContent = (check.box_addresses || []).join(", ") ||
      SH.t("not known: {{.Host}} does not resolve", { Host: check.app_host });
    document.getElementById("domain-record").textContent = check.record;
    document.getElementById("domain-apex").hidden = !check.apex;
    refusal.hidden = false;
  }

  function add(name) {
    busy(true);
    setStatus(force.checked ? SH.t("Adding {{.Name}}…", { Name: name }) : SH.t("Checking the DNS of {{.Name}}…", { Name: name }), "");
    return SH.api("POST", base, { name: name, redirect: redirect.checked, force: force.checked }).then(function (r) {
      busy(false);
      if (r.status === 422 && r.data && r.data.check) {
        showRefusal(r.data.check);
        setStatus(SH.t("Not added. Create the record below, then check again."), "bad");
        refusal.focus();
        return;
      }
      if (!r.ok) { setStatus(failText(r), "bad"); nameIn.focus(); return; }
      refusal.hidden = true;
      nameIn.value = "";
      redirect.checked = false;
      force.checked = false;
      setStatus(SH.t("{{.Name}} added: its certificate is obtained on its first visit.", { Name: name }), "ok");
      render(r.data, false);
      load();
      nameIn.focus();
    }, function () { busy(false); setStatus(failText(null), "bad"); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = nameIn.value.trim().toLowerCase().replace(/\.$/, "");
    if (!name) { setStatus(SH.t("Write a domain name, like photos.example.org."), "bad"); nameIn.focus(); return; }
    add(name);
  });

  // Check again: the DNS check alone; once the name points here, it is
  // added (the add checks once more).
  recheck.addEventListener("click", function () {
    var name = nameIn.value.trim().toLowerCase().replace(/\.$/, "");
    if (!name) { setStatus(SH.t("Write a domain name, like photos.example.org."), "bad"); nameIn.focus(); return; }
    busy(true);
    setStatus(SH.t("Checking the DNS of {{.Name}}…", { Name: name }), "");
    SH.api("GET", base + "/check?name=" + encodeURIComponent(name)).then(function (r) {
      busy(false);
      if (!r.ok) { setStatus(failText(r), "bad"); return; }
      if (!r.data.ok) {
        showRefusal(r.data);
        setStatus(SH.t("Checked at {{.Time}}: not yet. DNS changes can take a while; check again later.", { Time: new Date().toLocaleTimeString() }), "bad");
        return;
      }
      add(name);
    }, function () { busy(false); setStatus(failText(null), "bad"); });
  });
  // A new name: the old explanation no longer applies.
  nameIn.addEventListener("input", function () { refusal.hidden = true; });
});
