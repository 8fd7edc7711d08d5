package main

import (
	"strings"
	"testing"
)

// TestNodesOnASingleEngine: on a Docker Engine that is not in a swarm,
// everything works as before, and the nodes commands say so (the CI
// engine is a single engine; the swarm itself is tested by the swarm
// package's TestSwarmSingleNode).
func TestNodesOnASingleEngine(t *testing.T) {
	in := newInstance(t, "nodes.localhost")
	in.start()
	out := in.mustCLI("nodes", "list")
	if !strings.Contains(out, "not in a swarm") || !strings.Contains(out, "docker swarm init") {
		t.Errorf("nodes list on a single engine: %q", out)
	}
	for _, args := range [][]string{
		{"nodes", "join-token"},
		{"nodes", "label", "somenode", "media=true"},
		{"nodes", "drain", "somenode"},
		{"apps", "install", "./testdata/alpha", "--node", "somenode"},
		{"apps", "move", "alpha", "--node", "somenode"},
	} {
		out, err := in.cli(args...)
		if err == nil || !strings.Contains(out, "not a Swarm manager") {
			t.Errorf("stackhub %s on a single engine: %v %q, want a refusal saying it is not a swarm", strings.Join(args, " "), err, out)
		}
	}
	// The refused install changed nothing.
	if out := in.mustCLI("apps", "list"); strings.Contains(out, "alpha") {
		t.Errorf("a refused install left the app: %q", out)
	}
}
