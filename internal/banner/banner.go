// Package banner writes what `stackhub up` prints once StackHub runs:
// where the portal, the apps, the admin endpoint and the data are, and,
// on a first start, how to create the first admin. It is plain text from
// plain settings, so that the README can be checked against it.
package banner

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Site is where a running StackHub is.
type Site struct {
	Domain    string // the apps' parent domain (the portal is my.<Domain>)
	Data      string // the data folder
	HTTPSPort int
	// Admin is the admin endpoint; AdminIsDefault says it is Caddy's
	// default, so that the CLI needs no --address.
	Admin          string
	AdminIsDefault bool
}

// Text is the banner for the site s. cmd is the command as the user runs
// it (e.g. bin/stackhub), so the commands shown work as printed;
// setupToken is the first-run setup token, empty once an admin exists.
func Text(s Site, cmd, setupToken string) string {
	port := ""
	if s.HTTPSPort != 443 {
		port = ":" + strconv.Itoa(s.HTTPSPort)
	}
	// The CLI's --address is needed only when the admin endpoint is not
	// Caddy's default.
	address := ""
	if !s.AdminIsDefault {
		address = " --address " + s.Admin
	}
	portal := "https://my." + s.Domain + port
	var b strings.Builder
	fmt.Fprintf(&b, `
StackHub is running.
  Portal:   %s/
  Apps:     https://<app>.%s%s/
  Admin:    %s   (the CLI's --address)
  Data:     %s
  Root CA:  %s
            (certificates come from this local CA: trust it, or use curl --cacert)
`, portal, s.Domain, port, s.Admin, s.Data, filepath.Join(s.Data, "caddy", "pki", "authorities", "local", "root.crt"))
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
