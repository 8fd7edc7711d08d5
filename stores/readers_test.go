package stores

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/compose-spec/compose-go/v2/types"
)

// samplesEnv names the folder of real apps from the CasaOS, Runtipi and
// Umbrel stores (casaos/, runtipi/, umbrel/ inside; ../shared/samples beside
// the repository here). The repository does not ship them: without the
// variable, the tests of the real samples skip, and the fixtures we wrote in
// testdata/stores (fixtures_test.go) still cover every reader path.
const samplesEnv = "STACKHUB_STORE_SAMPLES"

// samplesDir is the folder of real app samples of a store format.
func samplesDir(t *testing.T, format string) string {
	t.Helper()
	root := os.Getenv(samplesEnv)
	if root == "" {
		t.Skipf("real store samples not read: set %s to their folder (e.g. ../shared/samples) to test the readers on them", samplesEnv)
	}
	dir := filepath.Join(root, format)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("%s=%s: no %s samples there: %v", samplesEnv, root, format, err)
	}
	return dir
}

// sampleWant is what a converted sample must be.
type sampleWant struct {
	main    string
	port    int
	name    string
	tagline string // prefix
	version string
	// binds maps a container path of a service ("service:/target") to the
	// host path it must have, relative to APP_DATA_DIR ("" for the folder
	// itself; "!/abs" for an absolute host path kept as is).
	binds     map[string]string
	ports     []Port   // host publications left (besides the web UI)
	fields    []string // field keys that must exist
	hazards   []string // settings that must be flagged
	noHazards bool
}

