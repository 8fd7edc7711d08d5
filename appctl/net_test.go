package appctl

import (
	"net"

	"github.com/stackhub/stackhub/stores"
)

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func readApp(dir string) (stores.App, error) { return stores.ReadPath(dir) }
