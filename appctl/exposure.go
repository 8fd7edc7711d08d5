package appctl

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
)

// Exposure says how users reach an installed app besides its route: the
// ports of a service app, and the ports an app opens on the LAN. It is part
// of the app's record, so `apps info` and the admin API (the portal) show it.
type Exposure struct {
	// NoWebUI marks a service app (stores.App.NoWebUI): it has no route,
	// and users connect to Addresses.
	NoWebUI bool `json:"no_web_ui,omitempty"`
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
	case rec.NoWebUI:
		main.Networks = before
	default:
		return
	}
	p.Services[rec.MainSvc] = main
}

// exposure computes what the record says about the app's reachability from
// the project StackHub runs.
func exposure(p *types.Project, rec *Record) Exposure {
	e := Exposure{NoWebUI: rec.NoWebUI}
	seen := map[string]bool{}
	lan := func(s string) {
		if !seen[s] {
			seen[s] = true
			e.LANPorts = append(e.LANPorts, s)
		}
	}
	var mainAddrs []string
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if isHostNetwork(svc) {
			if name == rec.MainSvc {
				e.HostNetwork = true
				lan(strconv.Itoa(rec.MainPort) + "/tcp")
			}
			// On the host's network a container listens on the host's own
			// ports: those it declares are open on the LAN.
			for _, port := range svc.Ports {
				proto := port.Protocol
				if proto == "" {
					proto = "tcp"
				}
				lan(strconv.Itoa(int(port.Target)) + "/" + proto)
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
			if rec.NoWebUI {
				a := net.JoinHostPort(host, port.Published)
				if proto != "tcp" {
					a += "/" + proto
				}
				if name == rec.MainSvc {
					mainAddrs = append(mainAddrs, a) // the addresses users need first
				} else {
					e.Addresses = append(e.Addresses, a)
				}
			}
		}
	}
	e.Addresses = append(mainAddrs, e.Addresses...)
	sort.Strings(e.LANPorts)
	if e.HostNetwork { // the main port first: it is the one `apps list` names
		mainPort := strconv.Itoa(rec.MainPort) + "/tcp"
		i := slices.Index(e.LANPorts, mainPort)
		e.LANPorts = append([]string{mainPort}, slices.Delete(e.LANPorts, i, i+1)...)
	}
	return e
}

// Describe is one line for `apps list`: where users reach the app.
func (e Exposure) Describe(url string) string {
	switch {
	case e.NoWebUI && len(e.Addresses) > 0:
		return "service app at " + e.Addresses[0]
	case e.NoWebUI:
		return "service app (no published port)"
	case e.HostNetwork:
		return fmt.Sprintf("%s (host network: port %s open on the LAN)", url, e.LANPorts[0])
	}
	return url
}

// routedPort is the main port rewriteProject keeps unpublished because the
// proxy routes to it; a service app has none (its port stays published).
func routedPort(rec *Record) int {
	if rec.NoWebUI {
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