// loadSample checks what every converted app must be, whatever its store:
// a native compose file compose-go loads and validates with the install
// variables, with the expected main service and port, no publication of
// the web UI, data under APP_DATA_DIR.
func checkApp(t *testing.T, app App, w sampleWant) *types.Project {
	t.Helper()
	if app.Unavailable != "" {
		t.Fatalf("%s: unavailable: %s", app.ID, app.Unavailable)
	}
	if !ValidID(app.ID) {
		t.Errorf("id %q is not valid", app.ID)
	}
	if app.MainService != w.main || app.MainPort != w.port {
		t.Errorf("%s: main = %s:%d, want %s:%d", app.ID, app.MainService, app.MainPort, w.main, w.port)
	}
	if w.name != "" && app.Name != w.name {
		t.Errorf("%s: name = %q, want %q", app.ID, app.Name, w.name)
	}
	if w.tagline != "" && !strings.HasPrefix(app.Tagline, w.tagline) {
		t.Errorf("%s: tagline = %q, want %q…", app.ID, app.Tagline, w.tagline)
	}
	if w.version != "" && app.Version != w.version {
		t.Errorf("%s: version = %q, want %q", app.ID, app.Version, w.version)
	}
	if app.Description == "" {
		t.Errorf("%s: no description", app.ID)
	}
	env := ExampleEnv(app)
	p, err := LoadProject(context.Background(), app, env)
	if err != nil {
		t.Fatalf("%s: compose-go: %v\n%s", app.ID, err, app.Compose)
	}
	main, ok := p.Services[w.main]
	if !ok {
		t.Fatalf("%s: no service %q in the project", app.ID, w.main)
	}
	for _, pc := range main.Ports {
		if int(pc.Target) == w.port && pc.Published != "" {
			t.Errorf("%s: the web UI port %d is still published (%s)", app.ID, w.port, pc.Published)
		}
	}
	dataDir := env["APP_DATA_DIR"]
	for key, want := range w.binds {
		svcName, target, _ := strings.Cut(key, ":")
		svc, ok := p.Services[svcName]
		if !ok {
			t.Errorf("%s: no service %q", app.ID, svcName)
			continue
		}
		found := false
		for _, v := range svc.Volumes {
			if v.Target != target {
				continue
			}
			found = true
			wantSrc := filepath.Join(dataDir, want)
			if abs, ok := strings.CutPrefix(want, "!"); ok {
				wantSrc = abs
			}
			if v.Source != wantSrc {
				t.Errorf("%s: %s mounts %s, want %s", app.ID, key, v.Source, wantSrc)
			}
		}
		if !found {
			t.Errorf("%s: %s is not mounted", app.ID, key)
		}
	}
	// Every bind mount of a converted app is in its data folder, unless it
	// is flagged as a hazard (or the read-only time zone).
	flagged := map[string]bool{}
	for _, h := range app.Hazards {
		flagged[h.Setting] = true
	}
	for _, name := range p.ServiceNames() {
		for _, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if !strings.HasPrefix(v.Source, dataDir+"/") && v.Source != dataDir && !flagged["volumes: "+v.Source] && !(v.ReadOnly && v.Source == "/etc/localtime") {
				t.Errorf("%s: service %s mounts %s, outside the data folder and not flagged", app.ID, name, v.Source)
			}
		}
	}
	if len(w.ports) > 0 || app.Ports != nil {
		var got []Port
		for _, pt := range app.Ports {
			got = append(got, Port{Service: pt.Service, Target: pt.Target, Published: pt.Published, Protocol: pt.Protocol})
		}
		if !slices.Equal(got, w.ports) {
			t.Errorf("%s: ports = %+v, want %+v", app.ID, got, w.ports)
		}
	}
	keys := map[string]Field{}
	for _, f := range app.Fields {
		keys[f.Key] = f
	}
	for _, k := range w.fields {
		if _, ok := keys[k]; !ok {
			t.Errorf("%s: no field %s (fields: %+v)", app.ID, k, app.Fields)
		}
	}
	for _, h := range w.hazards {
		if !flagged[h] {
			t.Errorf("%s: hazard %q not flagged (hazards: %v)", app.ID, h, app.Hazards)
		}
	}
	if w.noHazards && len(app.Hazards) > 0 {
		t.Errorf("%s: unexpected hazards %v", app.ID, app.Hazards)
	}
	// The converted compose file is a native app: reading it back gives
	// the same app.
	back, err := parseNative(app.Compose, "x")
	if err != nil {
		t.Fatalf("%s: converted compose file is not a native app: %v", app.ID, err)
	}
	if back.ID != app.ID || back.MainService != app.MainService || back.MainPort != app.MainPort || back.Name != app.Name || len(back.Fields) != len(app.Fields) {
		t.Errorf("%s: read back as %s %s:%d %q with %d fields", app.ID, back.ID, back.MainService, back.MainPort, back.Name, len(back.Fields))
	}
	return p
}

func readSampleStore(t *testing.T, format Format) map[string]App {
	t.Helper()
	return readStoreDir(t, samplesDir(t, string(format)), format)
}

// readStoreDir reads the store in dir, checks that its format is detected,
// and returns its apps by id.
func readStoreDir(t *testing.T, dir string, format Format) map[string]App {
	t.Helper()
	apps, err := ReadStore(context.Background(), os.DirFS(dir), format)
	if err != nil {
		t.Fatal(err)
	}
	// Auto-detection agrees.
	f, _, err := DetectFormat(os.DirFS(dir))
	if err != nil || f != format {
		t.Errorf("DetectFormat(%s) = %q, %v", dir, f, err)
	}
	byID := map[string]App{}
	for _, a := range apps {
		byID[a.ID] = a
	}
	return byID
}

