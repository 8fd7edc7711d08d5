package appctl

import (
	"context"
	"debug/elf"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/swarm"
)

// Apps on a Docker Swarm (docs/SWARM.md). When the engine is a swarm
// manager at start, an app's checked, rewritten project is deployed as a
// stack (swarm.Deploy) instead of a Compose project, pinned by its
// placement, and the proxy reaches its main service through a relay on the
// manager. On a single engine none of this runs.

// swarmState is what the manager knows of the swarm: the mode detected at
// start, the manager's hostname (apps are pinned to it by default) and the
// relay image, built once.
type swarmState struct {
	mode    swarm.Mode
	manager string

	// data reaches app data on nodes for moves (swarm_move_data.go);
	// nil is the live swarm's.
	data NodeData

	relayOnce  sync.Once
	relayImage string
	relayErr   error
}

// relayImageTag is the image the relays of this StackHub run.
const relayImageTag = "stackhub-relay:local"

// detectSwarm reads the engine's mode once, at start.
func (m *Manager) detectSwarm(ctx context.Context) {
	if !m.cfg.Swarm {
		return
	}
	mode, err := swarm.Detect(ctx, m.engine.Docker())
	if err != nil {
		m.log.Warn("detect swarm mode; running as a single engine", zap.Error(err))
		return
	}
	m.sw.mode = mode
	if mode == swarm.Manager {
		if info, err := m.engine.Docker().Info(ctx, client.InfoOptions{}); err == nil {
			m.sw.manager = info.Info.Name
		}
		m.log.Info("Docker Engine is a swarm manager: apps run as stacks", zap.String("node", m.sw.manager))
	}
}

// OnSwarm reports whether apps run as Swarm stacks.
func (m *Manager) OnSwarm() bool { return m.sw.mode == swarm.Manager }

// stackOf turns the project StackHub runs on one engine into its stack:
// the main service leaves the platform bridge (a swarm service cannot join
// it); the relay joins the app's own overlay instead.
func (m *Manager) stackOf(p *types.Project, rec *Record) (swarm.Stack, string, error) {
	q := *p
	q.Services = types.Services{}
	for name, s := range p.Services {
		if s.Networks != nil {
			nets := map[string]*types.ServiceNetworkConfig{}
			for k, v := range s.Networks {
				if k != proxyNetworkKey {
					nets[k] = v
				}
			}
			s.Networks = nets
		}
		// Settings Swarm has no use for, and the CLI's schema refuses in
		// compose-go's long form: start order (Swarm restarts tasks until
		// their dependencies answer) and pull policy (nodes pull).
		s.DependsOn = nil
		s.PullPolicy = ""
		// The compose labels on the task containers: `apps info` and
		// Reconcile find the app's containers on this node as on one engine.
		s.Labels = withLabels(s.Labels, s.CustomLabels)
		// Swarm cannot bind a published port to one address: a port is
		// published on all of them or not at all (swarm.Deploy refuses it
		// unless the admin asked for --publish-ports).
		ports := make([]types.ServicePortConfig, len(s.Ports))
		for i, pc := range s.Ports {
			pc.HostIP = ""
			ports[i] = pc
		}
		s.Ports = ports
		q.Services[name] = s
	}
	q.Networks = types.Networks{}
	for k, n := range p.Networks {
		if k != proxyNetworkKey {
			q.Networks[k] = n
		}
	}
	overlay := ""
	if main, ok := q.Services[rec.MainSvc]; ok {
		keys := make([]string, 0, len(main.Networks))
		for k := range main.Networks {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			keys = []string{"default"}
		}
		overlay = rec.Project + "_" + keys[0]
		if n, ok := q.Networks[keys[0]]; ok && n.Name != "" {
			overlay = n.Name
		}
	}
	y, err := q.MarshalYAML()
	if err != nil {
		return swarm.Stack{}, "", fmt.Errorf("stack of %s: %w", rec.ID, err)
	}
	return swarm.Stack{
		Name: rec.Project, YAML: y, WorkingDir: p.WorkingDir, Placement: rec.Placement,
		Manager: m.sw.manager, PublishPorts: rec.PublishPorts,
		Labels: map[string]string{LabelApp: rec.ID, LabelInstance: m.cfg.Instance},
	}, overlay, nil
}

