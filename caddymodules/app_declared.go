package caddymodules

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/declare"
)

// Declared apps in the stackhub block (package declare converges to them):
//
//	stackhub {
//		app vault {
//			from builtin/vaultwarden          # or: path /srv/apps/myapp
//			subdomain pw
//			set SIGNUPS_ALLOWED false
//			set ADMIN_TOKEN {file./run/secrets/vault_admin}
//			access restricted groups family   # private (default) | public | restricted [users …] [groups …]
//			public_paths /api/* /identity/*
//			domain pw.example.org             # [redirect]
//			approve privileged
//			backup daily keep 7
//		}
//		prune                                 # remove apps no longer declared (data kept); `prune delete_data` deletes it too
//	}

// unmarshalDeclaredApp reads one `app NAME { … }` block; d is on `app`.
func unmarshalDeclaredApp(d *caddyfile.Dispenser) (declare.App, error) {
	a := declare.App{File: d.File(), Line: d.Line()}
	if abs, err := filepath.Abs(a.File); err == nil && a.File != "" {
		a.File = abs
	}
	if !d.NextArg() {
		return a, d.Errf("app takes a name: app NAME { from STORE/APP … }")
	}
	a.Name = d.Val()
	if d.NextArg() {
		return a, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		args := d.RemainingArgs()
		one := func() (string, error) {
			if len(args) != 1 {
				return "", d.Errf("%s takes one value", key)
			}
			return args[0], nil
		}
		var err error
		switch key {
		case "from":
			a.From, err = one()
		case "path":
			a.Path, err = one()
			if err == nil && !filepath.IsAbs(a.Path) && a.File != "" {
				a.Path = filepath.Join(filepath.Dir(a.File), a.Path)
			}
		case "subdomain":
			a.Subdomain, err = one()
		case "set":
			if len(args) != 2 {
				return a, d.Errf("set takes a name and a value: set KEY VALUE (quote a value with spaces)")
			}
			if a.Set == nil {
				a.Set = map[string]string{}
			}
			a.Set[args[0]] = args[1]
		case "access":
			if len(args) == 0 {
				return a, d.Errf("access takes private, public or restricted [users NAME…] [groups NAME…]")
			}
			a.Access = args[0]
			var list *[]string
			for _, w := range args[1:] {
				switch {
				case w == "users":
					list = &a.Users
				case w == "groups":
					list = &a.Groups
				case list == nil:
					return a, d.Errf("access %s: write `users NAME…` or `groups NAME…` after it, not %q", a.Access, w)
				default:
					*list = append(*list, w)
				}
			}
		case "public_paths":
			if len(args) == 0 {
				return a, d.ArgErr()
			}
			a.PublicPaths = append(a.PublicPaths, args...)
		case "domain":
			if len(args) == 0 || len(args) > 2 || (len(args) == 2 && args[1] != "redirect") {
				return a, d.Errf("domain takes a name and optionally `redirect`: domain photos.example.org [redirect]")
			}
			a.Domains = append(a.Domains, appctl.Domain{Name: args[0], Redirect: len(args) == 2})
		case "approve":
			if len(args) == 0 {
				return a, d.Errf("approve takes hazard names (privileged, host-path …: a refused install lists them)")
			}
			a.Approve = append(a.Approve, args...)
		case "backup":
			b := &declare.Backup{}
			switch {
			case len(args) == 1:
				b.Every = args[0]
			case len(args) == 3 && args[1] == "keep":
				b.Every = args[0]
				n, err := strconv.Atoi(args[2])
				if err != nil || n < 1 {
					return a, d.Errf("backup keep %q: a number of snapshots, 1 or more", args[2])
				}
				b.Keep = n
			default:
				return a, d.Errf("backup takes a schedule and optionally how many to keep: backup daily keep 7")
			}
			a.Backup = b
		default:
			return a, d.Errf("unknown setting %q in app %s (known: from, path, subdomain, set, access, public_paths, domain, approve, backup)", key, a.Name)
		}
		if err != nil {
			return a, err
		}
	}
	if a.From == "" && a.Path == "" {
		return a, fmt.Errorf("app %s: say what to install: `from STORE/APP` or `path FOLDER`, at %s:%d", a.Name, d.File(), a.Line)
	}
	return a, nil
}

// unmarshalPrune reads `prune [keep_data|delete_data]`; d is on `prune`.
func unmarshalPrune(d *caddyfile.Dispenser) (string, error) {
	args := d.RemainingArgs()
	switch {
	case len(args) == 0:
		return declare.PruneKeepData, nil
	case len(args) == 1 && (args[0] == declare.PruneKeepData || args[0] == declare.PruneDeleteData):
		return args[0], nil
	}
	return "", d.Errf("prune takes nothing (apps no longer declared are removed, their data kept), or delete_data (their data goes too)")
}

// provisionDeclared resolves and checks the declared apps against the
// platform, synchronously: a mistake fails the config load (and so
// `stackhub reload` keeps the running config), with the declaration's
// file and line.
func (a *App) provisionDeclared() error {
	switch a.Prune {
	case declare.PruneOff, declare.PruneKeepData, declare.PruneDeleteData:
	default:
		return caddyfileErr("prune %q: want keep_data or delete_data", a.Prune)
	}
	repl := caddy.NewReplacer()
	desired, err := a.platform.CheckDeclared(a.Apps, func(s string) (string, error) { return repl.ReplaceOrErr(s, true, false) })
	if err != nil {
		return err
	}
	a.desired = desired
	return nil
}

// startDeclared converges to this config's declared apps, in the
// background: installs take minutes, and the config load must not wait.
// It begins once this config is the running one: an app started after
// ours may still fail and roll the load back, and a config that never ran
// must change no app.
func (a *App) startDeclared() {
	ctx, conv, desired, prune := a.ctx, a.platform.Declared, a.desired, a.Prune
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if caddy.ActiveContext().Context == ctx.Context {
				conv.Apply(desired, prune)
				return
			}
			select {
			case <-ctx.Done():
				return // rolled back, or replaced before it ran
			case <-tick.C:
			}
		}
	}()
}

func caddyfileErr(format string, args ...any) error {
	return fmt.Errorf("stackhub: "+format, args...)
}