func TestCasaOSSamples(t *testing.T) {
	apps := readSampleStore(t, FormatCasaOS)
	want := map[string]sampleWant{
		"gitea": {main: "gitea", port: 3000, name: "Gitea", tagline: "Self-hosted software development", version: "1.26.2",
			binds:  map[string]string{"gitea:/data": "data"},
			ports:  []Port{{Service: "gitea", Target: 22, Published: "222", Protocol: "tcp"}},
			fields: []string{"USER_UID", "USER_GID"}, noHazards: true},
		"immich": {main: "immich-server", port: 2283, name: "Immich", version: "2.7.2",
			binds: map[string]string{
				"immich-server:/usr/src/app/upload": "shared/Gallery/immich",
				"database:/var/lib/postgresql/data": "pgdata",
				"immich-machine-learning:/cache":    "model-cache",
			}, noHazards: true},
		"jellyfin": {main: "jellyfin", port: 8096, name: "Jellyfin", tagline: "The personal Media System", version: "10.11.10",
			binds: map[string]string{"jellyfin:/config": "config", "jellyfin:/Media": "shared/Media", "jellyfin:/opt/vc/lib": "!/opt/vc/lib"},
			ports: []Port{
				{Service: "jellyfin", Target: 8920, Published: "8921", Protocol: "tcp"},
				{Service: "jellyfin", Target: 7359, Published: "7359", Protocol: "tcp"},
				{Service: "jellyfin", Target: 1900, Published: "1901", Protocol: "tcp"},
			},
			hazards: []string{"devices: /dev/dri", "volumes: /opt/vc/lib"}},
		"nextcloud": {main: "nextcloud", port: 80, name: "Nextcloud", tagline: "Content collaboration platform", version: "33.0.3",
			binds: map[string]string{"nextcloud:/var/www/html": "var/www/html"},
			ports: []Port{{Service: "nextcloud", Target: 443, Published: "10443", Protocol: "tcp"}}, noHazards: true},
		"uptimekuma": {main: "uptimekuma", port: 3001, name: "Uptime Kuma", tagline: "A fancy monitoring tool", version: "2.4.0",
			binds: map[string]string{"uptimekuma:/app/data": "app/data"}, noHazards: true},
		"vaultwarden": {main: "vaultwarden", port: 80, name: "Vaultwarden", tagline: "A self-hosted Bitwarden server", version: "1.36.0",
			binds: map[string]string{"vaultwarden:/data": "data"}, noHazards: true},
	}
	if len(apps) != len(want) {
		t.Errorf("read %d apps, want %d", len(apps), len(want))
	}
	for id, w := range want {
		t.Run(id, func(t *testing.T) {
			app, ok := apps[id]
			if !ok {
				t.Fatalf("no app %s", id)
			}
			p := checkApp(t, app, w)
			// CasaOS specifics: no x-casaos left, no container_name, no
			// network_mode: bridge, language maps reduced to English.
			if strings.Contains(string(app.Compose), "x-casaos") {
				t.Error("x-casaos left in the compose file")
			}
			for _, s := range p.Services {
				if s.ContainerName != "" || s.NetworkMode == "bridge" {
					t.Errorf("service %s: container_name %q, network_mode %q", s.Name, s.ContainerName, s.NetworkMode)
				}
			}
			if !strings.HasPrefix(app.Icon, "https://") {
				t.Errorf("icon = %q", app.Icon)
			}
		})
	}
	// Details: Gitea's ports are described, its fields default to the
	// compose file's values; Jellyfin keeps $PUID/$TZ as install variables;
	// Immich's services still reach each other by their old container names.
	g := apps["gitea"]
	if len(g.Ports) != 1 || g.Ports[0].Description != "SSH Port" {
		t.Errorf("gitea ports = %+v", g.Ports)
	}
	for _, f := range g.Fields {
		if f.Default != "1000" || f.Type != FieldNumber {
			t.Errorf("gitea field %+v", f)
		}
	}
	j := apps["jellyfin"]
	pj, _ := LoadProject(context.Background(), j, map[string]string{"APP_ID": "jf", "APP_DATA_DIR": "/d", "TZ": "Europe/Paris", "PUID": "1001", "PGID": "1002"})
	if e := pj.Services["jellyfin"].Environment; e["TZ"] == nil || *e["TZ"] != "Europe/Paris" || *e["PUID"] != "1001" || *e["PGID"] != "1002" {
		t.Errorf("jellyfin environment = %v", e)
	}
	im := apps["immich"]
	pi, _ := LoadProject(context.Background(), im, ExampleEnv(im))
	if n := pi.Services["database"].Networks["immich"]; n == nil || !slices.Contains(n.Aliases, "immich-postgres") {
		t.Errorf("immich database networks = %+v", pi.Services["database"].Networks)
	}
}

