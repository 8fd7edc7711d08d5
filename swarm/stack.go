package swarm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/cli/cli/compose/convert"
	"github.com/docker/cli/cli/compose/loader"
	composetypes "github.com/docker/cli/cli/compose/types"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Stack is an app's project as Swarm runs it.
type Stack struct {
	// Name is the stack namespace: the app's compose project name.
	Name string
	// YAML is the checked, rewritten compose project, marshalled by
	// compose-go (types.Project.MarshalYAML), already interpolated.
	YAML []byte
	// WorkingDir resolves relative paths (the app's folder).
	WorkingDir string
	Placement  Placement
	// Manager is the manager's hostname: apps without a placement are
	// pinned to it.
	Manager string
	// PublishPorts is the admin's explicit request to open the app's
	// published ports on the LAN (appctl.InstallOptions.PublishPorts). On
	// a swarm they are published in host mode on the node the app runs
	// on; without it, an app that publishes a port is refused: Swarm cannot
	// bind a port to 127.0.0.1 as one engine does.
	PublishPorts bool
	// Labels go on every service (and its containers) and network:
	// StackHub's app and instance labels.
	Labels map[string]string
}

// Load reads the stack's YAML with the Docker CLI's own compose loader,
// with interpolation off: the project is interpolated already, and a `$`
// in a user's value must not be expanded twice. Keys Swarm does not
// support are returned as warnings.
func (s Stack) Load() (*composetypes.Config, []string, error) {
	dict, err := loader.ParseYAML(s.YAML)
	if err != nil {
		return nil, nil, fmt.Errorf("stack %s: %w", s.Name, err)
	}
	// compose-go writes the project name at the top; the stack's name is
	// its namespace instead (the CLI's schema has no `name`).
	delete(dict, "name")
	var warnings, refused []string
	for _, p := range loader.GetUnsupportedProperties(dict) {
		switch {
		case refusedOnSwarm[p]:
			refused = append(refused, p)
		case p != "restart": // Swarm restarts tasks by itself
			warnings = append(warnings, fmt.Sprintf("Swarm ignores %q", p))
		}
	}
	if len(refused) > 0 {
		return nil, warnings, fmt.Errorf("stack %s: Swarm cannot run services with %s (it would silently drop them); install this app on a single Docker Engine", s.Name, strings.Join(refused, ", "))
	}
	cfg, err := loader.Load(composetypes.ConfigDetails{
		WorkingDir:  s.WorkingDir,
		ConfigFiles: []composetypes.ConfigFile{{Filename: "compose.yaml", Config: dict}},
		Environment: map[string]string{},
	}, func(o *loader.Options) { o.SkipInterpolation = true })
	if err != nil {
		return nil, warnings, fmt.Errorf("stack %s: Swarm cannot run this app's compose file: %w", s.Name, err)
	}
	return cfg, warnings, nil
}

// refusedOnSwarm are the compose settings the CLI's conversion drops that
// change what an app may do or how it is reached: dropping them would run
// something else than what the admin approved.
var refusedOnSwarm = map[string]bool{
	"privileged": true, "devices": true, "network_mode": true, "pid": true, "ipc": true,
	"security_opt": true, "userns_mode": true, "cgroupns_mode": true, "cgroup_parent": true,
}

