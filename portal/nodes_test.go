package portal

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/swarm"
)

// recordedLab is the four-node home lab of swarm/testdata/recorded-*-3.json
// as swarm.List answers for it (swarm's TestRecordedNodesShowWhereAppsRun
// checks that answer against the recorded Swarm API answers). A second
// node cannot run in this sandbox.
func recordedLab() swarm.NodeList {
	nodes := []swarm.Node{
		{Name: "hub", Role: "manager", Availability: "active", State: "ready", Leader: true, Addr: "192.168.1.10", CPUs: 4, MemoryBytes: 8201748480, Apps: []string{"vault"}},
		{Name: "media-pc", Role: "worker", Availability: "active", State: "ready", Addr: "192.168.1.11", CPUs: 8, MemoryBytes: 16413278208, Labels: map[string]string{"media": "true"}, Apps: []string{"jellyfin"}},
		{Name: "nas", Role: "worker", Availability: "drain", State: "ready", CPUs: 2, MemoryBytes: 4 << 30, Labels: map[string]string{"media": "true", "disk": "big"}, Apps: []string{}},
		{Name: "old-laptop", Role: "worker", Availability: "active", State: "down", CPUs: 2, MemoryBytes: 2 << 30, Apps: []string{}},
	}
	return swarm.NodeList{Mode: swarm.Manager, Nodes: nodes, AppNodes: swarm.AppNodes(nodes)}
}