func TestRuntipiSamples(t *testing.T) {
	apps := readSampleStore(t, FormatRuntipi)
	want := map[string]sampleWant{
		"gitea": {main: "gitea", port: 3000, name: "Gitea", version: "1.27.2",
			binds: map[string]string{"gitea:/data": "data/gitea", "gitea-db:/var/lib/postgresql/data": "data/postgres"},
			ports: []Port{{Service: "gitea", Target: 22, Published: "222", Protocol: "tcp"}}, noHazards: true},
		"immich": {main: "immich", port: 2283, name: "Immich", version: "v3.1.0",
			binds: map[string]string{
				"immich:/usr/src/app/upload":         "shared/data/images/immich",
				"immich-machine-learning:/cache":     "data/immich-ml-cache",
				"immich-db:/var/lib/postgresql/data": "data/db",
			},
			fields: []string{"DB_PASSWORD", "JWT_SECRET", "IMMICH_TYPESENSE_API_KEY"}, noHazards: true},
		"jellyfin": {main: "jellyfin", port: 8096, name: "Jellyfin", tagline: "A media server for your home collection", version: "10.11.11",
			binds: map[string]string{"jellyfin:/config": "data/config", "jellyfin:/media/data": "shared/data"}, noHazards: true},
		"nextcloud": {main: "nextcloud", port: 80, name: "Nextcloud", tagline: "Productivity platform", version: "33-apache",
			binds:  map[string]string{"nextcloud:/var/www/html": "data/nextcloud", "cron:/var/www/html": "data/nextcloud", "db-nextcloud:/var/lib/postgresql/data": "data/db"},
			fields: []string{"NEXTCLOUD_ADMIN_USER", "NEXTCLOUD_ADMIN_PASSWORD"}, noHazards: true},
		"uptime-kuma": {main: "uptime-kuma", port: 3001, name: "Uptime Kuma", version: "2",
			binds:   map[string]string{"uptime-kuma:/app/data": "data", "uptime-kuma:/var/run/docker.sock": "!/var/run/docker.sock"},
			hazards: []string{"volumes: /var/run/docker.sock"}},
		"vaultwarden": {main: "vaultwarden", port: 80, name: "VaultWarden", tagline: "All your passwords in your control!", version: "1.37.1",
			binds: map[string]string{"vaultwarden:/data": "data"}, fields: []string{"VAULTWARDEN_ADMIN_PASSWORD"}, noHazards: true},
	}
	if len(apps) != len(want) {
		t.Errorf("read %d apps, want %d", len(apps), len(want))
	}
	for id, w := range want {
		t.Run(id, func(t *testing.T) {
			app, ok := apps[id]
			if !ok {
				t.Fatalf("no app %s", id)
			}
			p := checkApp(t, app, w)
			if strings.Contains(string(app.Compose), "traefik") || strings.Contains(string(app.Compose), "tipi_main_network") {
				t.Errorf("Traefik labels or Runtipi's network left:\n%s", app.Compose)
			}
			if !strings.HasPrefix(app.Description, "#") {
				t.Errorf("description is not metadata/description.md: %.40q", app.Description)
			}
			// The same app from the legacy docker-compose.yml gives the same
			// web UI.
			dir := filepath.Join(samplesDir(t, "runtipi"), id)
			cfg, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			yml, _ := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
			legacy, err := convertRuntipi(context.Background(), cfg, nil, yml, nil, id)
			if err != nil {
				t.Fatalf("legacy compose: %v", err)
			}
			lw := w
			lw.ports = nil
			if id == "gitea" {
				lw.ports = []Port{{Service: "gitea", Target: 22, Published: "222", Protocol: "tcp"}}
			}
			checkApp(t, legacy, lw)
			_ = p
		})
	}
	// Field translation: random fields are generated secrets of min
	// characters; passwords are secret; required stays required.
	for _, f := range apps["immich"].Fields {
		if !f.Random || !f.Secret || f.RandomLength != 32 || f.Required {
			t.Errorf("immich field %+v", f)
		}
	}
	nc := apps["nextcloud"].Fields
	if nc[0].Key != "NEXTCLOUD_ADMIN_USER" || !nc[0].Required || nc[0].Type != FieldText || nc[0].Label != "Username" {
		t.Errorf("nextcloud field 0 = %+v", nc[0])
	}
	if nc[1].Key != "NEXTCLOUD_ADMIN_PASSWORD" || !nc[1].Secret || nc[1].Type != FieldPassword {
		t.Errorf("nextcloud field 1 = %+v", nc[1])
	}
	// ${APP_PROTOCOL:-http} is https here; ${APP_DOMAIN} is the app's host.
	j := apps["jellyfin"]
	pj, _ := LoadProject(context.Background(), j, ExampleEnv(j))
	if v := pj.Services["jellyfin"].Environment["JELLYFIN_PublishedServerUrl"]; v == nil || *v != "https://jellyfin.home.example.com/" {
		t.Errorf("JELLYFIN_PublishedServerUrl = %v", v)
	}
}

