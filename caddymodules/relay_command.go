package caddymodules

import (
	"context"
	"net"
	"os"
	"os/signal"
	"syscall"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/stackhub/stackhub/swarm"
)

func init() {
	registerCommand(caddycmd.Command{
		Name:  "relay",
		Usage: "LISTEN TARGET",
		Short: "Copy TCP from LISTEN to TARGET (run by StackHub in an app's relay container on a swarm)",
		Long:  "Copy every TCP connection accepted on LISTEN to TARGET, both ways. StackHub runs it inside the relay container of each app on a Docker Swarm, so the proxy reaches the app's overlay network (docs/SWARM.md); there is no need to run it by hand.",
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Args = cobra.ExactArgs(2)
			cmd.Hidden = true
			cmd.RunE = func(c *cobra.Command, args []string) error {
				l, err := net.Listen("tcp", args[0])
				if err != nil {
					return err
				}
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return swarm.Relay(ctx, l, args[1])
			}
		},
	})
}
