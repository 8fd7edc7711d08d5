package stores

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// Tests of the shapes of real store apps (issue 11), on our own fixtures
// in testdata/shapes: small apps written in the shape of real ones
// (Runtipi's x-runtipi format, variable ports and ranges, headless apps;
// CasaOS fixed PUID/TZ, apps without port_map, keys; Umbrel URLs and
// sign-in notes).

func readShapes(t *testing.T, store string, format Format) map[string]App {
	t.Helper()
	apps, err := ReadStore(context.Background(), os.DirFS(filepath.Join("testdata", "shapes", store)), format)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]App{}
	for _, a := range apps {
		byID[a.ID] = a
	}
	return byID
}

// shapeApp returns the app id of the store, failing when it is missing or
// unavailable.
func shapeApp(t *testing.T, apps map[string]App, id string) App {
	t.Helper()
	a, ok := apps[id]
	if !ok {
		t.Fatalf("no app %s", id)
	}
	if a.Unavailable != "" {
		t.Fatalf("%s unavailable: %s", id, a.Unavailable)
	}
	return a
}

// loadAsInstalled loads the app as appctl installs it: the install
// variables (set), the fields in values, and no other variable at all
// (fields left empty stay unset).
func loadAsInstalled(t *testing.T, app App, set map[string]string, values map[string]string) *types.Project {
	t.Helper()
	env := ExampleEnv(app)
	for k := range env {
		if !isInstallVariable(k) {
			delete(env, k)
		}
	}
	for k, v := range set {
		env[k] = v
	}
	for k, v := range values {
		env[k] = v
	}
	p, err := LoadProject(context.Background(), app, env)
	if err != nil {
		t.Fatalf("%s: %v\n%s", app.ID, err, app.Compose)
	}
	return p
}

func envOf(t *testing.T, p *types.Project, service string) map[string]string {
	t.Helper()
	svc, ok := p.Services[service]
	if !ok {
		t.Fatalf("no service %s", service)
	}
	out := map[string]string{}
	for k, v := range svc.Environment {
		if v == nil {
			out[k] = "<unset>"
		} else {
			out[k] = *v
		}
	}
	return out
}

func wantEnv(t *testing.T, app string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", app, k, got[k], v)
		}
	}
}

