package portal

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/platform"
)

// testStore writes a folder store with a two-service app with a form
// (duo) and an app that asks for a hazardous setting (risky).
func testStore(t *testing.T, iconURL string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("duo/compose.yaml", `x-stackhub:
  name: Duo
  tagline: Two services that greet
  version: "1.0"
  categories: [utilities]
  icon: icon.svg
  main: {service: web, port: 8080}
  fields:
    - {key: GREETING, label: Greeting, default: hello, required: true}
    - {key: SIZE, label: Size, type: number, default: "1"}
    - {key: TOKEN, label: Token, type: password, secret: true, random: true, random_length: 24}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080", NAME: "web-${GREETING}", BACKEND: "http://db:8081"}
    depends_on: [db]
  db:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8081", NAME: db, DATA_DIR: /data}
    volumes: ["${APP_DATA_DIR}/db:/data", "cache:/cache"]
volumes:
  cache:
`)
	write("duo/icon.svg", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="red"/></svg>`)
	write("crashy/compose.yaml", `x-stackhub:
  name: Crashy
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080", NAME: crashy-web}
    healthcheck: {test: ["CMD", "wget", "-q", "-O-", "http://localhost:8080/health"], interval: 1s, retries: 2}
    depends_on: [db]
  db:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8081", NAME: crashy-db}
`)
	write("risky/compose.yaml", `x-stackhub:
  name: Risky
  icon: `+iconURL+`
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    privileged: true
    environment: {PORT: "8080"}
`)
	return dir
}

// newPlatformEnv is a portal on a real platform (kv, Docker, the test
// store), with an admin signed in; configure changes the platform's
// config first.
func newPlatformEnv(t *testing.T, iconURL string, configure ...func(*platform.Config)) (*env, *platform.Platform, string) {
	t.Helper()
	docker := dockertest.Client(t)
	dockertest.TestImage(t, docker, "stackhub-testapp:dev")
	inst := dockertest.Instance(t, docker)
	cfg := platform.Config{
		Domain: domain, DataDir: t.TempDir(), Instance: inst,
		Stores: []platform.StoreConfig{{Name: "test", Location: testStore(t, iconURL)}},
	}
	for _, f := range configure {
		f(&cfg)
	}
	plat, err := platform.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plat.Close() })
	p := New(Config{Auth: plat.Auth, Registry: plat.Registry, Policies: plat.Apps, Domain: domain, Platform: plat})
	e := &env{t: t, p: p, a: plat.Auth, reg: plat.Registry, jar: map[string]string{}}
	e.signIn()
	var me struct{ CSRF string }
	json.Unmarshal([]byte(e.do("GET", "/api/v1/me", nil).body), &me)
	return e, plat, me.CSRF
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Event string
	Data  string
}

func parseSSE(body string) []sseEvent {
	var out []sseEvent
	for _, blk := range strings.Split(body, "\n\n") {
		var ev sseEvent
		for _, ln := range strings.Split(blk, "\n") {
			if v, ok := strings.CutPrefix(ln, "event: "); ok {
				ev.Event = v
			} else if v, ok := strings.CutPrefix(ln, "data: "); ok {
				ev.Data = v
			}
		}
		if ev.Event != "" {
			out = append(out, ev)
		}
	}
	return out
}

// progress returns the progress events of an operation's stream and its
// end event.
func progress(t *testing.T, r resp) ([]appctl.Event, OperationView) {
	t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("not an event stream: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var evs []appctl.Event
	var end OperationView
	for _, ev := range parseSSE(r.body) {
		switch ev.Event {
		case "progress":
			var e appctl.Event
			if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
				t.Fatalf("progress %s: %v", ev.Data, err)
			}
			evs = append(evs, e)
		case "end":
			json.Unmarshal([]byte(ev.Data), &end)
		}
	}
	if end.ID == "" {
		t.Fatalf("stream without an end event:\n%s", r.body)
	}
	return evs, end
}

func TestAPIv1OnDocker(t *testing.T) {
	// An icon server on loopback that counts its visits.
	iconHits := 0
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	icons := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iconHits++
		if iconHits > 1 {
			http.Error(w, "gone", 500)
			return
		}
		w.Write(png)
	}))
	t.Cleanup(icons.Close)
	e, plat, tok := newPlatformEnv(t, icons.URL+"/risky.png")
	j := func(method, path, body string) resp {
		t.Helper()
		return e.doJSON(method, path, body, tok)
	}

	// The store.
	r := e.do("GET", "/api/v1/store/apps?store=test", nil)
	var list StoreList
	if json.Unmarshal([]byte(r.body), &list); r.status != 200 || len(list.Apps) != 3 || !strings.Contains(r.body, `"ref":"test/duo"`) || !strings.Contains(strings.Join(list.Categories, ","), "utilities") {
		t.Fatalf("store list: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/store/apps?q=greet", nil); !strings.Contains(r.body, `"ref":"test/duo"`) || strings.Contains(r.body, "test/risky") {
		t.Errorf("search: %s", r.body)
	}
	var d StoreAppDetail
	r = e.do("GET", "/api/v1/store/apps/test/duo", nil)
	if err := json.Unmarshal([]byte(r.body), &d); err != nil || r.status != 200 {
		t.Fatalf("store app: %d %s", r.status, r.body)
	}
	if len(d.Images) != 1 || d.Images[0] != "stackhub-testapp:dev" || len(d.Services) != 2 || len(d.Volumes) != 2 || len(d.Fields) != 3 {
		t.Errorf("store app detail: %+v", d)
	}
	if d.Fields[2].Key != "TOKEN" || len(d.Fields[2].Value) != 24 || d.Fields[0].Value != "hello" {
		t.Errorf("form pre-filled with %+v", d.Fields)
	}
	r = e.do("GET", "/api/v1/store/apps/test/risky", nil)
	if !strings.Contains(r.body, `"setting":"privileged"`) || !strings.Contains(r.body, "all of the machine's privileges") {
		t.Errorf("hazards in plain words: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/store/apps/test/nope", nil); r.status != 404 {
		t.Errorf("no such app: %d", r.status)
	}
	if r := e.do("GET", "/icons/test/duo", nil); r.status != 200 || !strings.Contains(r.body, `fill="red"`) || r.header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("store icon: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	// The risky app's icon URL is on loopback and its store is a folder:
	// the portal refuses to connect there (iconguard.go) and shows the
	// generated icon instead.
	if r := e.do("GET", "/icons/test/risky", nil); r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(r.body, "<svg") {
		t.Errorf("icon from a loopback URL: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if iconHits != 0 {
		t.Errorf("the loopback icon URL was fetched %d times", iconHits)
	}
	if r := e.do("GET", "/icons/local/mine", nil); r.status != 200 || !strings.Contains(r.body, ">Mi</text>") || r.header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("generated icon: %d %s", r.status, r.body)
	}

	// Install: each validation error, and nothing is left behind.
	for _, bad := range []struct {
		body string
		want int
		says string
	}{
		{`nonsense`, 400, "JSON"},
		{`{}`, 400, "name a store app"},
		{`{"ref":"test/nope"}`, 404, "no app"},
		{`{"ref":"test/risky"}`, 403, "privileged"},
		{`{"ref":"test/duo","subdomain":"my"}`, 409, "reserved"},
		{`{"ref":"test/duo","subdomain":"Not A Label"}`, 409, "reserved or not a DNS label"},
		{`{"ref":"test/duo","values":{"SIZE":"big"}}`, 400, "not a number"},
		{`{"ref":"test/duo","values":{"NOPE":"1"}}`, 400, "no setting NOPE"},
		{`{"compose":"services: {web: {image: x}}","id":"Bad Id"}`, 400, "give your app an id"},
		{`{"compose":"services:\n  web:\n    image: [oops\n","id":"mine"}`, 400, "line"},
		{`{"folder":"relative/path"}`, 400, "full path"},
	} {
		r := j("POST", "/api/v1/install", bad.body)
		if r.status != bad.want || !strings.Contains(r.body, bad.says) {
			t.Errorf("install %s: %d %s, want %d saying %q", bad.body, r.status, r.body, bad.want, bad.says)
		}
	}
	if r := j("POST", "/api/v1/install", `{"compose":"services:\n  web:\n    image: [oops\n","id":"mine"}`); !strings.Contains(r.body, `"line":`) {
		t.Errorf("a broken compose file's line: %s", r.body)
	}
	if apps, _ := plat.Apps.List(context.Background()); len(apps) != 0 {
		t.Fatalf("refused installs left %+v", apps)
	}
	// An install that fails ends with the error, then the failing
	// service's evidence (its state, healthcheck output, last log lines),
	// not the healthy service's, and leaves nothing behind.
	evs, end := progress(t, j("POST", "/api/v1/install", `{"ref":"test/crashy"}`))
	var evidence []appctl.ServiceEvidence
	for _, ev := range evs {
		if ev.Phase == PhaseEvidence && ev.Evidence != nil {
			evidence = append(evidence, *ev.Evidence)
		}
	}
	if end.Error == "" || !strings.Contains(end.Error, "install crashy") || strings.Contains(end.Error, "last log lines") {
		t.Errorf("failed install: end %+v, want the error in a line, the evidence apart", end)
	}
	if len(evidence) != 1 || evidence[0].Service != "web" || !strings.Contains(evidence[0].State, "unhealthy") ||
		len(evidence[0].Health) == 0 || !strings.Contains(strings.Join(evidence[0].Health, "\n"), "wget") ||
		!strings.Contains(evidence[0].Logs, "crashy-web listening on :8080") || strings.Contains(evidence[0].Logs, "crashy-db") {
		t.Errorf("failed install's evidence: %+v", evidence)
	}
	if apps, _ := plat.Apps.List(context.Background()); len(apps) != 0 {
		t.Errorf("a failed install left %+v", apps)
	}
	if r := e.do("GET", "/api/v1/subdomain?name=greet&app=duo", nil); !strings.Contains(r.body, `"available":true`) || !strings.Contains(r.body, `"host":"greet.`+domain) {
		t.Errorf("subdomain free: %s", r.body)
	}

	// Install with progress over SSE.
	r = j("POST", "/api/v1/install", `{"ref":"test/duo","subdomain":"greet","values":{"GREETING":"hi"}}`)
	evs, end = progress(t, r)
	if end.Error != "" || end.Kind != "install" || end.App != "duo" {
		t.Fatalf("install ended with %+v", end)
	}
	phases := map[appctl.Phase]bool{}
	for _, ev := range evs {
		phases[ev.Phase] = true
	}
	last := evs[len(evs)-1]
	if !phases[appctl.PhaseValidate] || !phases[appctl.PhaseImage] || !phases[appctl.PhaseCompose] || last.Phase != appctl.PhaseDone || !strings.Contains(last.URL, "greet."+domain) {
		t.Errorf("install progress: phases %v, last %+v", phases, last)
	}
	if r := e.do("GET", "/api/v1/subdomain?name=greet&app=other", nil); !strings.Contains(r.body, `"available":false`) || !strings.Contains(r.body, "duo") {
		t.Errorf("subdomain taken: %s", r.body)
	}
	if r := j("POST", "/api/v1/install", `{"ref":"test/duo"}`); r.status != 409 {
		t.Errorf("second install: %d %s", r.status, r.body)
	}

	// Apps, detail, stats.
	var cards []AppCard
	r = e.do("GET", "/api/v1/apps", nil)
	if json.Unmarshal([]byte(r.body), &cards); len(cards) != 1 || cards[0].Status != "running" || cards[0].Host != "greet."+domain || cards[0].Icon != "/icons/test/duo" {
		t.Errorf("apps: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/apps/duo", nil); r.status != 200 || !strings.Contains(r.body, `"operations":[{`) || !strings.Contains(r.body, `"status":"running"`) {
		t.Errorf("app detail: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/apps/nope", nil); r.status != 404 {
		t.Errorf("no app: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/apps/duo", nil); !strings.Contains(r.body, `"events":[{"time":`) || !strings.Contains(r.body, `"kind":"installed"`) {
		t.Errorf("app detail without its events: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/apps/nope/events", nil); r.status != 404 {
		t.Errorf("events of no app: %d %s", r.status, r.body)
	}
	var st appctl.AppStats
	r = e.do("GET", "/api/v1/apps/duo/stats", nil)
	if json.Unmarshal([]byte(r.body), &st); len(st.Services) != 2 || st.MemoryBytes == 0 {
		t.Errorf("app stats: %s", r.body)
	}
	e.p.sampleUsage(context.Background())
	e.p.sampleUsage(context.Background())
	if r := e.do("GET", "/api/v1/apps/duo/history", nil); !strings.HasPrefix(r.body, `[{"time":`) || strings.Count(r.body, "memory_bytes") != 2 {
		t.Errorf("history: %s", r.body)
	}
	var sys SystemStats
	r = e.do("GET", "/api/v1/system/stats?once=true", nil)
	if json.Unmarshal([]byte(r.body), &sys); sys.MemTotal == 0 || sys.DiskTotal == 0 || sys.Cores == 0 || len(sys.Apps) != 1 {
		t.Errorf("system stats: %s", r.body)
	}

	// Logs, whole and followed (over a real connection: the stream stays
	// open).
	for _, bad := range []string{"tail=lots", "follow=maybe", "service=nope"} {
		if r := e.do("GET", "/api/v1/apps/duo/logs?"+bad, nil); r.status != 400 {
			t.Errorf("logs?%s: %d %s", bad, r.status, r.body)
		}
	}
	r = e.do("GET", "/api/v1/apps/duo/logs?tail=all&service=web", nil)
	if evs := parseSSE(r.body); len(evs) < 2 || evs[0].Event != "log" || !strings.Contains(evs[0].Data, `"service":"web"`) || !strings.Contains(r.body, "web-hi listening") || evs[len(evs)-1].Event != "end" {
		t.Errorf("logs:\n%s", r.body)
	}
	followLogs(t, e, "/api/v1/apps/duo/logs?follow=true&tail=5", "db listening")

	// Settings.
	r = e.do("GET", "/api/v1/apps/duo/settings", nil)
	if !strings.Contains(r.body, `"GREETING":"hi"`) || !strings.Contains(r.body, `"TOKEN":"********"`) || !strings.Contains(r.body, `"key":"SIZE"`) {
		t.Errorf("settings: %s", r.body)
	}
	if r := j("PUT", "/api/v1/apps/duo/settings", `{"values":{"SIZE":"big"}}`); r.status != 400 || !strings.Contains(r.body, "not a number") {
		t.Errorf("bad setting: %d %s", r.status, r.body)
	}
	if r := j("PUT", "/api/v1/apps/duo/settings", `{}`); r.status != 400 {
		t.Errorf("no values: %d %s", r.status, r.body)
	}
	_, end = progress(t, j("PUT", "/api/v1/apps/duo/settings", `{"values":{"GREETING":"yo","TOKEN":""}}`))
	if end.Error != "" {
		t.Fatalf("settings change: %+v", end)
	}
	r = e.do("GET", "/api/v1/apps/duo/logs?tail=all&service=web", nil)
	if !strings.Contains(r.body, "web-yo listening") {
		t.Errorf("after the settings change the app did not restart with them:\n%s", r.body)
	}

	// Address.
	for _, bad := range []struct {
		body string
		want int
	}{{`{}`, 400}, {`{"subdomain":"my"}`, 409}, {`{"subdomain":"Not OK"}`, 409}} {
		if r := j("PUT", "/api/v1/apps/duo/subdomain", bad.body); r.status != bad.want {
			t.Errorf("move %s: %d %s", bad.body, r.status, r.body)
		}
	}
	_, end = progress(t, j("PUT", "/api/v1/apps/duo/subdomain", `{"subdomain":"hey"}`))
	if _, ok := plat.Registry.Lookup("hey." + domain); end.Error != "" || !ok {
		t.Fatalf("move: %+v", end)
	}
	if _, ok := plat.Registry.Lookup("greet." + domain); ok {
		t.Error("the old address still routes after the move")
	}
	_, end = progress(t, j("PUT", "/api/v1/apps/duo/subdomain", `{"subdomain":"greet"}`))
	if end.Error != "" {
		t.Fatalf("move back: %+v", end)
	}

	// Policy.
	if r := j("PUT", "/api/v1/apps/duo/policy", `{"access":"everyone"}`); r.status != 400 {
		t.Errorf("bad policy: %d %s", r.status, r.body)
	}
	if r := j("PUT", "/api/v1/apps/duo/policy", `{"access":"restricted","groups":["family"]}`); r.status != 200 || !strings.Contains(r.body, `"family"`) {
		t.Errorf("policy: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/apps/duo/policy", nil); !strings.Contains(r.body, `"access":"restricted"`) {
		t.Errorf("policy read back: %s", r.body)
	}
	if ent, _ := plat.Registry.Lookup("greet." + domain); ent.Policy.Access != "restricted" {
		t.Errorf("the gate's policy: %+v", ent.Policy)
	}

	// Stop and start.
	_, end = progress(t, j("POST", "/api/v1/apps/duo/stop", ``))
	if r := e.do("GET", "/api/v1/apps", nil); end.Error != "" || !strings.Contains(r.body, `"status":"stopped"`) {
		t.Errorf("after stop (%+v): %s", end, r.body)
	}
	_, end = progress(t, j("POST", "/api/v1/apps/duo/start", ``))
	if r := e.do("GET", "/api/v1/apps", nil); end.Error != "" || !strings.Contains(r.body, `"status":"running"`) {
		t.Errorf("after start (%+v): %s", end, r.body)
	}
	if r := j("POST", "/api/v1/apps/nope/restart", ``); r.status != 404 {
		t.Errorf("restart of no app: %d", r.status)
	}
	// The app's recent events, newest first, on its page and in the API.
	var events []appctl.AppEvent
	json.Unmarshal([]byte(e.do("GET", "/api/v1/apps/duo/events", nil).body), &events)
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	if got := strings.Join(kinds, ","); got != "started,stopped,moved,moved,settings changed,installed" {
		t.Errorf("events: %s", got)
	}
	if r := e.do("GET", "/apps/duo", nil); !strings.Contains(r.body, "<strong>settings changed</strong>") || !strings.Contains(r.body, "<strong>stopped</strong>") {
		t.Errorf("app page without its recent events:\n%s", r.body)
	}
	var ops []OperationView
	json.Unmarshal([]byte(e.do("GET", "/api/v1/operations?app=duo", nil).body), &ops)
	if len(ops) != 6 || ops[0].Kind != "start" || ops[5].Kind != "install" {
		t.Errorf("operations: %+v", ops)
	}
	if r := e.do("GET", "/api/v1/operations/"+ops[5].ID, nil); !strings.Contains(r.body, "event: end") {
		t.Errorf("replay of a finished operation: %s", r.body)
	}

	// Stores.
	for _, bad := range []string{`{"name":"Bad Name","location":"/tmp"}`, `{"name":"more"}`, `{"name":"more","location":"/no/such/folder"}`, `{"name":"test","location":"/tmp"}`} {
		if r := j("POST", "/api/v1/stores", bad); r.status != 400 {
			t.Errorf("add store %s: %d %s", bad, r.status, r.body)
		}
	}
	if r := j("POST", "/api/v1/stores", `{"name":"more","location":"`+testStore(t, "")+`"}`); r.status != 201 || !strings.Contains(r.body, `"apps":3`) {
		t.Errorf("add store: %d %s", r.status, r.body)
	}
	if r := j("POST", "/api/v1/stores/refresh", ``); r.status != 200 || !strings.Contains(r.body, `"name":"more"`) {
		t.Errorf("refresh: %d %s", r.status, r.body)
	}
	if r := j("DELETE", "/api/v1/stores/test", ``); r.status != 400 || !strings.Contains(r.body, "Caddyfile") {
		t.Errorf("remove a configured store: %d %s", r.status, r.body)
	}
	if r := j("DELETE", "/api/v1/stores/more", ``); r.status != 200 || strings.Contains(r.body, `"name":"more"`) {
		t.Errorf("remove store: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/hosts", nil); !strings.Contains(r.body, `"host":"greet.`+domain+`","app":"duo"`) {
		t.Errorf("hosts: %s", r.body)
	}

	// Remove.
	if r := j("DELETE", "/api/v1/apps/duo?keep_data=perhaps", ``); r.status != 400 {
		t.Errorf("bad keep_data: %d", r.status)
	}
	_, end = progress(t, j("DELETE", "/api/v1/apps/duo", ``))
	if r := e.do("GET", "/api/v1/apps", nil); end.Error != "" || r.body != "[]" {
		t.Errorf("after remove (%+v): %s", end, r.body)
	}
	if _, ok := plat.Registry.Lookup("greet." + domain); ok {
		t.Error("removed app still routed")
	}
}

// followLogs reads a followed log stream over a real connection until a
// line containing want arrives.
func followLogs(t *testing.T, e *env, path, want string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.p.Serve(ln)
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+ln.Addr().String()+path, nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: e.jar[SessionCookie]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if ln := sc.Text(); strings.HasPrefix(ln, "data: ") && strings.Contains(ln, want) {
			return // the stream is still open: followed
		} else if ln == "event: end" {
			t.Fatal("a followed log stream ended")
		}
	}
	t.Fatalf("no log line with %q in the followed stream: %v", want, sc.Err())
}
