package caddymodules

import (
	"os"

	"github.com/caddyserver/caddy/v2"

	"github.com/stackhub/stackhub/internal/banner"
)

// Banner is what `stackhub up` prints once it runs (banner.Text), with
// the setup token while no admin exists (setupToken; empty otherwise). cmd
// is the command as the user runs it (e.g. bin/stackhub).
func (u UpConfig) Banner(cmd, setupToken string) string {
	return banner.Text(banner.Site{
		Domain: u.Domain, Data: u.Data, HTTPSPort: u.HTTPSPort,
		Admin: u.Admin, AdminIsDefault: u.Admin == caddy.DefaultAdminListen,
	}, cmd, setupToken)
}

// commandName is stackhub's command as the user ran it ("bin/stackhub"
// after `make run`, "stackhub" from the PATH), so commands shown work when
// pasted in the same folder.
func commandName() string {
	if os.Args[0] == "" {
		return "stackhub"
	}
	return os.Args[0]
}

// firstRunToken is the setup token the portal created at start, while no
// admin exists yet; empty otherwise.
func firstRunToken() string {
	p := current.Load()
	if p == nil {
		return ""
	}
	if need, err := p.Auth.NeedsSetup(); err != nil || !need {
		return ""
	}
	tok, _ := setupTokens.Load(p)
	s, _ := tok.(string)
	return s
}
