package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/swarm"
)

// The Swarm nodes (docs/SWARM.md):
//
//	GET  /stackhub/nodes                      NodeList (mode single: no nodes)
//	GET  /stackhub/nodes/join-token?role=R    JoinCommand (worker or manager)
//	POST /stackhub/nodes/{name}/label         LabelRequest
//	POST /stackhub/nodes/{name}/drain         DrainResult
//	POST /stackhub/apps/{id}/move             swarm.Placement → events
//
// On an engine that is not a swarm manager, all but the list answer 409.

// NodeList is the answer to GET /stackhub/nodes (swarm.List, also the
// portal's GET /api/v1/nodes).
type NodeList = swarm.NodeList

// JoinCommand is the answer to GET /stackhub/nodes/join-token.
type JoinCommand struct {
	Command string `json:"command"`
}

// LabelRequest sets (Value non-empty) or removes a node label.
type LabelRequest struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// DrainResult names the apps pinned to a drained node: they cannot move.
type DrainResult struct {
	Pinned []string `json:"pinned"`
}

func (s *server) nodes(w http.ResponseWriter, r *http.Request, p *platform.Platform, parts []string) {
	docker := p.Apps.Engine().Docker()
	ctx := r.Context()
	fail := func(err error) {
		code := 500
		switch {
		case errors.Is(err, swarm.ErrNotSwarm):
			code = http.StatusConflict
		case errors.Is(err, swarm.ErrNoNode):
			code = http.StatusNotFound
		}
		writeError(w, code, err)
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		out, err := swarm.List(ctx, docker)
		if err != nil {
			fail(err)
			return
		}
		writeJSON(w, out)
	case len(parts) == 2 && parts[1] == "join-token" && r.Method == http.MethodGet:
		cmd, err := swarm.JoinCommand(ctx, docker, r.URL.Query().Get("role"))
		if err != nil {
			fail(err)
			return
		}
		writeJSON(w, JoinCommand{Command: cmd})
	case len(parts) == 3 && parts[2] == "label" && r.Method == http.MethodPost:
		var req LabelRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
			writeError(w, 400, fmt.Errorf("read label request: %w", err))
			return
		}
		if err := swarm.Label(ctx, docker, parts[1], req.Key, req.Value); err != nil {
			fail(err)
			return
		}
		writeJSON(w, req)
	case len(parts) == 3 && parts[2] == "drain" && r.Method == http.MethodPost:
		pinned, err := swarm.Drain(ctx, docker, parts[1])
		if err != nil {
			fail(err)
			return
		}
		if pinned == nil {
			pinned = []string{}
		}
		writeJSON(w, DrainResult{Pinned: pinned})
	default:
		writeError(w, 404, fmt.Errorf("no API at %s %s", r.Method, r.URL.Path))
	}
}

// move handles POST /stackhub/apps/{id}/move with a swarm.Placement body:
// the app moves to the nodes it names (events).
func (s *server) move(w http.ResponseWriter, r *http.Request, p *platform.Platform, id string) {
	var to swarm.Placement
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&to); err != nil {
		writeError(w, 400, fmt.Errorf("read placement: %w", err))
		return
	}
	if !p.Apps.OnSwarm() {
		writeError(w, http.StatusConflict, fmt.Errorf("move %s: %w", id, swarm.ErrNotSwarm))
		return
	}
	stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
		_, err := p.Apps.MoveNode(ctx, id, to, progress)
		return err
	})
}

// Move moves an app to the nodes placement names.
func (c Client) Move(id string, to swarm.Placement, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/move", to, on)
}

// Nodes lists the swarm's nodes (mode single: none).
func (c Client) Nodes() (NodeList, error) {
	var out NodeList
	err := c.call(http.MethodGet, "/stackhub/nodes", nil, &out)
	return out, err
}

// JoinCommand returns the `docker swarm join` command for role.
func (c Client) JoinCommand(role string) (string, error) {
	var out JoinCommand
	err := c.call(http.MethodGet, "/stackhub/nodes/join-token?role="+url.QueryEscape(role), nil, &out)
	return out.Command, err
}

// LabelNode sets or (value "") removes a label of node.
func (c Client) LabelNode(node, key, value string) error {
	return c.call(http.MethodPost, "/stackhub/nodes/"+url.PathEscape(node)+"/label", LabelRequest{Key: key, Value: value}, nil)
}

// DrainNode drains node and returns the apps pinned to it.
func (c Client) DrainNode(node string) ([]string, error) {
	var out DrainResult
	err := c.call(http.MethodPost, "/stackhub/nodes/"+url.PathEscape(node)+"/drain", nil, &out)
	return out.Pinned, err
}