func fieldByKey(app App, key string) (Field, bool) {
	for _, f := range app.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

func hasWarning(app App, part string) bool {
	for _, w := range app.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func TestRuntipiXRuntipiFormat(t *testing.T) {
	apps := readShapes(t, "runtipi", FormatRuntipi)
	app := shapeApp(t, apps, "twofa")
	if app.MainService != "twofa" || app.MainPort != 8000 || app.NoWebUI {
		t.Fatalf("main = %s:%d (no web UI %v), want twofa:8000", app.MainService, app.MainPort, app.NoWebUI)
	}
	if bytes.Contains(app.Compose, []byte("x-runtipi")) {
		t.Errorf("x-runtipi left in the compose file:\n%s", app.Compose)
	}
	if !hasWarning(app, "overrides") || !hasWarning(app, "add_to_main_network") {
		t.Errorf("warnings %q lack the overrides and the shared network", app.Warnings)
	}
	if f, ok := fieldByKey(app, "TWOFA_APP_KEY"); !ok || !f.Random || !f.Secret {
		t.Errorf("TWOFA_APP_KEY field = %+v", f)
	}
	p := checkApp(t, app, sampleWant{main: "twofa", port: 8000, binds: map[string]string{"twofa:/srv/data": "data/app", "twofa-db:/var/lib/postgresql/data": "data/db"}, noHazards: true})
	if len(p.Services["twofa"].Ports) != 0 {
		t.Errorf("the web UI is published: %+v", p.Services["twofa"].Ports)
	}
	// An unset field keeps the compose file's default (${VAR-default}).
	p = loadAsInstalled(t, app, nil, map[string]string{"TWOFA_APP_KEY": "k"})
	wantEnv(t, app.ID, envOf(t, p, "twofa"), map[string]string{
		"APP_URL": "https://twofa.home.example.com", "MAIL_FROM": "admin@example.com", "APP_KEY": "k", "TZ": "Etc/UTC"})
}

func TestRuntipiHeadlessAndNoGUI(t *testing.T) {
	apps := readShapes(t, "runtipi", FormatRuntipi)
	relay := shapeApp(t, apps, "headless")
	if !relay.NoWebUI || relay.MainService != "relay" || relay.MainPort != 0 {
		t.Errorf("headless x-runtipi app: no web UI %v, main %s:%d", relay.NoWebUI, relay.MainService, relay.MainPort)
	}
	if want := []Port{{Service: "relay", Target: 25, Published: "2525", Protocol: "tcp"}}; !slices.Equal(relay.Ports, want) {
		t.Errorf("relay ports = %+v, want %+v", relay.Ports, want)
	}
	mc := shapeApp(t, apps, "mcserver")
	if !mc.NoWebUI || mc.MainService != "mcserver" || mc.MainPort != 0 {
		t.Errorf("no_gui app: no web UI %v, main %s:%d", mc.NoWebUI, mc.MainService, mc.MainPort)
	}
	// Its ${APP_PORT} publication is the port players use: kept, on the
	// store's port.
	if want := []Port{{Service: "mcserver", Target: 25565, Published: "25565", Protocol: "tcp"}}; !slices.Equal(mc.Ports, want) {
		t.Errorf("mcserver ports = %+v, want %+v", mc.Ports, want)
	}
	// A dynamic compose no_gui app: Runtipi publishes its main service's
	// internalPort on the store's port; so does the converted file.
	bg := shapeApp(t, apps, "blockgame")
	if want := []Port{{Service: "blockgame", Target: 25565, Published: "25566", Protocol: "tcp"}}; !bg.NoWebUI || !slices.Equal(bg.Ports, want) {
		t.Errorf("blockgame: no web UI %v, ports %+v, want %+v", bg.NoWebUI, bg.Ports, want)
	}
	wantEnv(t, bg.ID, envOf(t, loadAsInstalled(t, bg, nil, nil), "blockgame"), map[string]string{"VERSION": "LATEST"})
	p := loadAsInstalled(t, mc, nil, map[string]string{"MC_EULA": "true"})
	if ports := p.Services["mcserver"].Ports; len(ports) != 1 || ports[0].Published != "25565" || ports[0].Target != 25565 {
		t.Errorf("mcserver publishes %+v", ports)
	}
	if _, ok := p.Networks["tipi_main_network"]; ok {
		t.Errorf("Runtipi's network kept")
	}
}

func TestRuntipiVariablePortAndRanges(t *testing.T) {
	apps := readShapes(t, "runtipi", FormatRuntipi)
	tor := shapeApp(t, apps, "torrentish")
	// internalPort "${APP_PORT}": the app listens on the store's port.
	if tor.MainService != "torrentish" || tor.MainPort != 8113 {
		t.Errorf("torrentish main = %s:%d, want torrentish:8113", tor.MainService, tor.MainPort)
	}
	p := loadAsInstalled(t, tor, nil, nil)
	wantEnv(t, tor.ID, envOf(t, p, "torrentish"), map[string]string{"WEBUI_PORT": "8113"})
	if want := []Port{{Service: "torrentish", Target: 6881, Published: "6881", Protocol: "udp"}}; !slices.Equal(tor.Ports, want) {
		t.Errorf("torrentish ports = %+v, want %+v", tor.Ports, want)
	}

	game := shapeApp(t, apps, "gamepanel")
	if game.MainPort != 8443 || game.MainScheme != "https" {
		t.Errorf("gamepanel main port %d scheme %q", game.MainPort, game.MainScheme)
	}
	p = loadAsInstalled(t, game, nil, nil)
	// The range is published whole (compose-go lists its ports one by one).
	inRange := 0
	for _, pc := range p.Services["panel"].Ports {
		if pc.Target >= 25500 && pc.Target <= 25600 && pc.Published == strconv.Itoa(int(pc.Target)) && pc.Protocol == "tcp" {
			inRange++
		}
	}
	if inRange != 101 {
		t.Errorf("%d ports of 25500-25600 published, want 101", inRange)
	}
}

func TestRuntipiUnsetFieldKeepsDefault(t *testing.T) {
	apps := readShapes(t, "runtipi", FormatRuntipi)
	app := shapeApp(t, apps, "hotiosonar")
	for _, k := range []string{"SONAR_PUID", "SONAR_PGID", "SONAR_UMASK"} {
		if f, ok := fieldByKey(app, k); !ok || f.Default != "" || f.Required {
			t.Errorf("field %s = %+v, want optional without default", k, f)
		}
	}
	// Fields left empty are not set at all (appctl leaves them out).
	p := loadAsInstalled(t, app, nil, map[string]string{"SONAR_LOG": "info"})
	wantEnv(t, app.ID, envOf(t, p, "hotiosonar"), map[string]string{"PUID": "1000", "PGID": "1000", "UMASK": "002", "LOG_LEVEL": "info"})
}

func TestCasaOSFixedIDsAndTimeZone(t *testing.T) {
	apps := readShapes(t, "casaos", FormatCasaOS)
	app := shapeApp(t, apps, "lidarrish")
	checkApp(t, app, sampleWant{main: "lidarrish", port: 8686, binds: map[string]string{"lidarrish:/config": "config", "lidarrish:/music": "shared/Media/Music"}, noHazards: true})
	p := loadAsInstalled(t, app, map[string]string{"PUID": "1234", "PGID": "2345", "TZ": "Asia/Tokyo"}, nil)
	wantEnv(t, app.ID, envOf(t, p, "lidarrish"), map[string]string{"PUID": "1234", "PGID": "2345", "TZ": "Asia/Tokyo"})
	for _, k := range []string{"PUID", "TZ"} {
		if _, ok := fieldByKey(app, k); ok {
			t.Errorf("%s is a field, not the install variable", k)
		}
	}
}

func TestCasaOSWithoutWebUI(t *testing.T) {
	apps := readShapes(t, "casaos", FormatCasaOS)
	duck := shapeApp(t, apps, "duckdnsish")
	if !duck.NoWebUI || duck.MainService != "duckdnsish" || duck.MainPort != 0 {
		t.Errorf("duckdnsish: no web UI %v, main %s:%d", duck.NoWebUI, duck.MainService, duck.MainPort)
	}
	p := loadAsInstalled(t, duck, map[string]string{"PUID": "1234", "TZ": "Asia/Tokyo"}, nil)
	wantEnv(t, duck.ID, envOf(t, p, "duckdnsish"), map[string]string{"PUID": "1234", "TZ": "Asia/Tokyo", "SUBDOMAINS": "subdomain1,subdomain2"})
	tun := shapeApp(t, apps, "tunnelish")
	if !tun.NoWebUI || tun.MainService != "tunnelish" {
		t.Errorf("tunnelish: no web UI %v, main %s", tun.NoWebUI, tun.MainService)
	}
	if f, ok := fieldByKey(tun, "CONNECTOR_KEY"); !ok || !f.Secret || f.Type != FieldPassword {
		t.Errorf("CONNECTOR_KEY = %+v, want a secret password field", f)
	}
	// Read back as a native app, it is still one without a web UI.
	back, err := parseNative(tun.Compose, "x")
	if err != nil || !back.NoWebUI || back.MainService != "tunnelish" {
		t.Errorf("read back: %+v, %v", back, err)
	}
}

func TestSecretsByName(t *testing.T) {
	apps := readShapes(t, "casaos", FormatCasaOS)
	app := shapeApp(t, apps, "linkish")
	for key, secret := range map[string]bool{"MEILI_MASTER_KEY": true, "NEXTAUTH_SECRET": true, "MEILI_HOST": false} {
		f, ok := fieldByKey(app, key)
		if !ok || f.Secret != secret {
			t.Errorf("field %s = %+v (found %v), want secret %v", key, f, ok, secret)
		}
	}
	for name, want := range map[string]bool{"MEILI_MASTER_KEY": true, "NB_SETUP_KEY": true, "SECRET_KEY_BASE": true, "KEYBOARD_LAYOUT": false, "MONKEY": false, "DB_HOST": false} {
		if secretName(name) != want {
			t.Errorf("secretName(%s) = %v", name, !want)
		}
	}
}

// captureComposeWarnings returns what compose-go logs while f runs.
func captureComposeWarnings(f func()) string {
	var buf bytes.Buffer
	prev := logrus.StandardLogger().Out
	logrus.SetOutput(&buf)
	defer logrus.SetOutput(prev)
	f()
	return buf.String()
}

func TestMetaTextNotInterpolated(t *testing.T) {
	apps := readShapes(t, "casaos", FormatCasaOS)
	app := shapeApp(t, apps, "linkish")
	const text = "$2a$10$N9qo8uLOickgx2ZMRZoMye (bcrypt), costs $5 a month"
	if !strings.Contains(app.Description, text) {
		t.Errorf("description = %q", app.Description)
	}
	for _, f := range app.Fields {
		if strings.HasPrefix(f.Key, "N9qo") {
			t.Errorf("the description became a field: %+v", f)
		}
	}
	logs := captureComposeWarnings(func() {
		loadAsInstalled(t, app, nil, map[string]string{"MEILI_MASTER_KEY": "k", "NEXTAUTH_SECRET": "s", "MEILI_HOST": "h"})
	})
	if strings.Contains(logs, "not set") {
		t.Errorf("compose-go warned about the description: %s", logs)
	}
	// A native app's description with a hash reads and loads the same.
	native := []byte("x-stackhub:\n  name: Hashy\n  description: 'Default admin hash $2y$05$abcdefGHIJ, or ${NOT_A_VAR}'\n  main: {service: web, port: 80}\nservices:\n  web:\n    image: nginx:1.27.0\n")
	napp, err := parseNative(native, "hashy")
	if err != nil {
		t.Fatal(err)
	}
	if napp.Description != "Default admin hash $2y$05$abcdefGHIJ, or ${NOT_A_VAR}" {
		t.Errorf("native description = %q", napp.Description)
	}
	logs = captureComposeWarnings(func() {
		if _, err := LoadProject(context.Background(), napp, map[string]string{"APP_DATA_DIR": "/d"}); err != nil {
			t.Fatal(err)
		}
	})
	if strings.Contains(logs, "not set") {
		t.Errorf("compose-go warned about the native description: %s", logs)
	}
	if got := string(WithoutMeta(native)); strings.Contains(got, "x-stackhub") || !strings.Contains(got, "nginx:1.27.0") {
		t.Errorf("WithoutMeta = %s", got)
	}
}

func TestUmbrelOwnURLs(t *testing.T) {
	apps := readShapes(t, "umbrel", FormatUmbrel)
	app := shapeApp(t, apps, "slinkish")
	p := loadAsInstalled(t, app, nil, nil)
	wantEnv(t, app.ID, envOf(t, p, "server"), map[string]string{
		"ORIGIN":        "https://slinkish.home.example.com",
		"PUBLIC_URL":    "https://slinkish.home.example.com/share",
		"ALLOWED_HOSTS": "slinkish.home.example.com,localhost",
		"CALLBACK":      "https://slinkish.home.example.com/cb",
		// Another port is another program's: left as written.
		"OTHER_APP": "http://slinkish.home.example.com:3001",
	})
	tt := shapeApp(t, apps, "timetrack")
	p = loadAsInstalled(t, tt, nil, nil)
	wantEnv(t, tt.ID, envOf(t, p, "app"), map[string]string{"APP_URL": "https://timetrack.home.example.com"})
}

func TestUmbrelSignInNotes(t *testing.T) {
	apps := readShapes(t, "umbrel", FormatUmbrel)
	for _, a := range apps {
		if strings.Contains(a.Description, "APP_PASSWORD setting") {
			t.Errorf("%s names a setting that does not exist: %q", a.ID, a.Description)
		}
	}
	tt := shapeApp(t, apps, "timetrack")
	if _, ok := fieldByKey(tt, "APP_PASSWORD"); ok {
		t.Errorf("timetrack asks for APP_PASSWORD, which its compose file does not use")
	}
	if !strings.Contains(tt.Description, "umbrel@umbrel.local") || !strings.Contains(tt.Description, "first-run setup") {
		t.Errorf("timetrack description = %q", tt.Description)
	}
	pa := shapeApp(t, apps, "passapp")
	f, ok := fieldByKey(pa, "APP_PASSWORD")
	if !ok || f.Secret || !f.Random {
		t.Errorf("APP_PASSWORD = %+v: the user signs in with it, so it is generated and readable", f)
	}
	if seed, ok := fieldByKey(pa, "APP_SEED"); !ok || !seed.Secret {
		t.Errorf("APP_SEED = %+v", seed)
	}
	if !strings.Contains(pa.Description, "stackhub apps info passapp") || !strings.Contains(pa.Description, "Sign in as umbrel") {
		t.Errorf("passapp description = %q", pa.Description)
	}
	p := loadAsInstalled(t, pa, nil, map[string]string{"APP_PASSWORD": "pw", "APP_SEED": "seed"})
	wantEnv(t, pa.ID, envOf(t, p, "web"), map[string]string{"DOMAIN_CLIENT": "https://passapp.home.example.com", "ADMIN_PASSWORD": "pw"})
}

func TestInstallSummary(t *testing.T) {
	apps := readShapes(t, "runtipi", FormatRuntipi)
	got := strings.Join(shapeApp(t, apps, "gamepanel").InstallSummary(), "\n")
	for _, want := range []string{
		"Images:   example/gamepanel:0.5.1",
		"Web UI:   service panel, port 8443 (https), routed at https://gamepanel.<domain>",
		"Port:     19132/udp on the host → panel:19132",
		"Port:     25500-25600/tcp on the host → panel:25500",
		"Hazards:  none",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	got = strings.Join(shapeApp(t, apps, "headless").InstallSummary(), "\n")
	if !strings.Contains(got, "Web UI:   none: a service app") || !strings.Contains(got, "2525/tcp on the host → relay:25") {
		t.Errorf("headless summary:\n%s", got)
	}
}

func TestRuntipiPortResolver(t *testing.T) {
	resolve := runtipiPortResolver(8113, []Field{{Key: "WEB_PORT", Default: "8081"}, {Key: "EMPTY"}})
	for in, want := range map[string]int{
		"8080": 8080, "${APP_PORT}": 8113, "$APP_PORT": 8113, "${WEB_PORT}": 8081,
		"${EMPTY:-9000}": 9000, "${UNKNOWN}": 0, "https": 0, "70000": 0, "": 0,
	} {
		if got := resolve(in); got != want {
			t.Errorf("resolve(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestRuntipiXRuntipiHostNetwork(t *testing.T) {
	app := readOne(t, fstest.MapFS{
		"apps/hass/config.json": {Data: []byte(`{"id":"hass","name":"Home","port":8123,"available":true,"short_desc":"Home automation","description":"Home automation."}`)},
		"apps/hass/docker-compose.yml": {Data: []byte(`services:
  hass:
    image: example/hass:2025.1.0
    network_mode: host
    volumes: ["${APP_DATA_DIR}/data/config:/config"]
    x-runtipi: {is_main: true}
x-runtipi: {schema_version: 2}
`)},
	}, FormatRuntipi)
	if app.Unavailable != "" || app.MainService != "hass" || app.MainPort != 8123 || app.NoWebUI {
		t.Errorf("hass: unavailable %q, main %s:%d, no web UI %v", app.Unavailable, app.MainService, app.MainPort, app.NoWebUI)
	}
	if !hazardSet(app)["network_mode: host"] {
		t.Errorf("host network not flagged: %v", app.Hazards)
	}
}