// swarmConverge deploys the app's stack, starts its relay and publishes
// the relay's address.
func (m *Manager) swarmConverge(ctx context.Context, rec *Record, p *types.Project, progress func(Event)) error {
	if err := rec.Placement.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := ensureImages(ctx, m.engine.Docker(), p, progress); err != nil {
		return err
	}
	st, overlay, err := m.stackOf(p, rec)
	if err != nil {
		return err
	}
	progress(Event{Phase: PhaseCompose, Status: "deploying the stack on the swarm", Resource: rec.Project})
	warnings, err := swarm.Deploy(ctx, m.engine.Docker(), st, m.cfg.WaitTimeout)
	for _, w := range warnings {
		progress(Event{Phase: PhaseCompose, Status: "warning", Message: w})
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if rec.NoWebUI {
		progress(Event{Phase: PhasePublish, Status: "not routed", Resource: rec.MainSvc, Message: rec.Describe("")})
		return nil
	}
	image, err := m.ensureRelayImage(ctx)
	if err != nil {
		return err
	}
	if err := m.ensureRelayNetwork(ctx); err != nil {
		return err
	}
	upstream, err := swarm.StartRelay(ctx, m.engine.Docker(), swarm.RelaySpec{
		App: rec.ID, Stack: rec.Project, Network: overlay, Platform: m.cfg.Network,
		Service: rec.MainSvc, Port: routedPort(rec), Image: image,
		Labels: map[string]string{LabelInstance: m.cfg.Instance},
	})
	if err != nil {
		return err
	}
	progress(Event{Phase: PhaseWait, Status: "waiting for the web UI to answer", Resource: rec.MainSvc})
	// A relay accepts at once; the app answers once a byte comes back.
	err = m.poll(ctx, 300*time.Millisecond, func() (bool, error) { return answers(upstream), nil }, func() error {
		return fmt.Errorf("the web UI of service %s did not answer through its relay within %s: `docker service ps %s_%s` shows its tasks", rec.MainSvc, m.cfg.WaitTimeout, rec.Project, rec.MainSvc)
	})
	if err != nil {
		return err
	}
	m.publish(rec, upstream)
	progress(say(Event{Phase: PhasePublish, Status: "published", Resource: rec.Host}, "routed through relay {{.Upstream}}", "Upstream", upstream))
	return nil
}

// answers reports whether an HTTP server answers at addr.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "HEAD / HTTP/1.0\r\n\r\n")
	b := make([]byte, 1)
	n, _ := c.Read(b)
	return n == 1
}

// swarmStop scales the app's services to zero; its route stays, showing
// the stopped page.
func (m *Manager) swarmStop(ctx context.Context, rec *Record) error {
	return swarm.Scale(ctx, m.engine.Docker(), rec.Project, 0)
}

// swarmRestart replaces the app's tasks; converge then redeploys and
// republishes.
func (m *Manager) swarmRestart(ctx context.Context, rec *Record) error {
	return swarm.ForceRestart(ctx, m.engine.Docker(), rec.Project)
}

// swarmDown removes the app's relay and stack (and its volumes when
// removeVolumes).
func (m *Manager) swarmDown(ctx context.Context, rec *Record, removeVolumes bool) error {
	if err := swarm.StopRelay(ctx, m.engine.Docker(), rec.ID); err != nil {
		return err
	}
	return swarm.Remove(ctx, m.engine.Docker(), rec.Project, removeVolumes)
}

// ensureRelayImage builds the relay image once from a static relay
// binary: Config.RelayBinary, or StackHub's own executable (built with
// CGO_ENABLED=0, it runs `stackhub relay LISTEN TARGET`).
func (m *Manager) ensureRelayImage(ctx context.Context) (string, error) {
	m.sw.relayOnce.Do(func() {
		path := m.cfg.RelayBinary
		if path == "" {
			exe, err := os.Executable()
			if err != nil {
				m.sw.relayErr = fmt.Errorf("relay image: %w", err)
				return
			}
			path = exe
		}
		if f, err := elf.Open(path); err == nil {
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					m.sw.relayErr = fmt.Errorf("relay image: %s is linked dynamically and cannot run in an empty image; build StackHub with CGO_ENABLED=0 (make build does) or set the relay binary", path)
				}
			}
			f.Close()
			if m.sw.relayErr != nil {
				return
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			m.sw.relayErr = fmt.Errorf("relay image: %w", err)
			return
		}
		if err := swarm.BuildRelayImage(ctx, m.engine.Docker(), b, relayImageTag); err != nil {
			m.sw.relayErr = err
			return
		}
		m.sw.relayImage = relayImageTag
	})
	return m.sw.relayImage, m.sw.relayErr
}

// ensureRelayNetwork creates the bridge network the relays of this StackHub
// share with the proxy (Config.Network): the relays are StackHub's own
// containers, and each reaches only its own app's overlay. Apps on one
// engine have a network of their own instead (network.go).
func (m *Manager) ensureRelayNetwork(ctx context.Context) error {
	docker := m.engine.Docker()
	if _, err := docker.NetworkInspect(ctx, m.cfg.Network, client.NetworkInspectOptions{}); err == nil {
		return nil
	} else if !isNotFound(err) {
		return fmt.Errorf("inspect the relay network %s: %w", m.cfg.Network, err)
	}
	_, err := docker.NetworkCreate(ctx, m.cfg.Network, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{LabelInstance: m.cfg.Instance},
	})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("create the relay network %s: %w", m.cfg.Network, err)
	}
	return nil
}
