package caddymodules

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/stackhub/stackhub/declare"
)

func TestDeclaredAppsAdapt(t *testing.T) {
	src := `{
	stackhub {
		domain home.example.com
		app vault {
			from builtin/vaultwarden
			subdomain pw
			set SIGNUPS_ALLOWED false
			set ADMIN_TOKEN {file./run/secrets/vault_admin}
			access restricted users ann groups family
			public_paths /api/* /identity/*
			domain pw.example.org
			domain vault.example.org redirect
			approve privileged
			backup daily keep 7
		}
		app mine {
			path apps/mine
		}
		prune
	}
}
`
	out, err := adapt(t, src)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			Stackhub App `json:"stackhub"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	s := cfg.Apps.Stackhub
	if len(s.Apps) != 2 || s.Prune != declare.PruneKeepData {
		t.Fatalf("apps %+v prune %q", s.Apps, s.Prune)
	}
	v := s.Apps[0]
	abs, _ := filepath.Abs("Caddyfile")
	if v.Name != "vault" || v.From != "builtin/vaultwarden" || v.Subdomain != "pw" || v.File != abs || v.Line != 4 {
		t.Errorf("vault = %+v", v)
	}
	// Placeholders stay in the JSON: they are replaced when the config
	// loads, so secrets never land in the adapted config.
	if v.Set["SIGNUPS_ALLOWED"] != "false" || v.Set["ADMIN_TOKEN"] != "{file./run/secrets/vault_admin}" {
		t.Errorf("set = %v", v.Set)
	}
	if v.Access != "restricted" || strings.Join(v.Users, ",") != "ann" || strings.Join(v.Groups, ",") != "family" || strings.Join(v.PublicPaths, " ") != "/api/* /identity/*" {
		t.Errorf("policy = %+v", v)
	}
	if len(v.Domains) != 2 || v.Domains[0].Redirect || !v.Domains[1].Redirect || v.Domains[1].Name != "vault.example.org" {
		t.Errorf("domains = %+v", v.Domains)
	}
	if strings.Join(v.Approve, ",") != "privileged" || v.Backup == nil || v.Backup.Every != "daily" || v.Backup.Keep != 7 {
		t.Errorf("approve %v backup %+v", v.Approve, v.Backup)
	}
	if m := s.Apps[1]; m.Path != filepath.Join(filepath.Dir(abs), "apps/mine") || m.Line != 16 {
		t.Errorf("mine = %+v (a relative path is the Caddyfile's folder's)", m)
	}

	// caddy fmt keeps the blocks as they are (they are ordinary Caddyfile).
	if got := string(caddyfile.Format([]byte(src))); got != src {
		t.Errorf("caddy fmt changed the declarations:\n%s", got)
	}
}

func TestDeclaredAppErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"app {\n}", "app takes a name: app NAME { from STORE/APP … }, at Caddyfile:3"},
		{"app x {\n\tsubdomain y\n}", "app x: say what to install: `from STORE/APP` or `path FOLDER`, at Caddyfile:3"},
		{"app x {\n\tfrom a b\n}", "from takes one value, at Caddyfile:4"},
		{"app x {\n\tfrom a\n\tset K\n}", "set takes a name and a value: set KEY VALUE (quote a value with spaces), at Caddyfile:5"},
		{"app x {\n\tfrom a\n\tcolour blue\n}", `unknown setting "colour" in app x`},
		{"app x {\n\tfrom a\n\taccess restricted family\n}", "write `users NAME…` or `groups NAME…`"},
		{"app x {\n\tfrom a\n\tbackup daily keep none\n}", `backup keep "none"`},
		{"app x {\n\tfrom a\n\tdomain a.example.org forward\n}", "domain takes a name and optionally `redirect`"},
		{"prune everything", "prune takes nothing"},
	} {
		_, err := adapt(t, "{\n\tstackhub {\n"+c.body+"\n\t}\n}\n")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
		}
	}
}
