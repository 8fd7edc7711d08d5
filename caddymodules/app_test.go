package caddymodules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func adapt(t *testing.T, caddyfile string) ([]byte, error) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	return out, err
}

func TestStackhubOptionAdapts(t *testing.T) {
	out, err := adapt(t, `{
	stackhub {
		domain Home.Example.com
		data /srv/stackhub
		https_port 8443
		store casaos https://example.com/casaos.zip casaos
		store mine /srv/apps
		store_refresh 2h
		hsts 720h
		password_hashes 4
		subnets 10.77.0.0/16
	}
}
*.home.example.com {
	stackhub_router
	reverse_proxy {
		dynamic stackhub
	}
}`)
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
	if s.Domain != "Home.Example.com" || s.DataDir != "/srv/stackhub" || s.HTTPSPort != 8443 || s.StoreRefresh != "2h" || s.HSTS != "720h" || s.PasswordHashes != 4 || s.Subnets != "10.77.0.0/16" {
		t.Errorf("stackhub app = %+v", s.Config)
	}
	if len(s.Stores) != 2 || s.Stores[0].Format != "casaos" || s.Stores[1].Location != "/srv/apps" || s.Stores[1].Format != "" {
		t.Errorf("stores = %+v", s.Stores)
	}
	for _, want := range []string{`"handler":"stackhub_router"`, `"source":"stackhub"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("adapted config lacks %s:\n%s", want, out)
		}
	}
}

func TestStackhubOptionErrorsSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"colour blue", `unknown stackhub option "colour"`},
		{"https_port many", `https_port "many" is not a port number`},
		{"store_refresh soon", `store_refresh "soon"`},
		{"store onlyname", "store takes a name, a location"},
		{"domain", "wrong argument count"},
		{"hsts forever", `hsts "forever"`},
		{"password_hashes 0", `password_hashes "0"`},
		{"subnets 10.0.0.0/28", `subnets "10.0.0.0/28": give an IPv4 range from /8 to /24`},
		{"subnets fd00::/48", `subnets "fd00::/48"`},
	} {
		_, err := adapt(t, "{\n\tstackhub {\n\t\t"+c.body+"\n\t}\n}\n")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.body, err, c.want)
		}
	}
}
