package swarm

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/moby/api/types/swarm"
)

// Placement pins an app's services: to one node by name, and/or by Swarm
// constraint expressions (node.labels.media==true). An app's data is local
// to the node it runs on, so an app is always pinned (docs/SWARM.md).
type Placement struct {
	Node        string   `json:"node,omitempty"`
	Constraints []string `json:"constraints,omitempty"`
}

// constraintRE is Swarm's constraint form: a node attribute, == or !=, a
// value.
var constraintRE = regexp.MustCompile(`^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.\-]+)|engine\.labels\.[A-Za-z0-9_.\-]+)\s*(==|!=)\s*[^\s=!]+$`)

// Validate checks every constraint's form, so a typo is an install error
// rather than an app that Swarm never schedules.
func (p Placement) Validate() error {
	for _, c := range p.Constraints {
		if !constraintRE.MatchString(strings.TrimSpace(c)) {
			return fmt.Errorf("constraint %q: use ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.media==true or node.hostname==nas", c)
		}
	}
	if p.Node != "" && strings.ContainsAny(p.Node, " =!") {
		return fmt.Errorf("node %q is not a node name; `stackhub nodes list` shows them", p.Node)
	}
	return nil
}

// constraints returns the Swarm constraints of p; with neither a node nor a
// constraint, the app is pinned to manager (the node StackHub runs on,
// where it wrote the app's data folder).
func (p Placement) constraints(manager string) []string {
	var out []string
	if p.Node != "" {
		out = append(out, "node.hostname=="+p.Node)
	}
	for _, c := range p.Constraints {
		out = append(out, strings.ReplaceAll(strings.TrimSpace(c), " ", ""))
	}
	if len(out) == 0 && manager != "" {
		out = append(out, "node.hostname=="+manager)
	}
	return out
}

// apply adds p's constraints to every service spec.
func (p Placement) apply(specs map[string]swarm.ServiceSpec, manager string) {
	cs := p.constraints(manager)
	for name, s := range specs {
		if s.TaskTemplate.Placement == nil {
			s.TaskTemplate.Placement = &swarm.Placement{}
		}
		s.TaskTemplate.Placement.Constraints = append(s.TaskTemplate.Placement.Constraints, cs...)
		specs[name] = s
	}
}

// eligible reports whether node n satisfies every constraint: which nodes
// an app can run on (checked at install, so `--node nas` with no node nas,
// or a label no node has, is refused before anything is created).
func eligible(n swarm.Node, constraints []string) bool {
	for _, c := range constraints {
		op := "=="
		i := strings.Index(c, "==")
		if i < 0 {
			op, i = "!=", strings.Index(c, "!=")
		}
		if i < 0 {
			return false
		}
		key, want := c[:i], c[i+2:]
		var have string
		var ok bool
		switch {
		case key == "node.id":
			have, ok = n.ID, true
		case key == "node.hostname":
			have, ok = n.Description.Hostname, true
		case key == "node.role":
			have, ok = string(n.Spec.Role), true
		case key == "node.platform.os":
			have, ok = n.Description.Platform.OS, true
		case key == "node.platform.arch":
			have, ok = n.Description.Platform.Architecture, true
		case strings.HasPrefix(key, "node.labels."):
			have, ok = n.Spec.Labels[strings.TrimPrefix(key, "node.labels.")]
		case strings.HasPrefix(key, "engine.labels."):
			have, ok = n.Description.Engine.Labels[strings.TrimPrefix(key, "engine.labels.")]
		}
		match := ok && strings.EqualFold(have, want)
		if (op == "==") != match {
			return false
		}
	}
	return true
}

// Candidates returns the names of the nodes an app placed by p may run on:
// eligible by its constraints, ready and active.
func (p Placement) Candidates(nodes []swarm.Node, manager string) []string {
	var out []string
	for _, n := range nodes {
		if n.Status.State != swarm.NodeStateReady || n.Spec.Availability != swarm.NodeAvailabilityActive {
			continue
		}
		if eligible(n, p.constraints(manager)) {
			out = append(out, n.Description.Hostname)
		}
	}
	return out
}
