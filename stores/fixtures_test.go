package stores

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata/stores are apps we wrote ourselves in the shapes
// of the real stores' apps, so that a plain clone of the repository tests
// every reader path (the real samples are read only when
// STACKHUB_STORE_SAMPLES names them, readers_test.go):
//
//	casaos/Whoami    top-level and per-service x-casaos, port_map on a
//	                 published port, texts in several languages, $PUID/$TZ
//	casaos/Notes     two services reaching each other by container_name
//	runtipi/whoami   config.json + docker-compose.json (dynamic compose),
//	                 with the legacy docker-compose.yml beside it
//	runtipi/monitor  config.json + legacy docker-compose.yml only, with a
//	                 hazard (the Docker socket)
//	umbrel/whoami    umbrel-app.yml + docker-compose.yml with app_proxy,
//	                 exports.sh
//	umbrel/notes     app_proxy to a multi-service app, $APP_PASSWORD
const fixturesDir = "testdata/stores"

func TestCasaOSFixtures(t *testing.T) {
	apps := readStoreDir(t, filepath.Join(fixturesDir, "casaos"), FormatCasaOS)
	if len(apps) != 2 {
		t.Errorf("read %d apps, want 2", len(apps))
	}
	w := apps["whoami"]
	checkApp(t, w, sampleWant{main: "whoami", port: 80, name: "Whoami", tagline: "Echo of your request", version: "1.10.3",
		binds: map[string]string{"whoami:/config": "config"},
		ports: []Port{{Service: "whoami", Target: 2222, Published: "10422", Protocol: "tcp"}}, noHazards: true})
	// Texts are the English ones of each language map; the extra port keeps
	// its description.
	if !strings.HasPrefix(w.Description, "Tells who you are") || w.Icon != "https://example.com/whoami/icon.png" {
		t.Errorf("whoami description %q, icon %q", w.Description, w.Icon)
	}
	if len(w.Ports) != 1 || w.Ports[0].Description != "Echo Port" {
		t.Errorf("whoami ports = %+v", w.Ports)
	}
	for _, s := range []string{"x-casaos", "container_name", "network_mode", "zh_CN", "我是谁"} {
		if strings.Contains(string(w.Compose), s) {
			t.Errorf("whoami: %q left in the compose file:\n%s", s, w.Compose)
		}
	}
	// $PUID and $TZ stay install variables.
	pw, err := LoadProject(context.Background(), w, map[string]string{"APP_ID": "w", "APP_DATA_DIR": "/d", "TZ": "Europe/Paris", "PUID": "1001"})
	if err != nil {
		t.Fatal(err)
	}
	if e := pw.Services["whoami"].Environment; e["TZ"] == nil || *e["TZ"] != "Europe/Paris" || e["PUID"] == nil || *e["PUID"] != "1001" {
		t.Errorf("whoami environment = %v", e)
	}

	n := apps["notes"]
	p := checkApp(t, n, sampleWant{main: "notes", port: 3000, name: "Notes", version: "2.1.0",
		binds:  map[string]string{"notes:/app/uploads": "uploads", "notes-db:/var/lib/postgresql/data": "pgdata"},
		fields: []string{"DB_PASSWORD"}, noHazards: true})
	// The web service still reaches the database by its old container name.
	if db := p.Services["notes-db"].Networks["default"]; db == nil || !slices.Contains(db.Aliases, "notes-postgres") {
		t.Errorf("notes-db networks = %+v", p.Services["notes-db"].Networks)
	}
	for _, f := range n.Fields {
		if f.Key == "DB_PASSWORD" && (f.Label != "Database password" || !f.Secret) {
			t.Errorf("notes field %+v", f)
		}
	}
}