// Deploy creates or updates the stack through the Docker CLI's conversion
// (the code of `docker stack deploy`): networks, secrets, configs, then
// services, each pinned by the placement, and waits up to wait until every
// service runs its replicas. Every stack network is an attachable overlay,
// so the app's relay on the manager can join it (docs/SWARM.md).
func Deploy(ctx context.Context, docker client.APIClient, s Stack, wait time.Duration) ([]string, error) {
	if err := requireManager(ctx, docker); err != nil {
		return nil, err
	}
	if err := s.Placement.Validate(); err != nil {
		return nil, err
	}
	cfg, warnings, err := s.Load()
	if err != nil {
		return warnings, err
	}
	nodes, err := docker.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return warnings, fmt.Errorf("stack %s: list nodes: %w", s.Name, err)
	}
	if len(s.Placement.Candidates(nodes.Items, s.Manager)) == 0 {
		return warnings, fmt.Errorf("stack %s: %w: %v; `stackhub nodes list` shows the nodes and their labels", s.Name, ErrNoPlace, s.Placement.constraints(s.Manager))
	}
	ns := convert.NewNamespace(s.Name)

	used := map[string]struct{}{}
	for _, svc := range cfg.Services {
		if len(svc.Networks) == 0 {
			used["default"] = struct{}{}
		}
		for n := range svc.Networks {
			used[n] = struct{}{}
		}
	}
	networks, external := convert.Networks(ns, cfg.Networks, used)
	if len(external) > 0 {
		return warnings, fmt.Errorf("stack %s: external networks %v: an app on a swarm has only its own networks", s.Name, external)
	}
	existing, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("label", StackLabel+"="+s.Name)})
	if err != nil {
		return warnings, fmt.Errorf("stack %s: list networks: %w", s.Name, err)
	}
	have := map[string]bool{}
	for _, n := range existing.Items {
		have[n.Name] = true
	}
	for name, opts := range networks {
		if have[name] {
			continue
		}
		if opts.Driver == "" || opts.Driver == "bridge" {
			opts.Driver = "overlay"
		}
		opts.Attachable = true
		opts.Labels = withLabels(opts.Labels, s.Labels)
		if _, err := docker.NetworkCreate(ctx, name, opts); err != nil {
			return warnings, fmt.Errorf("stack %s: create network %s: %w", s.Name, name, err)
		}
	}

	secrets, err := convert.Secrets(ns, cfg.Secrets)
	if err != nil {
		return warnings, fmt.Errorf("stack %s: %w", s.Name, err)
	}
	for _, spec := range secrets {
		if _, err := docker.SecretInspect(ctx, spec.Name, client.SecretInspectOptions{}); cerrdefs.IsNotFound(err) {
			if _, err := docker.SecretCreate(ctx, client.SecretCreateOptions{Spec: spec}); err != nil {
				return warnings, fmt.Errorf("stack %s: create secret %s: %w", s.Name, spec.Name, err)
			}
		}
	}
	configs, err := convert.Configs(ns, cfg.Configs)
	if err != nil {
		return warnings, fmt.Errorf("stack %s: %w", s.Name, err)
	}
	for _, spec := range configs {
		if _, err := docker.ConfigInspect(ctx, spec.Name, client.ConfigInspectOptions{}); cerrdefs.IsNotFound(err) {
			if _, err := docker.ConfigCreate(ctx, client.ConfigCreateOptions{Spec: spec}); err != nil {
				return warnings, fmt.Errorf("stack %s: create config %s: %w", s.Name, spec.Name, err)
			}
		}
	}

	specs, err := convert.Services(ctx, ns, cfg, docker)
	if err != nil {
		return warnings, fmt.Errorf("stack %s: %w", s.Name, err)
	}
	s.Placement.apply(specs, s.Manager)
	for name, spec := range specs {
		if err := endpoint(&spec, s.PublishPorts); err != nil {
			return warnings, fmt.Errorf("stack %s: service %s: %w", s.Name, name, err)
		}
		spec.Labels = withLabels(spec.Labels, s.Labels)
		spec.TaskTemplate.ContainerSpec.Labels = withLabels(spec.TaskTemplate.ContainerSpec.Labels, s.Labels)
		specs[name] = spec
	}
	current, err := stackServices(ctx, docker, s.Name)
	if err != nil {
		return warnings, err
	}
	byName := map[string]swarm.Service{}
	for _, svc := range current {
		byName[svc.Spec.Name] = svc
	}
	var ids []string
	for internal, spec := range specs {
		name := ns.Scope(internal)
		if old, ok := byName[name]; ok {
			if spec.TaskTemplate.ContainerSpec.Image == old.Spec.Labels[convert.LabelImage] {
				spec.TaskTemplate.ContainerSpec.Image = old.Spec.TaskTemplate.ContainerSpec.Image
			}
			spec.TaskTemplate.ForceUpdate = old.Spec.TaskTemplate.ForceUpdate
			if _, err := docker.ServiceUpdate(ctx, old.ID, client.ServiceUpdateOptions{Version: old.Version, Spec: spec}); err != nil {
				return warnings, fmt.Errorf("stack %s: update service %s: %w", s.Name, name, err)
			}
			ids = append(ids, old.ID)
			continue
		}
		res, err := docker.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: spec})
		if err != nil {
			return warnings, fmt.Errorf("stack %s: create service %s: %w", s.Name, name, err)
		}
		ids = append(ids, res.ID)
	}
	if wait > 0 {
		if err := waitRunning(ctx, docker, s.Name, wait); err != nil {
			return warnings, err
		}
	}
	return warnings, nil
}

// endpoint makes a service reachable only on its stack's networks: DNS
// round robin (the service name resolves to its tasks' addresses, no
// virtual IP, so no IPVS and no ingress routing mesh, which would open the
// port on every node's every address), and published ports only in host
// mode when the admin asked for them (invariant 3).
func endpoint(spec *swarm.ServiceSpec, publish bool) error {
	es := spec.EndpointSpec
	if es == nil {
		es = &swarm.EndpointSpec{}
	}
	if len(es.Ports) > 0 && !publish {
		return fmt.Errorf("it publishes port %d: on a swarm a published port is open on the node's LAN addresses; install with --publish-ports to allow it, or on a single engine", es.Ports[0].TargetPort)
	}
	for i := range es.Ports {
		es.Ports[i].PublishMode = swarm.PortConfigPublishModeHost
	}
	es.Mode = swarm.ResolutionModeDNSRR
	spec.EndpointSpec = es
	return nil
}

