package swarm

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Labels the Docker CLI's stack code and StackHub put on a stack's objects.
const (
	// StackLabel is the stack namespace label set by the CLI's conversion.
	StackLabel = "com.docker.stack.namespace"
	// AppLabel names the StackHub app (appctl.LabelApp).
	AppLabel = "dev.stackhub.app"
)

// Node is one swarm node as `stackhub nodes list` and the admin API show
// it: state, resources and the apps with a running task on it.
type Node struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Role         string            `json:"role"`         // manager, worker
	Availability string            `json:"availability"` // active, pause, drain
	State        string            `json:"state"`        // ready, down, unknown
	Leader       bool              `json:"leader,omitempty"`
	Addr         string            `json:"addr,omitempty"`
	CPUs         float64           `json:"cpus"`
	MemoryBytes  int64             `json:"memoryBytes"`
	Labels       map[string]string `json:"labels,omitempty"`
	Apps         []string          `json:"apps"`
}

// summarize joins nodes and tasks into Nodes, sorted by name. A task
// counts for its node when it should run and runs (desired and current
// state running); its app is its service's app label, else its stack.
func summarize(nodes []swarm.Node, tasks []swarm.Task, serviceApp map[string]string) []Node {
	apps := map[string]map[string]bool{}
	for _, t := range tasks {
		if t.DesiredState != swarm.TaskStateRunning || t.Status.State != swarm.TaskStateRunning || t.NodeID == "" {
			continue
		}
		app := serviceApp[t.ServiceID]
		if app == "" {
			app = t.Spec.ContainerSpec.Labels[AppLabel]
		}
		if app == "" {
			continue
		}
		if apps[t.NodeID] == nil {
			apps[t.NodeID] = map[string]bool{}
		}
		apps[t.NodeID][app] = true
	}
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		v := Node{
			ID: n.ID, Name: n.Description.Hostname, Role: string(n.Spec.Role),
			Availability: string(n.Spec.Availability), State: string(n.Status.State),
			Addr: n.Status.Addr, CPUs: float64(n.Description.Resources.NanoCPUs) / 1e9,
			MemoryBytes: n.Description.Resources.MemoryBytes, Labels: n.Spec.Labels, Apps: []string{},
		}
		if n.ManagerStatus != nil {
			v.Leader = n.ManagerStatus.Leader
		}
		for a := range apps[n.ID] {
			v.Apps = append(v.Apps, a)
		}
		sort.Strings(v.Apps)
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// serviceApps maps service IDs to the StackHub app they belong to.
func serviceApps(services []swarm.Service) map[string]string {
	m := map[string]string{}
	for _, s := range services {
		if a := s.Spec.Labels[AppLabel]; a != "" {
			m[s.ID] = a
		} else if st := s.Spec.Labels[StackLabel]; st != "" {
			m[s.ID] = st
		}
	}
	return m
}

// Nodes lists the swarm's nodes with the apps running on each.
func Nodes(ctx context.Context, docker client.APIClient) ([]Node, error) {
	if err := requireManager(ctx, docker); err != nil {
		return nil, err
	}
	nodes, err := docker.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	services, err := docker.ServiceList(ctx, client.ServiceListOptions{Filters: client.Filters{}.Add("label", AppLabel)})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	tasks, err := docker.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("desired-state", "running")})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return summarize(nodes.Items, tasks.Items, serviceApps(services.Items)), nil
}

// AppNodes maps each app with running tasks to the names of the nodes it
// runs on (the "runs on" of the portal's home and app pages).
func AppNodes(nodes []Node) map[string][]string {
	m := map[string][]string{}
	for _, n := range nodes {
		for _, a := range n.Apps {
			m[a] = append(m[a], n.Name)
		}
	}
	return m
}

// findNode returns the node whose ID or hostname is name.
func findNode(ctx context.Context, docker client.APIClient, name string) (swarm.Node, error) {
	if err := requireManager(ctx, docker); err != nil {
		return swarm.Node{}, err
	}
	list, err := docker.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return swarm.Node{}, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range list.Items {
		if n.ID == name || n.Description.Hostname == name {
			return n, nil
		}
	}
	return swarm.Node{}, fmt.Errorf("%w: no node %q in the swarm; `stackhub nodes list` shows them", ErrNoNode, name)
}

// ErrNoNode says a node name matched no node.
var ErrNoNode = fmt.Errorf("no such node")