func TestUmbrelSamples(t *testing.T) {
	apps := readSampleStore(t, FormatUmbrel)
	want := map[string]sampleWant{
		"gitea": {main: "server", port: 8085, name: "Gitea", tagline: "A painless self-hosted Git service", version: "1.27.2",
			binds: map[string]string{"server:/var/lib/gitea": "data/gitea/data", "server:/etc/gitea": "data/gitea/config", "db:/var/lib/mysql": "data/db"},
			ports: []Port{{Service: "server", Target: 2222, Published: "2222", Protocol: "tcp"}}, noHazards: true},
		"immich": {main: "server", port: 2283, name: "Immich", version: "v3.1.0",
			binds:  map[string]string{"server:/data": "data/upload", "postgres:/var/lib/postgresql/data": "data/postgres"},
			fields: []string{"APP_SEED"}, noHazards: true},
		"jellyfin": {main: "server", port: 8096, name: "Jellyfin", version: "10.11.11",
			binds: map[string]string{"server:/config": "data/config", "server:/downloads": "shared/downloads"},
			ports: []Port{{Service: "server", Target: 7359, Published: "7359", Protocol: "udp"}}, noHazards: true},
		"nextcloud": {main: "web", port: 80, name: "Nextcloud", version: "34.0.3",
			binds:  map[string]string{"web:/var/www/html": "data/nextcloud", "db:/var/lib/mysql": "data/db"},
			fields: []string{"APP_PASSWORD"}, noHazards: true},
		"uptime-kuma": {main: "server", port: 3001, name: "Uptime Kuma", version: "2.5.0",
			binds: map[string]string{"server:/app/data": "data/uptime-kuma"}, noHazards: true},
		"vaultwarden": {main: "server", port: 8089, name: "Vaultwarden", version: "1.37.1",
			binds: map[string]string{"server:/data": "data"}, noHazards: true},
	}
	if len(apps) != len(want) {
		t.Errorf("read %d apps, want %d", len(apps), len(want))
	}
	for id, w := range want {
		t.Run(id, func(t *testing.T) {
			app, ok := apps[id]
			if !ok {
				t.Fatalf("no app %s", id)
			}
			p := checkApp(t, app, w)
			if _, ok := p.Services["app_proxy"]; ok {
				t.Error("app_proxy is still a service")
			}
			// Services keep their Umbrel container names as aliases.
			for name, s := range p.Services {
				n := s.Networks["default"]
				if n == nil || !slices.Contains(n.Aliases, id+"_"+name+"_1") {
					t.Errorf("service %s: networks %+v lack alias %s_%s_1", name, s.Networks, id, name)
				}
			}
		})
	}
	// exports.sh was read as data: Gitea's SSH port is the exported 2222.
	g := apps["gitea"]
	pg, _ := LoadProject(context.Background(), g, ExampleEnv(g))
	if v := pg.Services["server"].Environment["GITEA__server__SSH_PORT"]; v == nil || *v != "2222" {
		t.Errorf("GITEA__server__SSH_PORT = %v", v)
	}
	// $APP_PASSWORD is a generated password the user can read (Nextcloud's
	// admin password); the computed APP_NEXTCLOUD_LOCAL_IPS is a setting
	// with a warning.
	nc := apps["nextcloud"]
	var pw *Field
	for i := range nc.Fields {
		if nc.Fields[i].Key == "APP_PASSWORD" {
			pw = &nc.Fields[i]
		}
	}
	if pw == nil || !pw.Random || pw.Secret {
		t.Errorf("APP_PASSWORD field = %+v", pw)
	}
	if !strings.Contains(strings.Join(nc.Warnings, "\n"), "APP_NEXTCLOUD_LOCAL_IPS") {
		t.Errorf("nextcloud warnings = %v", nc.Warnings)
	}
	if !strings.Contains(nc.Description, "Sign in as umbrel") {
		t.Errorf("nextcloud description lacks the default user: %q", nc.Description)
	}
	for _, a := range apps {
		if !strings.HasPrefix(a.Icon, "https://getumbrel.github.io/umbrel-apps-gallery/") {
			t.Errorf("%s icon = %q", a.ID, a.Icon)
		}
		for k := range a.Seed {
			if k == "exports.sh" || k == "umbrel-app.yml" || k == "docker-compose.yml" {
				t.Errorf("%s: %s is seeded into the data folder", a.ID, k)
			}
		}
	}
}

