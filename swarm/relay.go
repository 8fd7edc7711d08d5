package swarm

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/scratchimage"
)

// The proxy on the manager's host cannot reach overlay addresses. Each
// app on a swarm gets a relay: a plain container on the manager attached
// to the app's attachable overlay and to the platform bridge network, that
// copies TCP from its bridge address to the app's main service (its
// name, which resolves to its tasks on any node). Caddy reaches the relay
// by container address, as it reaches containers on one box; nothing is
// published on any node (docs/SWARM.md).

// RelayPort is the port a relay listens on.
const RelayPort = 8080

// Relay accepts connections on l and copies each to target (host:port),
// both ways, until ctx ends.
func Relay(ctx context.Context, l net.Listener, target string) error {
	go func() { <-ctx.Done(); l.Close() }()
	d := net.Dialer{Timeout: 2 * time.Second}
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			up, err := dialRetry(ctx, &d, target)
			if err != nil {
				return
			}
			defer up.Close()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(up, c)
				if cw, ok := up.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
			}()
			io.Copy(c, up)
			if cw, ok := c.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			wg.Wait()
		}()
	}
}

// dialRetry dials target, retrying for a few seconds: while Swarm replaces
// a task, the service's address answers nothing for a moment, and a
// connection that waits is better than one refused.
func dialRetry(ctx context.Context, d *net.Dialer, target string) (net.Conn, error) {
	var err error
	for i := 0; i < 20; i++ {
		var c net.Conn
		if c, err = d.DialContext(ctx, "tcp", target); err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil, err
}

// BuildRelayImage builds the relay image from a static binary whose
// arguments are `relay LISTEN TARGET` (StackHub itself, or swarm/relaybin)
// (FROM scratch: nothing is pulled), tagged tag, unless an image of that
// binary exists already.
func BuildRelayImage(ctx context.Context, docker client.APIClient, binary []byte, tag string) error {
	return scratchimage.Build(ctx, docker, "relay", binary, tag)
}

// RelaySpec says which app a relay serves.
type RelaySpec struct {
	App      string
	Stack    string // the app's stack namespace
	Network  string // the app's overlay network the main service is on
	Platform string // the platform bridge network Caddy reaches
	Service  string // the main service's name in the stack (unscoped)
	Port     int    // its web port
	Image    string
	Labels   map[string]string
}

// StartRelay (re)creates the app's relay container and returns the
// address the proxy reaches it at: its address on the platform network.
func StartRelay(ctx context.Context, docker client.APIClient, r RelaySpec) (string, error) {
	name := "stackhub-relay-" + r.App
	docker.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
	labels := map[string]string{AppLabel: r.App, StackLabel: r.Stack}
	for k, v := range r.Labels {
		labels[k] = v
	}
	// The service's name on the overlay resolves (DNS round robin) to its
	// tasks' addresses, wherever they run; it is resolved on every dial.
	target := net.JoinHostPort(r.Stack+"_"+r.Service, strconv.Itoa(r.Port))
	created, err := docker.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image:  r.Image,
			Cmd:    []string{"relay", ":" + strconv.Itoa(RelayPort), target},
			Labels: labels,
		},
		HostConfig: &container.HostConfig{
			NetworkMode:   container.NetworkMode(r.Platform),
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{r.Platform: {}}},
	})
	if err != nil {
		return "", fmt.Errorf("relay of %s: create: %w", r.App, err)
	}
	if _, err := docker.NetworkConnect(ctx, r.Network, client.NetworkConnectOptions{Container: created.ID}); err != nil {
		return "", fmt.Errorf("relay of %s: join network %s: %w", r.App, r.Network, err)
	}
	if _, err := docker.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("relay of %s: start: %w", r.App, err)
	}
	insp, err := docker.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("relay of %s: inspect: %w", r.App, err)
	}
	if ep, ok := insp.Container.NetworkSettings.Networks[r.Platform]; ok && ep != nil && ep.IPAddress.IsValid() {
		return netip.AddrPortFrom(ep.IPAddress, RelayPort).String(), nil
	}
	return "", fmt.Errorf("relay of %s has no address on %s", r.App, r.Platform)
}

// StopRelay removes the app's relay container.
func StopRelay(ctx context.Context, docker client.APIClient, app string) error {
	_, err := docker.ContainerRemove(ctx, "stackhub-relay-"+app, client.ContainerRemoveOptions{Force: true})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("remove relay of %s: %w", app, err)
	}
	return nil
}

// RelayAddr returns the address of the app's running relay on the
// platform network (after a restart of StackHub, its route comes back
// from it without a redeploy).
func RelayAddr(ctx context.Context, docker client.APIClient, app, platform string) (string, error) {
	insp, err := docker.ContainerInspect(ctx, "stackhub-relay-"+app, client.ContainerInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("relay of %s: %w", app, err)
	}
	c := insp.Container
	if c.State == nil || !c.State.Running || c.NetworkSettings == nil {
		return "", fmt.Errorf("relay of %s is not running", app)
	}
	if ep, ok := c.NetworkSettings.Networks[platform]; ok && ep != nil && ep.IPAddress.IsValid() {
		return netip.AddrPortFrom(ep.IPAddress, RelayPort).String(), nil
	}
	return "", fmt.Errorf("relay of %s has no address on %s", app, platform)
}
