package appctl

import (
	"context"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// Each app has its own network to the proxy (DESIGN.md invariant 3): the
// main service joins a bridge network of its own, named
// <Config.Network>-<app>, that no other app's container is on. Docker
// isolates bridge networks from each other, so a container of one app
// reaches no container of another, neither by address nor by name, and the
// only way to an app's web UI is through StackHub's proxy and its gate. The
// host (where the proxy runs) reaches every bridge network.
//
// The network belongs to the app's compose project: Compose creates it, with
// the app's labels, when the app starts, and removes it with the app.

// proxyNetworkKey is the key of the app's proxy network in its project.
const proxyNetworkKey = "stackhub-proxy"

// proxyNetwork is the name of app id's network to the proxy.
func (m *Manager) proxyNetwork(id string) string { return m.cfg.Network + "-" + id }

// removeLegacyNetwork removes the network every app's main service shared
// before apps had networks of their own (named Config.Network), once no
// container is on it any more: Reconcile moves each app to its own network
// as it brings it back.
func (m *Manager) removeLegacyNetwork(ctx context.Context) {
	docker := m.engine.Docker()
	n, err := docker.NetworkInspect(ctx, m.cfg.Network, client.NetworkInspectOptions{})
	if err != nil || n.Network.Labels[LabelInstance] != m.cfg.Instance || len(n.Network.Containers) > 0 {
		return
	}
	if _, err := docker.NetworkRemove(ctx, n.Network.ID, client.NetworkRemoveOptions{}); err != nil {
		m.log.Warn("remove the old shared platform network", zap.String("network", m.cfg.Network), zap.Error(err))
		return
	}
	m.log.Info("removed the old shared platform network: every app has its own network now", zap.String("network", m.cfg.Network))
}

// scopeNetworks names every network the app declares after its own project
// (<project>_<key>), whatever name the compose file gives it. Compose joins
// an existing network of the same name instead of creating one (with only a
// warning), so a declared `name:` of another app's network would put the
// app's containers next to that app's. External networks are left to the
// hazard check.
func scopeNetworks(p *types.Project) {
	for key, n := range p.Networks {
		if bool(n.External) || key == proxyNetworkKey {
			continue
		}
		n.Name = p.Name + "_" + key
		p.Networks[key] = n
	}
}
