package appctl

import (
	"fmt"
	"net"
	"sort"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stackhub/stackhub/stores"
)

// Exposure says how users reach an installed app besides its route: the
// ports of a service app, and the ports an app opens on the LAN. It is part
// of the app's record, so `apps info` and the admin API (the portal) show it.
type Exposure struct {
	// Kind is stores.KindService for apps without a web UI: they have no
	// route, and users connect to Addresses.
	Kind stores.Kind `json:"kind,omitempty"`
	// HostNetwork is set when the main service runs on the host's network
	// (approved by the admin): it is routed to 127.0.0.1:<main port>, and
	// that port is open on the LAN.
	HostNetwork bool `json:"host_network,omitempty"`
	// Addresses are where users connect to a service app's ports
	// ("127.0.0.1:5432", or "0.0.0.0:5432" when published on the LAN).
	Addresses []string `json:"addresses,omitempty"`
	// LANPorts are the app's ports open to the LAN ("8123/tcp"), bypassing
	// StackHub: those of a main service on the host's network, and those the
	// admin published with --publish-ports.
	LANPorts []string `json:"lan_ports,omitempty"`
}

// isHostNetwork reports whether a service runs on the host's network.
func isHostNetwork(svc types.ServiceConfig) bool { return svc.NetworkMode == "host" }

// exposeProject adjusts a project rewritten by rewriteProject to the app's
// kind: a service app's main service keeps its port publications and does
// not join the proxy's network (nothing is routed to it); a main service on
// the host's network joins no network (Docker refuses both). before are the
// main service's networks as loaded, before the rewrite.
func exposeProject(p *types.Project, rec *Record, before map[string]*types.ServiceNetworkConfig) {
	main, ok := p.Services[rec.MainSvc]
	if !ok {
		return
	}
	switch {
	case isHostNetwork(main):
		main.Networks = nil
	case rec.Kind == stores.KindService:
		main.Networks = before
	default:
		return
	}
	p.Services[rec.MainSvc] = main
}

// exposure computes what the record says about the app's reachability from
// the project StackHub runs.
func exposure(p *types.Project, rec *Record) Exposure {
	e := Exposure{Kind: rec.Kind}
	if e.Kind == stores.KindWeb {
		e.Kind = ""
	}
	seen := map[string]bool{}
	lan := func(s string) {
		if !seen[s] {
			seen[s] = true
			e.LANPorts = append(e.LANPorts, s)
		}
	}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if isHostNetwork(svc) {
			if name == rec.MainSvc {
				e.HostNetwork = true
				lan(strconv.Itoa(rec.MainPort) + "/tcp")
			}
			continue
		}
		for _, port := range svc.Ports {
			if port.Published == "" {
				continue
			}
			proto := port.Protocol
			if proto == "" {
				proto = "tcp"
			}
			host := port.HostIP
			if host == "" {
				host = "0.0.0.0"
				lan(port.Published + "/" + proto)
			}
			if rec.Kind == stores.KindService {
				a := net.JoinHostPort(host, port.Published)
				if proto != "tcp" {
					a += "/" + proto
				}
				if name == rec.MainSvc && int(port.Target) == rec.MainPort {
					e.Addresses = append([]string{a}, e.Addresses...) // the address users need first
				} else {
					e.Addresses = append(e.Addresses, a)
				}
			}
		}
	}
	sort.Strings(e.LANPorts)
	return e
}

// Describe is one line for `apps list`: where users reach the app.
func (e Exposure) Describe(url string) string {
	switch {
	case e.Kind == stores.KindService && len(e.Addresses) > 0:
		return "service app at " + e.Addresses[0]
	case e.Kind == stores.KindService:
		return "service app (no published port)"
	case e.HostNetwork:
		return fmt.Sprintf("%s (host network: port %s open on the LAN)", url, e.LANPorts[0])
	}
	return url
}

// routedPort is the main port rewriteProject keeps unpublished because the
// proxy routes to it; a service app has none (its port stays published).
func routedPort(rec *Record) int {
	if rec.Kind == stores.KindService {
		return 0
	}
	return rec.MainPort
}

// hostNetworkUpstream is the address of a main service on the host's
// network: its port on the host itself.
func hostNetworkUpstream(rec *Record) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(rec.MainPort))
}

// urlOf is URL(host), or "" for an app without a host (a service app).
func (m *Manager) urlOf(host string) string {
	if host == "" {
		return ""
	}
	return m.URL(host)
}

func copyNetworks(n map[string]*types.ServiceNetworkConfig) map[string]*types.ServiceNetworkConfig {
	if n == nil {
		return nil
	}
	out := make(map[string]*types.ServiceNetworkConfig, len(n))
	for k, v := range n {
		out[k] = v
	}
	return out
}