// An Umbrel app's exports.sh and hooks are never run, only read.
func TestUmbrelScriptsNotRun(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	fsys := fstest.MapFS{
		"evil/umbrel-app.yml": {Data: []byte("id: evil\nname: Evil\nport: 8080\n")},
		"evil/docker-compose.yml": {Data: []byte(`services:
  app_proxy:
    environment:
      APP_HOST: evil_web_1
      APP_PORT: $APP_EVIL_PORT
  web:
    image: nginx:1.27.0
    environment:
      X: ${APP_EVIL_X}
`)},
		"evil/exports.sh":      {Data: []byte("export APP_EVIL_PORT=\"8080\"\nexport APP_EVIL_X=$(touch " + marker + ")\ntouch " + marker + "\n")},
		"evil/hooks/pre-start": {Data: []byte("#!/bin/sh\ntouch " + marker + "\n"), Mode: 0o755},
	}
	apps, err := ReadStore(context.Background(), fsys, FormatUmbrel)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].Unavailable != "" || apps[0].MainPort != 8080 || apps[0].MainService != "web" {
		t.Fatalf("apps = %+v", apps)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a store script was executed")
	}
	w := strings.Join(apps[0].Warnings, "\n")
	if !strings.Contains(w, "hooks/pre-start") || !strings.Contains(w, "APP_EVIL_X") {
		t.Errorf("warnings = %v", apps[0].Warnings)
	}
	if _, seeded := apps[0].Seed["hooks/pre-start"]; seeded {
		t.Error("a hook is seeded into the data folder")
	}
}

