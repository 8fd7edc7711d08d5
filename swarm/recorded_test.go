package swarm

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"
)

// The recorded-*-3.json files are answers of the Swarm API (GET /nodes,
// GET /services, GET /tasks) of a four-node home lab: hub (manager,
// leader), media-pc (worker, media=true), nas (worker, media=true,
// drained) and old-laptop (worker, media=true, down). jellyfin was
// rescheduled from old-laptop to media-pc; photos is pinned to the drained
// nas and pending. A second node cannot run in this sandbox, so the
// multi-node logic is tested on these answers.
func recorded[T any](t *testing.T, name string) T {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func TestRecordedNodesShowWhereAppsRun(t *testing.T) {
	nodes := recorded[[]swarm.Node](t, "recorded-nodes-3.json")
	services := recorded[[]swarm.Service](t, "recorded-services-3.json")
	tasks := recorded[[]swarm.Task](t, "recorded-tasks-3.json")
	got := summarize(nodes, tasks, serviceApps(services))
	want := map[string]struct {
		role, avail, state string
		apps               []string
	}{
		"hub":        {"manager", "active", "ready", []string{"vault"}},
		"media-pc":   {"worker", "active", "ready", []string{"jellyfin"}}, // the moved task, not the old one
		"nas":        {"worker", "drain", "ready", []string{}},            // photos pending: runs nowhere
		"old-laptop": {"worker", "active", "down", []string{}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d nodes, want %d", len(got), len(want))
	}
	for _, n := range got {
		w := want[n.Name]
		if n.Role != w.role || n.Availability != w.avail || n.State != w.state || !reflect.DeepEqual(n.Apps, w.apps) {
			t.Errorf("node %s: %s/%s/%s apps %v, want %+v", n.Name, n.Role, n.Availability, n.State, n.Apps, w)
		}
	}
	if got[0].Name != "hub" || !got[0].Leader || got[0].CPUs != 4 || got[0].MemoryBytes != 8201748480 {
		t.Errorf("hub: %+v", got[0])
	}
	on := AppNodes(got)
	if !reflect.DeepEqual(on, map[string][]string{"jellyfin": {"media-pc"}, "vault": {"hub"}}) {
		t.Errorf("apps run on %v", on)
	}
	// The JSON the admin API serves for the portal's Nodes page.
	b, _ := json.Marshal(got[1])
	for _, k := range []string{`"name":"media-pc"`, `"apps":["jellyfin"]`, `"labels":{"media":"true"}`, `"state":"ready"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("node JSON %s lacks %s", b, k)
		}
	}
}

func TestRecordedPlacementCandidates(t *testing.T) {
	nodes := recorded[[]swarm.Node](t, "recorded-nodes-3.json")
	for _, c := range []struct {
		p    Placement
		want []string
	}{
		{Placement{}, []string{"hub"}}, // pinned to the manager by default
		{Placement{Constraints: []string{"node.labels.media==true"}}, []string{"media-pc"}}, // nas drained, old-laptop down
		{Placement{Node: "media-pc"}, []string{"media-pc"}},
		{Placement{Node: "nas"}, nil},
		{Placement{Node: "ghost"}, nil},
		{Placement{Constraints: []string{"node.labels.disk != big", "node.platform.arch==x86_64"}}, []string{"hub", "media-pc"}},
		{Placement{Constraints: []string{"node.role==worker"}}, []string{"media-pc"}},
		{Placement{Node: "hub", Constraints: []string{"node.labels.media==true"}}, nil},
	} {
		if err := c.p.Validate(); err != nil {
			t.Errorf("%+v: %v", c.p, err)
			continue
		}
		if got := c.p.Candidates(nodes, "hub"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v runs on %v, want %v", c.p, got, c.want)
		}
	}
	for _, bad := range []Placement{
		{Constraints: []string{"media=true"}},
		{Constraints: []string{"node.labels.media"}},
		{Constraints: []string{"rm -rf /"}},
		{Node: "a b"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestRecordedDrainNamesPinnedApps(t *testing.T) {
	nodes := recorded[[]swarm.Node](t, "recorded-nodes-3.json")
	services := recorded[[]swarm.Service](t, "recorded-services-3.json")
	byName := map[string]swarm.Node{}
	for _, n := range nodes {
		byName[n.Description.Hostname] = n
	}
	if got := pinnedTo(services, byName["nas"]); !reflect.DeepEqual(got, []string{"photos"}) {
		t.Errorf("pinned to nas: %v", got)
	}
	if got := pinnedTo(services, byName["hub"]); !reflect.DeepEqual(got, []string{"vault"}) {
		t.Errorf("pinned to hub: %v", got)
	}
	// jellyfin follows a label: draining media-pc moves it, nothing pinned.
	if got := pinnedTo(services, byName["media-pc"]); len(got) != 0 {
		t.Errorf("pinned to media-pc: %v", got)
	}
}

func TestModeOfRecordedInfo(t *testing.T) {
	for _, c := range []struct {
		info string
		want Mode
	}{
		{`{"NodeID":"mgr1","LocalNodeState":"active","ControlAvailable":true,"Nodes":4,"Managers":1}`, Manager},
		{`{"NodeID":"wrk2","LocalNodeState":"active","ControlAvailable":false}`, Single},
		{`{"NodeID":"","LocalNodeState":"inactive","ControlAvailable":false}`, Single},
		{`{"NodeID":"","LocalNodeState":"pending","ControlAvailable":false}`, Single},
	} {
		var info swarm.Info
		if err := json.Unmarshal([]byte(c.info), &info); err != nil {
			t.Fatal(err)
		}
		if got := modeOf(info); got != c.want {
			t.Errorf("%s: %s, want %s", c.info, got, c.want)
		}
	}
}

func TestEndpointPublishesNothingUnlessAsked(t *testing.T) {
	spec := swarm.ServiceSpec{EndpointSpec: &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 53, PublishedPort: 53, PublishMode: swarm.PortConfigPublishModeIngress}}}}
	if err := endpoint(&spec, false); err == nil || !strings.Contains(err.Error(), "--publish-ports") {
		t.Fatalf("a published port without --publish-ports: %v", err)
	}
	if err := endpoint(&spec, true); err != nil {
		t.Fatal(err)
	}
	if spec.EndpointSpec.Mode != swarm.ResolutionModeDNSRR || spec.EndpointSpec.Ports[0].PublishMode != swarm.PortConfigPublishModeHost {
		t.Errorf("endpoint %+v: want dnsrr and host-mode publishing (never the ingress mesh)", spec.EndpointSpec)
	}
	plain := swarm.ServiceSpec{}
	if err := endpoint(&plain, false); err != nil || plain.EndpointSpec.Mode != swarm.ResolutionModeDNSRR || len(plain.EndpointSpec.Ports) != 0 {
		t.Errorf("no ports: %+v %v", plain.EndpointSpec, err)
	}
}

func TestStackLoadKeepsInterpolatedValues(t *testing.T) {
	// compose-go has interpolated already: the CLI's loader must not
	// expand `$word` a second time, nor choke on compose-go's `name`.
	s := Stack{Name: "stackhub-x", WorkingDir: t.TempDir(), YAML: []byte("name: stackhub-x\nservices:\n  web:\n    image: testapp\n    environment:\n      PASSWORD: pa$word\n")}
	cfg, _, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Services[0].Environment["PASSWORD"]; v == nil || *v != "pa$word" {
		t.Errorf("PASSWORD = %v, want pa$word", v)
	}
	bad := Stack{Name: "stackhub-y", WorkingDir: t.TempDir(), YAML: []byte("services:\n  web:\n    image: testapp\n    privileged: true\n")}
	if _, _, err := bad.Load(); err == nil || !strings.Contains(err.Error(), "privileged") {
		t.Errorf("a setting Swarm would drop (privileged) was accepted: %v", err)
	}
	warned := Stack{Name: "stackhub-z", WorkingDir: t.TempDir(), YAML: []byte("services:\n  web:\n    image: testapp\n    restart: unless-stopped\n    shm_size: 64m\n")}
	if _, w, err := warned.Load(); err != nil || len(w) != 1 || !strings.Contains(w[0], "shm_size") {
		t.Errorf("shm_size: warnings %v, %v; want one warning (and none for restart)", w, err)
	}
}
