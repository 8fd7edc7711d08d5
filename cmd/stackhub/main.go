package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/docker/compose/v5/pkg/compose"
	_ "github.com/docker/cli/cli/command"
	_ "github.com/moby/moby/client"
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/pquerna/otp/totp"
	_ "github.com/dgraph-io/badger/v4"
	_ "github.com/miekg/dns"
)

func main() { caddycmd.Main() }
