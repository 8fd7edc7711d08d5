package caddymodules

import (
	"fmt"
	"net"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// checkAdminAddress refuses an admin endpoint for `stackhub up` that is
// not on loopback or a unix socket. The endpoint controls the whole box
// (Caddy's /load and StackHub's API) and has no password: beyond loopback
// it needs Caddy's remote admin, with TLS client certificates as the
// credential, in a JSON config (admin.remote); StackHub's API refuses
// plain remote listeners anyway.
func checkAdminAddress(addr string) error {
	na, err := caddy.ParseNetworkAddress(addr)
	if err != nil {
		return fmt.Errorf("--admin %s: %w", addr, err)
	}
	if na.IsUnixNetwork() {
		return nil
	}
	host := strings.Trim(na.Host, "[]")
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--admin %s: the admin endpoint controls the whole server and has no password, so StackHub keeps it on loopback or a unix socket. "+
		"Use --admin 127.0.0.1:PORT (or unix//path) and reach it over SSH (ssh -L 2019:127.0.0.1:2019 HOST); "+
		"for remote management, configure Caddy's remote admin with client certificates (admin.remote) in a JSON config", addr)
}