// One broken app of a store does not hide the others; it is listed
// unavailable, with the reason.
func TestBrokenAppListedUnavailable(t *testing.T) {
	good := "name: good\nservices:\n  web:\n    image: nginx:1.27.0\n    ports: [\"8080:80\"]\nx-casaos:\n  main: web\n  port_map: \"8080\"\n  title: {en_us: Good}\n"
	for _, tc := range []struct {
		format Format
		fsys   fstest.MapFS
		bad    string
		reason string
	}{
		{FormatCasaOS, fstest.MapFS{
			"Apps/Good/docker-compose.yml": {Data: []byte(good)},
			"Apps/Bad/docker-compose.yml":  {Data: []byte("services:\n  web: [unclosed\n")},
		}, "bad", "invalid YAML"},
		{FormatRuntipi, fstest.MapFS{
			"apps/good/config.json":         {Data: []byte(`{"id":"good","name":"Good","port":8001,"short_desc":"x","description":"d"}`)},
			"apps/good/docker-compose.json": {Data: []byte(`{"services":[{"name":"good","image":"nginx:1.27.0","isMain":true,"internalPort":80}]}`)},
			"apps/bad/config.json":          {Data: []byte(`{"id":"bad",`)},
			"apps/bad/docker-compose.json":  {Data: []byte(`{"services":[]}`)},
		}, "bad", "invalid JSON"},
		{FormatUmbrel, fstest.MapFS{
			"good/umbrel-app.yml":     {Data: []byte("id: good\nname: Good\nport: 8001\ndescription: d\n")},
			"good/docker-compose.yml": {Data: []byte("services:\n  app_proxy:\n    environment:\n      APP_HOST: good_web_1\n      APP_PORT: 80\n  web:\n    image: nginx:1.27.0\n")},
			"bad/umbrel-app.yml":      {Data: []byte("id: bad\nname: Bad\n")},
			"bad/docker-compose.yml":  {Data: []byte("services:\n  app_proxy:\n    environment:\n      APP_HOST: nowhere\n      APP_PORT: 80\n  web:\n    image: nginx:1.27.0\n")},
		}, "bad", "names no service"},
		{FormatNative, fstest.MapFS{
			"good/compose.yaml": {Data: []byte("x-stackhub:\n  name: Good\n  main: {service: web, port: 80}\nservices:\n  web:\n    image: nginx:1.27.0\n")},
			"bad/compose.yaml":  {Data: []byte("x-stackhub:\n  main: {service: web, port: 80}\nservices:\n  web:\n    image: nginx:1.27.0\n    depends_on: [missing]\n")},
		}, "bad", "invalid compose file"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			apps, err := ReadStore(context.Background(), tc.fsys, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) != 2 {
				t.Fatalf("got %d apps: %+v", len(apps), apps)
			}
			var good, bad App
			for _, a := range apps {
				if a.ID == tc.bad {
					bad = a
				} else {
					good = a
				}
			}
			if good.ID != "good" || good.Unavailable != "" || good.MainService == "" {
				t.Errorf("good app = %+v", good)
			}
			if !strings.Contains(bad.Unavailable, tc.reason) {
				t.Errorf("bad app unavailable = %q, want it to say %q", bad.Unavailable, tc.reason)
			}
		})
	}
}

func TestHazards(t *testing.T) {
	compose := `services:
  web:
    image: nginx:1.27.0
    privileged: true
    network_mode: host
    pid: host
    ipc: host
    cap_add: [NET_ADMIN]
    devices: ["/dev/ttyUSB0:/dev/ttyUSB0"]
    security_opt: ["apparmor:unconfined"]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /:/host
      - /etc:/host-etc
      - /home/me:/me
      - /etc/localtime:/etc/localtime:ro
      - ${APP_DATA_DIR}/data:/data
      - ./config.yml:/config.yml
      - cache:/cache
volumes:
  cache:
`
	hz, err := Hazards([]byte(compose))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range hz {
		got[h.Setting] = true
		if h.Service != "web" || h.Reason == "" {
			t.Errorf("hazard %+v", h)
		}
	}
	for _, w := range []string{"privileged", "network_mode: host", "pid: host", "ipc: host", "cap_add: NET_ADMIN",
		"devices: /dev/ttyUSB0", "security_opt: apparmor:unconfined", "volumes: /var/run/docker.sock", "volumes: /",
		"volumes: /etc", "volumes: /home/me"} {
		if !got[w] {
			t.Errorf("not flagged: %s", w)
		}
	}
	if len(hz) != 11 {
		t.Errorf("%d hazards, want 11: %v", len(hz), hz)
	}
	clean, err := Hazards([]byte("services:\n  web:\n    image: nginx:1.27.0\n    volumes: [\"${APP_DATA_DIR}:/data\", \"./x:/x:ro\"]\n"))
	if err != nil || len(clean) != 0 {
		t.Errorf("clean app: %v, %v", clean, err)
	}
	if _, err := Hazards([]byte("services: [")); err == nil {
		t.Error("broken compose file: no error")
	}
}