func renderPage(t *testing.T, lang, name string, v view) string {
	t.Helper()
	v.Lang = lang
	var b strings.Builder
	if err := pagesFor(lang).ExecuteTemplate(&b, name, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rowOf returns the table row of node name.
func rowOf(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr data-node="` + regexp.QuoteMeta(name) + `">.*?</tr>`).FindString(page)
	if m == "" {
		t.Fatalf("no row for node %s in\n%s", name, page)
	}
	return m
}

// TestNodesTemplateOnRecordedSwarm: the Nodes page shows each node of the
// recorded lab with its role, state, availability, CPUs, memory, labels
// and apps (linked to their pages), in English and Chinese; the nav links
// to it on a swarm only.
func TestNodesTemplateOnRecordedSwarm(t *testing.T) {
	admin := auth.Identity{User: "ann", Role: auth.RoleAdmin}
	v := view{Title: "Nodes", Nav: "nodes", User: admin, OnSwarm: true, Nodes: recordedLab()}
	page := renderPage(t, "en", "nodes", v)
	for name, want := range map[string][]string{
		"hub":        {"leader", "data-role>manager<", ">ready<", "data-availability>active<", "data-cpus>4<", "7.6 GiB", `href="/apps/vault"`},
		"media-pc":   {"data-role>worker<", "media=true", `href="/apps/jellyfin"`, "15.3 GiB", "192.168.1.11"},
		"nas":        {"data-availability>drain<", "disk=big", "media=true", "no apps"},
		"old-laptop": {">down<", "s-failed", "no apps"},
	} {
		row := rowOf(t, page, name)
		for _, w := range want {
			if !strings.Contains(row, w) {
				t.Errorf("row of %s lacks %q:\n%s", name, w, row)
			}
		}
	}
	if !strings.Contains(page, `<a href="/nodes" class="on" aria-current="page">Nodes</a>`) {
		t.Error("the nav has no current Nodes link on a swarm")
	}
	if !strings.Contains(page, "stackhub apps move APP --node NAME") || strings.Contains(page, "not in a Swarm") {
		t.Error("the swarm page should tell how to move apps, and not that the box is not in a Swarm")
	}
	zh := renderPage(t, "zh-CN", "nodes", v)
	for _, w := range []string{"节点", "管理节点", "工作节点", "就绪", "离线", "排空", "主管理节点", "没有应用"} {
		if !strings.Contains(zh, w) {
			t.Errorf("the Chinese Nodes page lacks %q", w)
		}
	}

	// The home card and the app page say where an app runs.
	cards := []AppCard{{ID: "jellyfin", Name: "Jellyfin", Status: "running", Nodes: v.Nodes.AppNodes["jellyfin"]}, {ID: "notes", Name: "Notes", Status: "stopped"}}
	home := renderPage(t, "en", "dashboard", view{User: admin, OnSwarm: true, Cards: cards})
	if !strings.Contains(home, `<span class="app-node" data-nodes>runs on media-pc</span>`) || strings.Count(home, "data-nodes") != 1 {
		t.Errorf("home cards: want jellyfin to say it runs on media-pc, and the stopped app nothing:\n%s", home)
	}
	d := AppDetail{Card: AppCard{ID: "jellyfin", Name: "Jellyfin", Status: "running", Nodes: []string{"media-pc"}}}
	d.ID = "jellyfin"
	app := renderPage(t, "en", "app", view{User: admin, OnSwarm: true, App: d})
	if !strings.Contains(app, `<span class="tag" id="runs-on">runs on media-pc</span>`) {
		t.Error("the app page does not say where the app runs")
	}
	if zh := renderPage(t, "zh-CN", "app", view{User: admin, OnSwarm: true, App: d}); !strings.Contains(zh, "运行于 media-pc") {
		t.Error("the Chinese app page does not say where the app runs")
	}
}

// TestNodesTemplateOnASingleEngine: on a Docker Engine that is not in a
// Swarm the Nodes page explains how to make one and join machines, the
// nav has no Nodes link, and the home and app pages show no node at all.
func TestNodesTemplateOnASingleEngine(t *testing.T) {
	admin := auth.Identity{User: "ann", Role: auth.RoleAdmin}
	single := swarm.NodeList{Mode: swarm.Single, Nodes: []swarm.Node{}, AppNodes: map[string][]string{}}
	page := renderPage(t, "en", "nodes", view{Title: "Nodes", Nav: "nodes", User: admin, Nodes: single})
	for _, w := range []string{"This box is not in a Swarm", "docker swarm init", "stackhub nodes join-token", "Nothing changes for your apps"} {
		if !strings.Contains(page, w) {
			t.Errorf("single-engine Nodes page lacks %q", w)
		}
	}
	if strings.Contains(page, `href="/nodes"`) || strings.Contains(page, "<table") {
		t.Error("single engine: the nav links to Nodes, or the page shows a node table")
	}
	if zh := renderPage(t, "zh-CN", "nodes", view{User: admin, Nodes: single}); !strings.Contains(zh, "这台机器不在 Swarm 中") {
		t.Error("the Chinese page does not say the box is not in a Swarm")
	}
	home := renderPage(t, "en", "dashboard", view{User: admin, Cards: []AppCard{{ID: "notes", Name: "Notes", Status: "running"}}})
	if strings.Contains(home, "runs on") || strings.Contains(home, `href="/nodes"`) {
		t.Error("single engine: the home page mentions nodes")
	}
}

// TestNodesOnASingleDockerEngine: on the real engine, which is not in a
// Swarm (this machine's tests never make it one), GET /api/v1/nodes
// answers mode single with no nodes, the Nodes page explains how to join,
// and the nav has no Nodes link.
func TestNodesOnASingleDockerEngine(t *testing.T) {
	e, _, tok := newPlatformEnv(t, "")
	r := e.doJSON("GET", "/api/v1/nodes", "", tok)
	if r.status != 200 || !strings.Contains(r.body, `"mode":"single"`) || !strings.Contains(r.body, `"nodes":[]`) || !strings.Contains(r.body, `"appNodes":{}`) {
		t.Fatalf("GET /api/v1/nodes on a single engine: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/nodes", nil)
	if r.status != 200 || !strings.Contains(r.body, "This box is not in a Swarm") || !strings.Contains(r.body, "docker swarm init") {
		t.Fatalf("Nodes page on a single engine: %d %s", r.status, r.body)
	}
	if home := e.do("GET", "/", nil); strings.Contains(home.body, `href="/nodes"`) || strings.Contains(home.body, "runs on") {
		t.Error("single engine: the home page links to Nodes or says where apps run")
	}
}