func TestRuntipiFixtures(t *testing.T) {
	apps := readStoreDir(t, filepath.Join(fixturesDir, "runtipi"), FormatRuntipi)
	if len(apps) != 2 {
		t.Errorf("read %d apps, want 2", len(apps))
	}
	whoami := sampleWant{main: "whoami", port: 80, name: "Whoami", tagline: "Echo of your request", version: "1.10.3",
		binds:  map[string]string{"whoami:/data": "data/whoami", "whoami:/media": "shared/data"},
		ports:  []Port{{Service: "whoami", Target: 2222, Published: "2223", Protocol: "tcp"}},
		fields: []string{"WHOAMI_GREETING", "WHOAMI_SECRET"}, noHazards: true}
	monitor := sampleWant{main: "monitor", port: 3001, name: "Monitor", tagline: "Uptime of everything", version: "2.0.1",
		binds:   map[string]string{"monitor:/app/data": "data", "monitor:/var/run/docker.sock": "!/var/run/docker.sock"},
		hazards: []string{"volumes: /var/run/docker.sock"}}
	for id, w := range map[string]sampleWant{"whoami": whoami, "monitor": monitor} {
		t.Run(id, func(t *testing.T) {
			app, ok := apps[id]
			if !ok {
				t.Fatalf("no app %s", id)
			}
			checkApp(t, app, w)
			if strings.Contains(string(app.Compose), "traefik.") || strings.Contains(string(app.Compose), "tipi_main_network") {
				t.Errorf("Traefik labels or Runtipi's network left:\n%s", app.Compose)
			}
			if !strings.HasPrefix(app.Description, "# ") {
				t.Errorf("description is not metadata/description.md: %.40q", app.Description)
			}
		})
	}
	// The dynamic app read from its legacy docker-compose.yml alone gives
	// the same web UI, data and ports.
	dir := filepath.Join(fixturesDir, "runtipi", "whoami")
	cfg, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	yml, _ := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	legacy, err := convertRuntipi(context.Background(), cfg, nil, yml, nil, "whoami")
	if err != nil {
		t.Fatalf("legacy compose: %v", err)
	}
	checkApp(t, legacy, whoami)

	// Form fields: a random one is a generated secret of min characters.
	for _, f := range apps["whoami"].Fields {
		switch f.Key {
		case "WHOAMI_GREETING":
			if !f.Required || f.Type != FieldText || f.Label != "Greeting" {
				t.Errorf("greeting field %+v", f)
			}
		case "WHOAMI_SECRET":
			if !f.Random || !f.Secret || f.RandomLength != 24 || f.Required {
				t.Errorf("secret field %+v", f)
			}
		}
	}
	// ${APP_PROTOCOL:-http} is https here; ${APP_DOMAIN} is the app's host.
	w := apps["whoami"]
	pw, err := LoadProject(context.Background(), w, ExampleEnv(w))
	if err != nil {
		t.Fatal(err)
	}
	if v := pw.Services["whoami"].Environment["PUBLIC_URL"]; v == nil || *v != "https://whoami.home.example.com/" {
		t.Errorf("PUBLIC_URL = %v", v)
	}
	if !slices.Equal(apps["monitor"].Categories, []string{"utilities"}) {
		t.Errorf("monitor categories = %v", apps["monitor"].Categories)
	}
}

func TestUmbrelFixtures(t *testing.T) {
	apps := readStoreDir(t, filepath.Join(fixturesDir, "umbrel"), FormatUmbrel)
	if len(apps) != 2 {
		t.Errorf("read %d apps, want 2", len(apps))
	}
	for id, w := range map[string]sampleWant{
		"whoami": {main: "web", port: 8090, name: "Whoami", tagline: "Echo of your request", version: "1.10.3",
			binds: map[string]string{"web:/data": "data/whoami"},
			ports: []Port{{Service: "web", Target: 2224, Published: "2224", Protocol: "tcp"}}, noHazards: true},
		"notes": {main: "server", port: 3000, name: "Notes", version: "2.1.0",
			binds:  map[string]string{"server:/app/uploads": "data/uploads", "db:/var/lib/postgresql/data": "data/db"},
			fields: []string{"APP_PASSWORD"}, noHazards: true},
	} {
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
			if !strings.HasPrefix(app.Icon, "https://getumbrel.github.io/umbrel-apps-gallery/"+id+"/") {
				t.Errorf("icon = %q", app.Icon)
			}
			for k := range app.Seed {
				if k == "exports.sh" || k == "umbrel-app.yml" || k == "docker-compose.yml" {
					t.Errorf("%s is seeded into the data folder", k)
				}
			}
		})
	}
	// exports.sh was read as data: the echo port is the exported 2224.
	w := apps["whoami"]
	pw, err := LoadProject(context.Background(), w, ExampleEnv(w))
	if err != nil {
		t.Fatal(err)
	}
	if v := pw.Services["web"].Environment["ECHO_PORT"]; v == nil || *v != "2224" {
		t.Errorf("ECHO_PORT = %v", v)
	}
	// $APP_PASSWORD is a generated password the user can read, named in the
	// description with the default user.
	n := apps["notes"]
	var pwField *Field
	for i := range n.Fields {
		if n.Fields[i].Key == "APP_PASSWORD" {
			pwField = &n.Fields[i]
		}
	}
	if pwField == nil || !pwField.Random || pwField.Secret {
		t.Errorf("APP_PASSWORD field = %+v", pwField)
	}
	if !strings.Contains(n.Description, "Sign in as umbrel") {
		t.Errorf("notes description lacks the default user: %q", n.Description)
	}
}
