// Command stackhub is StackHub: a Caddy build with StackHub's modules. It
// takes every Caddy command (run, adapt, list-modules …) plus StackHub's
// own: up, apps, store.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules, then StackHub's.
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/stackhub/stackhub/caddymodules"
)

func main() {
	caddycmd.Main()
}
