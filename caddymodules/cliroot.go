package caddymodules

import (
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// The command groups of `stackhub help`: StackHub's own commands first,
// then Caddy's.
const (
	stackhubGroup = "stackhub"
	caddyGroup    = "caddy"
)

const rootLong = `StackHub installs Docker Compose apps and serves each one at
https://<app>.<domain>, with certificates, DNS and a sign-in with two-factor
codes in front of it. It is a build of the Caddy web server: every Caddy
command works too.

Start with:

	stackhub up                    run with the built-in configuration
	stackhub store search          browse the apps of the stores
	stackhub apps install ID       install one (or STORE/ID, or ./folder)

Or run it with your own Caddyfile: stackhub run --config Caddyfile
(see Caddyfile.example).`

const rootExample = `  $ stackhub up
  $ stackhub apps install umbrel/vaultwarden
  $ stackhub run --config Caddyfile`

// caddyDocsFooter is the line Caddy appends to the root's help template.
const caddyDocsFooter = "\nFull documentation is available at:\nhttps://caddyserver.com/docs/command-line\n"

// ownCommands are StackHub's commands registered so far, in order.
var ownCommands []*cobra.Command

// registerCommand registers one of StackHub's CLI commands with Caddy's
// and places it in the StackHub group of the help.
//
// Caddy builds its root command privately (caddycmd.Main), adding the
// registered commands in registration order, Caddy's own first. So while
// the second of StackHub's commands is built, the first already hangs on
// the root: that is where the root gets StackHub's name, text and groups.
func registerCommand(c caddycmd.Command) {
	build := c.CobraFunc
	c.CobraFunc = func(cmd *cobra.Command) {
		build(cmd)
		cmd.GroupID = stackhubGroup
		for _, own := range ownCommands {
			if own.HasParent() {
				dressRoot(own.Root())
				break
			}
		}
		ownCommands = append(ownCommands, cmd)
	}
	caddycmd.RegisterCommand(c)
}

// dressRoot names the root command stackhub, describes StackHub and groups
// the commands: StackHub's first, then Caddy's (every command without a
// group so far is one of Caddy's, since Caddy registers before us).
func dressRoot(root *cobra.Command) {
	if !root.ContainsGroup(stackhubGroup) {
		root.Use = "stackhub"
		root.Long = rootLong
		root.Example = rootExample
		root.AddGroup(
			&cobra.Group{ID: stackhubGroup, Title: "StackHub commands:"},
			&cobra.Group{ID: caddyGroup, Title: "Caddy commands (the server StackHub is built on):"},
		)
		root.SetHelpCommandGroupID(stackhubGroup)
		wrapValidate(root) // validate.go
		root.SetHelpTemplate(strings.TrimSuffix(root.HelpTemplate(), caddyDocsFooter) +
			"\nCaddy's own commands are documented at https://caddyserver.com/docs/command-line\n")
	}
	for _, sub := range root.Commands() {
		if sub.GroupID == "" {
			sub.GroupID = caddyGroup
		}
	}
}