func TestRewriteVars(t *testing.T) {
	m := func(name string) (varRewrite, bool) {
		switch name {
		case "A":
			return renameVar("B"), true
		case "L":
			return literalVar("x$y"), true
		case "E":
			return literalVar(""), true
		case "X":
			return exprVar("${APP_DATA_DIR}/x"), true
		}
		return varRewrite{}, false
	}
	for in, want := range map[string]string{
		"$A":                  "${B}",
		"${A}/p":              "${B}/p",
		"${A:-$L}":            "${B:-x$$y}",
		"$$A":                 "$$A",
		"${L}":                "x$$y",
		"${E:-def}":           "def",
		"${E-def}":            "",
		"${L:+alt}":           "alt",
		"${E:+alt}":           "",
		"$X":                  "${APP_DATA_DIR}/x",
		"${U:-${A}}":          "${U:-${B}}",
		"${unclosed":          "${unclosed",
		"plain $ dollar":      "plain $ dollar",
		"${A:?need it}":       "${B:?need it}",
		"a${X}b$Lc":           "a${APP_DATA_DIR}/xb$Lc",
		"${1bad}":             "${1bad}",
		"/DATA/AppData/$A/db": "/DATA/AppData/${B}/db",
	} {
		if got := rewriteVars(in, m); got != want {
			t.Errorf("rewriteVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFormatAndDetect(t *testing.T) {
	for s, want := range map[string]Format{"": FormatAuto, "auto": FormatAuto, "CasaOS": FormatCasaOS, "runtipi": FormatRuntipi, "umbrel": FormatUmbrel, "native": FormatNative} {
		if f, err := ParseFormat(s); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("yunohost"); err == nil {
		t.Error("ParseFormat(yunohost): no error")
	}
	// A GitHub archive's single top folder is looked into.
	fsys := fstest.MapFS{
		"umbrel-apps-master/README.md":              {Data: []byte("x")},
		"umbrel-apps-master/app/umbrel-app.yml":     {Data: []byte("id: app\n")},
		"umbrel-apps-master/app/docker-compose.yml": {Data: []byte("services: {}\n")},
	}
	f, root, err := DetectFormat(fsys)
	if err != nil || f != FormatUmbrel || root != "umbrel-apps-master" {
		t.Errorf("DetectFormat = %q %q %v", f, root, err)
	}
	if _, _, err := DetectFormat(fstest.MapFS{"README.md": {Data: []byte("x")}}); err == nil {
		t.Error("DetectFormat of a tree with no store: no error")
	}
}

// A store app's compose file may not pull in other files: reading a store
// never reads the host's files.
func TestStoreAppMayNotReferenceFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"inc/compose.yaml": {Data: []byte("x-stackhub:\n  main: {service: web, port: 80}\ninclude: [/etc/stackhub/other.yaml]\nservices:\n  web:\n    image: nginx:1.27.0\n")},
		"ext/compose.yaml": {Data: []byte("x-stackhub:\n  main: {service: web, port: 80}\nservices:\n  web:\n    extends:\n      file: /etc/passwd\n      service: root\n")},
	}
	apps, err := ReadStore(context.Background(), fsys, FormatNative)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Unavailable == "" || (!strings.Contains(a.Unavailable, "include") && !strings.Contains(a.Unavailable, "may not reference another file")) {
			t.Errorf("%s: unavailable = %q", a.ID, a.Unavailable)
		}
	}
}