// ErrNoPlace says no ready, active node satisfies an app's placement.
var ErrNoPlace = errors.New("no ready node satisfies the placement")

func withLabels(m, add map[string]string) map[string]string {
	out := make(map[string]string, len(m)+len(add))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}

func stackServices(ctx context.Context, docker client.APIClient, stack string) ([]swarm.Service, error) {
	list, err := docker.ServiceList(ctx, client.ServiceListOptions{Filters: client.Filters{}.Add("label", StackLabel+"="+stack), Status: true})
	if err != nil {
		return nil, fmt.Errorf("stack %s: list services: %w", stack, err)
	}
	return list.Items, nil
}

// waitRunning waits until every service of the stack runs as many tasks
// as it wants.
func waitRunning(ctx context.Context, docker client.APIClient, stack string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var pending []string
	for {
		svcs, err := stackServices(ctx, docker, stack)
		if err != nil {
			return err
		}
		pending = pending[:0]
		for _, s := range svcs {
			if s.ServiceStatus == nil || s.ServiceStatus.DesiredTasks == 0 || s.ServiceStatus.RunningTasks < s.ServiceStatus.DesiredTasks {
				pending = append(pending, s.Spec.Name)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			sort.Strings(pending)
			return fmt.Errorf("stack %s: services %v are not running after %s: `docker service ps %s` shows why (a placement no node satisfies, a missing image)", stack, pending, wait, pending[0])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Remove removes the stack in the CLI's order: services, then (once their
// tasks are gone) networks, secrets and configs with its namespace label.
// Named volumes are removed too when removeVolumes is set (they are local
// to each node: this removes those of the manager).
func Remove(ctx context.Context, docker client.APIClient, stack string, removeVolumes bool) error {
	f := client.Filters{}.Add("label", StackLabel+"="+stack)
	svcs, err := stackServices(ctx, docker, stack)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range svcs {
		if _, err := docker.ServiceRemove(ctx, s.ID, client.ServiceRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove service %s: %w", s.Spec.Name, err))
		}
	}
	// Tasks' containers go asynchronously; networks and volumes in use
	// cannot be removed before.
	for i := 0; i < 100; i++ {
		tasks, err := docker.TaskList(ctx, client.TaskListOptions{Filters: f})
		if err == nil && len(tasks.Items) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cs, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	for i := 0; err == nil && len(cs.Items) > 0 && i < 100; i++ {
		time.Sleep(200 * time.Millisecond)
		cs, err = docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	}
	if nets, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range nets.Items {
			if _, err := docker.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			}
		}
	}
	if list, err := docker.SecretList(ctx, client.SecretListOptions{Filters: f}); err == nil {
		for _, s := range list.Items {
			docker.SecretRemove(ctx, s.ID, client.SecretRemoveOptions{})
		}
	}
	if list, err := docker.ConfigList(ctx, client.ConfigListOptions{Filters: f}); err == nil {
		for _, c := range list.Items {
			docker.ConfigRemove(ctx, c.ID, client.ConfigRemoveOptions{})
		}
	}
	if removeVolumes {
		if list, err := docker.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
			for _, v := range list.Items {
				if _, err := docker.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil {
					errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove stack %s: %w", stack, err)
	}
	return nil
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// Scale sets every replicated service of the stack to replicas tasks (0
// stops the app; Deploy brings the declared count back).
func Scale(ctx context.Context, docker client.APIClient, stack string, replicas uint64) error {
	svcs, err := stackServices(ctx, docker, stack)
	if err != nil {
		return err
	}
	for _, s := range svcs {
		if s.Spec.Mode.Replicated == nil {
			continue
		}
		spec := s.Spec
		r := replicas
		spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &r}
		if _, err := docker.ServiceUpdate(ctx, s.ID, client.ServiceUpdateOptions{Version: s.Version, Spec: spec}); err != nil {
			return fmt.Errorf("scale %s to %d: %w", s.Spec.Name, replicas, err)
		}
	}
	return nil
}

// ForceRestart replaces every task of the stack (`docker service update
// --force` on each service).
func ForceRestart(ctx context.Context, docker client.APIClient, stack string) error {
	svcs, err := stackServices(ctx, docker, stack)
	if err != nil {
		return err
	}
	for _, s := range svcs {
		spec := s.Spec
		spec.TaskTemplate.ForceUpdate++
		if _, err := docker.ServiceUpdate(ctx, s.ID, client.ServiceUpdateOptions{Version: s.Version, Spec: spec}); err != nil {
			return fmt.Errorf("restart %s: %w", s.Spec.Name, err)
		}
	}
	return nil
}

// Stopped reports whether no task of the stack runs.
func Stopped(ctx context.Context, docker client.APIClient, stack string) (bool, error) {
	tasks, err := docker.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("label", StackLabel+"="+stack).Add("desired-state", "running")})
	if err != nil {
		return false, fmt.Errorf("stack %s: list tasks: %w", stack, err)
	}
	return len(tasks.Items) == 0, nil
}
