// Command relaybin is the relay of an app on a swarm (swarm.Relay) as a
// program: `relaybin LISTEN TARGET`. Built statically, it is the relay
// image's only file (swarm.BuildRelayImage).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/stackhub/stackhub/swarm"
)

func main() {
	args := os.Args[1:]
	if len(args) == 3 && args[0] == "relay" { // as `stackhub relay` is called
		args = args[1:]
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: relaybin [relay] LISTEN TARGET")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := swarm.Relay(ctx, l, args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
