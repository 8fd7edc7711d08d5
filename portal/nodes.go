// The Swarm nodes (docs/SWARM.md): the Nodes page, GET /api/v1/nodes, and
// where each app runs on the home and app pages. All of it reads
// swarm.List, the same code as the admin API's GET /stackhub/nodes.

package portal

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/swarm"
)

// onSwarm reports whether this StackHub runs its apps on a Swarm (read once
// at start by appctl: no engine call per page).
func (p *Portal) onSwarm() bool {
	return p.cfg.Platform != nil && p.plat().Apps.OnSwarm()
}

// nodeList reads the engine's mode, the nodes and the apps on each.
func (p *Portal) nodeList(ctx context.Context) (swarm.NodeList, error) {
	return swarm.List(ctx, p.plat().Apps.Engine().Docker())
}

// runsOn maps each app to the nodes it runs on; nil on a single engine
// (the pages then show nothing of nodes) or when Swarm does not answer.
func (p *Portal) runsOn(ctx context.Context) map[string][]string {
	if !p.onSwarm() {
		return nil
	}
	l, err := p.nodeList(ctx)
	if err != nil {
		p.cfg.Logf("portal: list the swarm's nodes: %v", err)
		return nil
	}
	return l.AppNodes
}

// apiNodes answers GET /api/v1/nodes: swarm.NodeList.
func (p *Portal) apiNodes(c *fiber.Ctx) error {
	l, err := p.nodeList(c.Context())
	if err != nil {
		return opError(err)
	}
	return c.JSON(l)
}

// nodesPage is the Nodes page: each node with its state, availability,
// role, resources, labels and apps; on a single engine, how to make this
// box a Swarm manager and join other machines.
func (p *Portal) nodesPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	l, err := p.nodeList(c.Context())
	if err != nil {
		return opError(err)
	}
	return p.render(c, "nodes", view{Title: "Nodes", Nav: "nodes", User: id, CSRF: s.CSRF, Nodes: l})
}