// Label sets the node label key to value on node, or removes it when value
// is empty. Constraints such as node.labels.KEY==VALUE then place apps.
func Label(ctx context.Context, docker client.APIClient, node, key, value string) error {
	if key == "" || strings.ContainsAny(key, "= \t") {
		return fmt.Errorf("label %s: %q is not a label key; use KEY=VALUE", node, key)
	}
	n, err := findNode(ctx, docker, node)
	if err != nil {
		return fmt.Errorf("label %s: %w", node, err)
	}
	spec := n.Spec
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	if value == "" {
		delete(labels, key)
	} else {
		labels[key] = value
	}
	spec.Labels = labels
	if _, err := docker.NodeUpdate(ctx, n.ID, client.NodeUpdateOptions{Version: n.Version, Spec: spec}); err != nil {
		return fmt.Errorf("label %s: %w", node, err)
	}
	return nil
}

// Drain sets node's availability to drain: Swarm moves its tasks away. It
// returns the apps pinned to that node, which cannot move.
func Drain(ctx context.Context, docker client.APIClient, node string) (pinned []string, err error) {
	n, err := findNode(ctx, docker, node)
	if err != nil {
		return nil, fmt.Errorf("drain %s: %w", node, err)
	}
	spec := n.Spec
	spec.Availability = swarm.NodeAvailabilityDrain
	if _, err := docker.NodeUpdate(ctx, n.ID, client.NodeUpdateOptions{Version: n.Version, Spec: spec}); err != nil {
		return nil, fmt.Errorf("drain %s: %w", node, err)
	}
	services, err := docker.ServiceList(ctx, client.ServiceListOptions{Filters: client.Filters{}.Add("label", AppLabel)})
	if err != nil {
		return nil, fmt.Errorf("drain %s: list services: %w", node, err)
	}
	return pinnedTo(services.Items, n), nil
}

// pinnedTo returns the apps whose services can run only on node n.
func pinnedTo(services []swarm.Service, n swarm.Node) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range services {
		if s.Spec.TaskTemplate.Placement == nil {
			continue
		}
		for _, c := range s.Spec.TaskTemplate.Placement.Constraints {
			c = strings.ReplaceAll(c, " ", "")
			if c == "node.hostname=="+n.Description.Hostname || c == "node.id=="+n.ID {
				if a := s.Spec.Labels[AppLabel]; a != "" && !seen[a] {
					seen[a] = true
					out = append(out, a)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// JoinCommand returns the `docker swarm join` command for a new worker
// (role "worker" or "") or manager.
func JoinCommand(ctx context.Context, docker client.APIClient, role string) (string, error) {
	if err := requireManager(ctx, docker); err != nil {
		return "", err
	}
	sw, err := docker.SwarmInspect(ctx, client.SwarmInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("join token: %w", err)
	}
	info, err := docker.Info(ctx, client.InfoOptions{})
	if err != nil {
		return "", fmt.Errorf("join token: %w", err)
	}
	token := sw.Swarm.JoinTokens.Worker
	switch role {
	case "", "worker":
	case "manager":
		token = sw.Swarm.JoinTokens.Manager
	default:
		return "", fmt.Errorf("join token: role %q: use worker or manager", role)
	}
	addr := info.Info.Swarm.NodeAddr
	for _, p := range info.Info.Swarm.RemoteManagers {
		if p.NodeID == info.Info.Swarm.NodeID {
			addr = p.Addr // host:port the managers listen on
		}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "2377")
	}
	return fmt.Sprintf("docker swarm join --token %s %s", token, addr), nil
}

// NodeList is the engine's mode, the swarm's nodes (none on a single
// engine) and where each app runs: the answer of the admin API's
// GET /stackhub/nodes and the portal's GET /api/v1/nodes, and what the
// portal's Nodes page and "runs on" show.
type NodeList struct {
	Mode     Mode                `json:"mode"`
	Nodes    []Node              `json:"nodes"`
	AppNodes map[string][]string `json:"appNodes"`
}

// List reads the engine's mode and, on a manager, the nodes and the apps
// on each, as Swarm knows them now.
func List(ctx context.Context, docker client.APIClient) (NodeList, error) {
	mode, err := Detect(ctx, docker)
	if err != nil {
		return NodeList{}, err
	}
	out := NodeList{Mode: mode, Nodes: []Node{}, AppNodes: map[string][]string{}}
	if mode == Manager {
		if out.Nodes, err = Nodes(ctx, docker); err != nil {
			return NodeList{}, err
		}
		out.AppNodes = AppNodes(out.Nodes)
	}
	return out, nil
}

// MemoryGiB is the node's memory in GiB, as the Nodes page shows it.
func (n Node) MemoryGiB() float64 { return float64(n.MemoryBytes) / (1 << 30) }
