package appctl

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Labels StackHub puts on every container, network and volume it creates,
// so its own objects can be told apart from the host's other compose
// projects (and removed by label).
const (
	LabelApp      = "dev.stackhub.app"
	LabelInstance = "dev.stackhub.instance"
)

// rewriteSpec is what rewriteProject needs to know about the install.
type rewriteSpec struct {
	App          string
	Instance     string
	Network      string // the app's own network to the proxy (network.go)
	MainService  string
	MainPort     int
	AppDir       string // everything the app may bind-mount lives below it
	PublishPorts bool   // the admin asked to keep LAN-facing publications
}

// rewriteProject turns an app's compose project into what StackHub runs:
//   - the main service's web port is not published at all: it is reached
//     through the proxy on the app's own proxy network;
//   - other published ports are bound to 127.0.0.1 unless the admin asked
//     to publish them (DESIGN.md invariant 3);
//   - the main service joins the app's own proxy network, so the proxy (on
//     the host) can reach it and no other app can;
//   - every container, network and volume is labelled with the app and the
//     StackHub instance;
//   - services without a restart policy get `unless-stopped`, so apps come
//     back after a reboot of the host.
func rewriteProject(p *types.Project, s rewriteSpec) error {
	main, ok := p.Services[s.MainService]
	if !ok {
		return fmt.Errorf("main service %q is not in the compose file (services: %s)", s.MainService, strings.Join(p.ServiceNames(), ", "))
	}
	if main.NetworkMode != "" && !strings.HasPrefix(main.NetworkMode, "bridge") && main.NetworkMode != "host" {
		return fmt.Errorf("main service %q uses network_mode %q: StackHub can only route to services on a Docker network", s.MainService, main.NetworkMode)
	}
	labels := map[string]string{LabelApp: s.App, LabelInstance: s.Instance}
	for name, svc := range p.Services {
		var ports []types.ServicePortConfig
		for _, port := range svc.Ports {
			if name == s.MainService && int(port.Target) == s.MainPort {
				continue
			}
			if !s.PublishPorts {
				port.HostIP = "127.0.0.1"
			}
			ports = append(ports, port)
		}
		svc.Ports = ports
		svc.Labels = withLabels(svc.Labels, labels)
		if svc.Restart == "" && svc.Deploy == nil {
			svc.Restart = types.RestartPolicyUnlessStopped
		}
		if name == s.MainService {
			if svc.Networks == nil {
				svc.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
			}
			svc.Networks[proxyNetworkKey] = nil
		}
		p.Services[name] = svc
	}
	if p.Networks == nil {
		p.Networks = types.Networks{}
	}
	for name, n := range p.Networks {
		if n.External {
			continue
		}
		n.Labels = withLabels(n.Labels, labels)
		p.Networks[name] = n
	}
	p.Networks[proxyNetworkKey] = types.NetworkConfig{Name: s.Network, Driver: "bridge", Labels: withLabels(nil, labels)}
	for name, v := range p.Volumes {
		if v.External {
			continue
		}
		v.Labels = withLabels(v.Labels, labels)
		p.Volumes[name] = v
	}
	return nil
}

// withLabels returns dst with labels added.
func withLabels(dst types.Labels, labels map[string]string) types.Labels {
	if dst == nil {
		dst = types.Labels{}
	}
	for k, v := range labels {
		dst[k] = v
	}
	return dst
}
