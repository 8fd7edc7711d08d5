package portal

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/domains/stubdns"
	"github.com/stackhub/stackhub/internal/platform"
)

// TestAPIv1Domains: an app's custom domains through /api/v1 on a real
// platform, whose DNS check asks a stub DNS server. Every refusal (no
// CSRF token, a member, a bad name, an unknown app, a name that does not
// point at the box, a declared app) changes nothing; a name that points
// at the box and a forced one are listed and served, and a delete releases
// the name. The app page has the section, read-only for a declared app.
func TestAPIv1Domains(t *testing.T) {
	host := "duo." + domain
	resolver := stubdns.Serve(t, map[string]string{
		host:                 "192.0.2.10",
		"photos.example.org": "CNAME " + host,
		"wrong.example.org":  "203.0.113.7",
	})
	e, plat, tok := newPlatformEnv(t, "", func(c *platform.Config) { c.Resolver = resolver })
	j := func(method, path, body string) resp {
		t.Helper()
		return e.doJSON(method, path, body, tok)
	}
	if _, end := progress(t, j("POST", "/api/v1/install", `{"ref":"test/duo","values":{"GREETING":"hi"}}`)); end.Error != "" {
		t.Fatalf("install duo: %s", end.Error)
	}
	api := "/api/v1/apps/duo/domains"
	names := func() []string {
		t.Helper()
		ds, err := plat.Apps.Domains("duo")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return out
	}
	if r := e.do("GET", api, nil); r.status != 200 || !strings.Contains(r.body, `"domains":[]`) || !strings.Contains(r.body, `"host":"`+host+`"`) {
		t.Errorf("empty list: %d %s", r.status, r.body)
	}

	// Refusals change nothing: without the CSRF token, for a member.
	if r := e.doJSON("POST", api, `{"name":"photos.example.org","force":true}`, ""); r.status != 403 {
		t.Errorf("add without the CSRF token: %d %s", r.status, r.body)
	}
	if _, err := e.a.CreateUser(auth.NewUser{Name: "cid", Password: "cid-password-1"}); err != nil {
		t.Fatal(err)
	}
	m := newEnvSharing(e)
	m.signInAs("cid", "cid-password-1")
	var me struct{ CSRF string }
	json.Unmarshal([]byte(m.do("GET", "/api/v1/me", nil).body), &me)
	if r := m.doJSON("POST", api, `{"name":"photos.example.org","force":true}`, me.CSRF); r.status != 403 {
		t.Errorf("member adds: %d %s", r.status, r.body)
	}
	if r := m.do("GET", api, nil); r.status != 403 {
		t.Errorf("member lists: %d %s", r.status, r.body)
	}
	if got := names(); len(got) != 0 {
		t.Fatalf("refused requests added %v", got)
	}

	// Bad names, the app's own and the platform's addresses, unknown apps.
	for _, bad := range []struct {
		path, body string
		want       int
		says       string
	}{
		{api, `{"name":""}`, 400, "not a full domain name"},
		{api, `{"name":"..","force":true}`, 400, "not a domain name"},
		{api, `{"name":"a..b.example.org","force":true}`, 400, "not a domain name"},
		{api, `{"name":"bad_name.example.org","force":true}`, 400, "not a domain name"},
		{api, `{"name":"localhost","force":true}`, 400, "photos.example.org"},
		{api, `not json`, 400, "JSON"},
		{api, `{"name":"` + host + `","force":true}`, 400, "the app's own address"},
		{api, `{"name":"my.` + domain + `","force":true}`, 409, "StackHub's own address"},
		{api, `{"name":"` + domain + `"}`, 409, "StackHub's own address"},
		{"/api/v1/apps/nope/domains", `{"name":"photos.example.org","force":true}`, 404, "no app"},
	} {
		if r := j("POST", bad.path, bad.body); r.status != bad.want || !strings.Contains(r.body, bad.says) {
			t.Errorf("POST %s %s: %d %s, want %d saying %q", bad.path, bad.body, r.status, r.body, bad.want, bad.says)
		}
	}
	for _, path := range []string{"/api/v1/apps/nope/domains", "/api/v1/apps/nope/domains/check?name=photos.example.org"} {
		if r := e.do("GET", path, nil); r.status != 404 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	if r := j("DELETE", "/api/v1/apps/nope/domains/photos.example.org", ""); r.status != 404 {
		t.Errorf("DELETE of an unknown app's name: %d %s", r.status, r.body)
	}
	if r := j("DELETE", api+"/photos.example.org", ""); r.status != 404 || !strings.Contains(r.body, "is not a domain of duo") {
		t.Errorf("DELETE of a name the app does not have: %d %s", r.status, r.body)
	}
	if r := e.do("GET", api+"/check?name=..", nil); r.status != 400 {
		t.Errorf("check of a bad name: %d %s", r.status, r.body)
	}
	if got := names(); len(got) != 0 {
		t.Fatalf("refused requests added %v", got)
	}

	// A name that points elsewhere: refused with what it resolves to and
	// the record to create; nothing added, nothing routed.
	r := j("POST", api, `{"name":"wrong.example.org"}`)
	var refused struct {
		Error string `json:"error"`
		Check struct {
			Record       string   `json:"record"`
			Addresses    []string `json:"addresses"`
			BoxAddresses []string `json:"box_addresses"`
			OK           bool     `json:"ok"`
		} `json:"check"`
	}
	if err := json.Unmarshal([]byte(r.body), &refused); err != nil || r.status != 422 || refused.Check.OK ||
		refused.Check.Record != "wrong.example.org. CNAME "+host+"." || strings.Join(refused.Check.Addresses, ",") != "203.0.113.7" ||
		strings.Join(refused.Check.BoxAddresses, ",") != "192.0.2.10" || !strings.Contains(refused.Error, "does not point at this StackHub") {
		t.Errorf("a name pointing elsewhere: %d %s", r.status, r.body)
	}
	if got := names(); len(got) != 0 {
		t.Errorf("a refused name was added: %v", got)
	}
	if _, ok := e.reg.Lookup("wrong.example.org"); ok {
		t.Errorf("a refused name is routed")
	}
	// Check again: still wrong; the right name is fine; neither is added.
	if r := e.do("GET", api+"/check?name=wrong.example.org", nil); r.status != 200 || !strings.Contains(r.body, `"ok":false`) || !strings.Contains(r.body, "CNAME "+host) {
		t.Errorf("check of a wrong name: %d %s", r.status, r.body)
	}
	if r := e.do("GET", api+"/check?name=Photos.Example.org.", nil); r.status != 200 || !strings.Contains(r.body, `"ok":true`) || !strings.Contains(r.body, `"cname":"`+host+`"`) {
		t.Errorf("check of a right name: %d %s", r.status, r.body)
	}
	if got := names(); len(got) != 0 {
		t.Errorf("a check added %v", got)
	}

	// A name that points here, and a forced one as a redirect.
	var added AppDomains
	r = j("POST", api, `{"name":"photos.example.org"}`)
	if err := json.Unmarshal([]byte(r.body), &added); err != nil || r.status != 201 || added.Check == nil || !added.Check.OK ||
		len(added.Domains) != 1 || added.Domains[0].Kind != "alias" || !added.Domains[0].Served {
		t.Errorf("add photos.example.org: %d %s", r.status, r.body)
	}
	r = j("POST", api, `{"name":"lan.home.arpa","redirect":true,"force":true}`)
	added = AppDomains{}
	if err := json.Unmarshal([]byte(r.body), &added); err != nil || r.status != 201 || added.Check != nil || len(added.Domains) != 2 {
		t.Errorf("forced add of lan.home.arpa: %d %s", r.status, r.body)
	}
	if e, ok := e.reg.Lookup("lan.home.arpa"); !ok || e.Redirect != "https://"+host {
		t.Errorf("the redirect alias is routed as %+v", e)
	}
	var list AppDomains
	r = e.do("GET", api+"?dns=true", nil)
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || r.status != 200 || len(list.Domains) != 2 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	for _, d := range list.Domains {
		switch d.Name {
		case "photos.example.org":
			if d.Kind != "alias" || d.DNS == nil || !d.DNS.OK {
				t.Errorf("listed %+v", d)
			}
		case "lan.home.arpa": // an apex (home.arpa is a public suffix): A records
			if d.Kind != "redirect" || !d.Redirect || d.DNS == nil || d.DNS.OK || d.DNS.Record != "lan.home.arpa. A 192.0.2.10" {
				t.Errorf("listed %+v (DNS %+v)", d, d.DNS)
			}
		default:
			t.Errorf("listed %+v", d)
		}
	}
	// Adding a name again replaces it.
	if r := j("POST", api, `{"name":"photos.example.org","force":true}`); r.status != 201 {
		t.Errorf("adding a name again (it replaces itself): %d %s", r.status, r.body)
	}

	// The app page has the section, its tab and its script.
	page := e.do("GET", "/apps/duo", nil)
	for _, want := range []string{`href="#domains"`, `id="domains"`, `id="domain-form"`, `for="domain-name"`, `id="domain-recheck"`, "/static/appdomains.js"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("app page lacks %s", want)
		}
	}
	if zh := e.do("GET", "/apps/duo", nil, "Accept-Language", "zh-CN"); !strings.Contains(zh.body, "添加域名") || !strings.Contains(zh.body, "跳过 DNS 检查") {
		t.Errorf("the Chinese app page's Domains section is not Chinese")
	}

	// Delete: the name goes, and its route.
	r = j("DELETE", api+"/photos.example.org", "")
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || r.status != 200 || len(list.Domains) != 1 || list.Domains[0].Name != "lan.home.arpa" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if _, ok := e.reg.Lookup("photos.example.org"); ok {
		t.Errorf("a removed name is still routed")
	}

	// A declared app: its domains live in the config; refused as the admin
	// API refuses, and the page shows them read-only.
	if err := plat.Apps.SetManaged("duo", "Caddyfile:3", ""); err != nil {
		t.Fatal(err)
	}
	if r := j("POST", api, `{"name":"photos.example.org","force":true}`); r.status != 409 || !strings.Contains(r.body, "declared in the config (Caddyfile:3)") || !strings.Contains(r.body, "add `domain photos.example.org` to its block") {
		t.Errorf("add to a declared app: %d %s", r.status, r.body)
	}
	if r := j("DELETE", api+"/lan.home.arpa", ""); r.status != 409 || !strings.Contains(r.body, "Caddyfile:3") {
		t.Errorf("delete from a declared app: %d %s", r.status, r.body)
	}
	if got := names(); len(got) != 1 || got[0] != "lan.home.arpa" {
		t.Errorf("a declared app's domains changed: %v", got)
	}
	if r := e.do("GET", api, nil); r.status != 200 || !strings.Contains(r.body, `"managed":"Caddyfile:3"`) {
		t.Errorf("list of a declared app: %d %s", r.status, r.body)
	}
	page = e.do("GET", "/apps/duo", nil)
	if !strings.Contains(page.body, `id="domains-managed"`) || strings.Contains(page.body, `id="domain-form"`) {
		t.Errorf("a declared app's page offers to change its domains")
	}
}
