package swarm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// MovePlan is where an app with data moves: its data is taken from the
// node From and put on the node To (docs/SWARM.md, "Moving an app").
type MovePlan struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ErrAlreadyThere says a move's target is the node the app runs on.
var ErrAlreadyThere = errors.New("the app already runs on that node")

// ErrMoveAmbiguous says a placement lets Swarm choose among several nodes,
// or the app's data is on several: its data cannot follow it.
var ErrMoveAmbiguous = errors.New("an app with data moves from one node to one node")

// onlyNode returns the one node of nodes; none says why there is none,
// many why several (given them, comma-separated) will not do.
func onlyNode(nodes []string, none func() error, many func(all string) error) (string, error) {
	switch len(nodes) {
	case 0:
		return "", none()
	case 1:
		return nodes[0], nil
	}
	return "", many(strings.Join(nodes, ", "))
}

// planMove decides a move of an app with data. running names the nodes the
// app's tasks run on now (empty when it is stopped); from is its current
// placement, to the new one, manager the manager's hostname (the default
// pin). The data is where the app runs, or where its current placement
// pins it when it is stopped; the target is the one ready, active node the
// new placement allows: a placement Swarm could satisfy with two nodes
// would let it start the app on the node without the data.
func planMove(nodes []swarm.Node, running []string, from, to Placement, manager string) (MovePlan, error) {
	var plan MovePlan
	targets := to.Candidates(nodes, manager)
	to1, err := onlyNode(targets, func() error {
		return fmt.Errorf("%w: no ready, active node satisfies %v; `stackhub nodes list` shows the nodes, their state and labels", ErrNoPlace, to.constraints(manager))
	}, func(all string) error {
		return fmt.Errorf("%w: %v allows %s; name one node with --node", ErrMoveAmbiguous, to.constraints(manager), all)
	})
	if err != nil {
		return plan, err
	}
	plan.To = to1
	sources := running
	if len(sources) == 0 {
		// Stopped: the data is on the node its placement pins it to,
		// whatever that node's state (a drained node still has its disk).
		for _, n := range nodes {
			if eligible(n, from.constraints(manager)) {
				sources = append(sources, n.Description.Hostname)
			}
		}
	}
	sort.Strings(sources)
	from1, err := onlyNode(sources, func() error {
		return fmt.Errorf("%w: no node of the swarm matches the app's placement %v, so its data cannot be found", ErrNoNode, from.constraints(manager))
	}, func(all string) error {
		return fmt.Errorf("%w: its tasks run on %s, each with its own copy of the data; pin it to one node first", ErrMoveAmbiguous, all)
	})
	if err != nil {
		return plan, err
	}
	plan.From = from1
	if plan.From == plan.To {
		return plan, fmt.Errorf("%w (%s)", ErrAlreadyThere, plan.To)
	}
	for _, n := range nodes {
		if n.Description.Hostname == plan.From && n.Status.State != swarm.NodeStateReady {
			return plan, fmt.Errorf("node %s, which holds the app's data, is %s: its data cannot be backed up from there; bring the node back first", plan.From, n.Status.State)
		}
	}
	return plan, nil
}

// PlanMove reads the swarm's nodes and where app runs, and decides its
// move from placement from to placement to (see planMove).
func PlanMove(ctx context.Context, docker client.APIClient, app string, from, to Placement, manager string) (MovePlan, error) {
	if err := requireManager(ctx, docker); err != nil {
		return MovePlan{}, err
	}
	if err := to.Validate(); err != nil {
		return MovePlan{}, err
	}
	nodes, err := Nodes(ctx, docker)
	if err != nil {
		return MovePlan{}, err
	}
	list, err := docker.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return MovePlan{}, fmt.Errorf("list nodes: %w", err)
	}
	return planMove(list.Items, AppNodes(nodes)[app], from, to, manager)
}

// Quiet reports whether no task of the stack runs or is about to: every
// container has exited. Stopped says no task *should* run, which is true
// as soon as the stack is scaled to 0; a move backs the data up only once
// the containers that write it are gone. Tasks on a node that is not ready
// are not waited for: Swarm never hears from them again (the plan refuses
// a move whose data is on such a node).
func Quiet(ctx context.Context, docker client.APIClient, stack string) (bool, error) {
	tasks, err := docker.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("label", StackLabel+"="+stack)})
	if err != nil {
		return false, fmt.Errorf("stack %s: list tasks: %w", stack, err)
	}
	nodes, err := docker.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return false, fmt.Errorf("list nodes: %w", err)
	}
	return quiet(tasks.Items, nodes.Items), nil
}

// quiet reports whether every task on a ready node is in a final state.
func quiet(tasks []swarm.Task, nodes []swarm.Node) bool {
	gone := map[string]bool{}
	for _, n := range nodes {
		gone[n.ID] = n.Status.State != swarm.NodeStateReady
	}
	for _, t := range tasks {
		if gone[t.NodeID] {
			continue
		}
		switch t.Status.State {
		case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
			swarm.TaskStateRejected, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		default:
			return false
		}
	}
	return true
}
