// Package swarm runs StackHub's apps on a Docker Swarm: it detects the
// engine's mode, lists and changes nodes, deploys an app's checked compose
// project as a stack through the Docker CLI's own loader and conversion,
// pins it with placement constraints, and relays the proxy to apps on the
// app's own overlay network (docs/SWARM.md).
package swarm

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Mode is how StackHub drives the engine.
type Mode string

const (
	// Single is one Docker Engine not in a swarm (or a worker): apps are
	// Compose projects, as always.
	Single Mode = "single"
	// Manager is a manager of an active swarm: apps are stacks.
	Manager Mode = "swarm"
)

// ErrNotSwarm says the engine is not a swarm manager.
var ErrNotSwarm = errors.New("this box is not in a Swarm (its Docker Engine is not a Swarm manager): apps run on this machine only; `docker swarm init` makes it a Swarm manager, then `stackhub nodes join-token` adds machines")

// Detect reads the engine's mode from GET /info.
func Detect(ctx context.Context, docker client.APIClient) (Mode, error) {
	info, err := docker.Info(ctx, client.InfoOptions{})
	if err != nil {
		return Single, fmt.Errorf("detect engine mode: %w", err)
	}
	return modeOf(info.Info.Swarm), nil
}

func modeOf(s swarm.Info) Mode {
	if s.LocalNodeState == swarm.LocalNodeStateActive && s.ControlAvailable {
		return Manager
	}
	return Single
}

// requireManager fails with ErrNotSwarm unless the engine is a manager.
func requireManager(ctx context.Context, docker client.APIClient) error {
	m, err := Detect(ctx, docker)
	if err != nil {
		return err
	}
	if m != Manager {
		return ErrNotSwarm
	}
	return nil
}
