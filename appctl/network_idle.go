package appctl

import (
	"context"
	"time"

	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// removeIdleNetwork removes the platform network when no app uses it, so
// a StackHub started and stopped without installing anything leaves nothing
// behind on Docker (New creates the network again at the next start).
//
// It removes only a network this instance created (its label), with no app
// recorded (an installed app, even stopped, keeps its containers attached to
// it) and no container attached.
func (m *Manager) removeIdleNetwork() {
	recs, err := m.records()
	if err != nil || len(recs) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	docker := m.engine.Docker()
	nw, err := docker.NetworkInspect(ctx, m.cfg.Network, client.NetworkInspectOptions{})
	if err != nil {
		return
	}
	if nw.Network.Labels[LabelInstance] != m.cfg.Instance || len(nw.Network.Containers) > 0 {
		return
	}
	if _, err := docker.NetworkRemove(ctx, m.cfg.Network, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
		m.log.Warn("remove the unused platform network", zap.String("network", m.cfg.Network), zap.Error(err))
	}
}
