package caddymodules

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// Banner is what `stackhub up` prints once it runs: where the portal, the
// apps, the admin endpoint and the data are, and, while no admin exists,
// the first-run setup token (setupToken; empty once an admin exists). cmd
// is the command as the user runs it (e.g. bin/stackhub), so the commands
// shown work as printed.
func (u UpConfig) Banner(cmd, setupToken string) string {
	port := ""
	if u.HTTPSPort != 443 {
		port = ":" + strconv.Itoa(u.HTTPSPort)
	}
	// The CLI's --address is needed only when the admin endpoint is not
	// Caddy's default.
	address := ""
	if u.Admin != caddy.DefaultAdminListen {
		address = " --address " + u.Admin
	}
	portal := "https://my." + u.Domain + port
	var b strings.Builder
	fmt.Fprintf(&b, `
StackHub is running.
  Portal:   %s/
  Apps:     https://<app>.%s%s/
  Admin:    %s   (the CLI's --address)
  Data:     %s
  Root CA:  %s
            (certificates come from this local CA: trust it, or use curl --cacert)
`, portal, u.Domain, port, u.Admin, u.Data, filepath.Join(u.Data, "caddy", "pki", "authorities", "local", "root.crt"))
	if setupToken != "" {
		fmt.Fprintf(&b, `
First run: no admin yet. Open %s/setup and enter this setup token
(it works until StackHub restarts):

    %s

or create the first admin here:  %s user add NAME --admin%s
`, portal, setupToken, cmd, address)
	}
	fmt.Fprintf(&b, "\nInstall an app:  %s apps install whoami%s\n", cmd, address)
	return b.String()
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
