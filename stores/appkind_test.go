package stores

import (
	"os"
	"testing"
)

// TestServiceAppsKeepTheirPort reads apps without a web UI in the shape of
// the real stores: they are service apps whose port stays published,
// instead of a database or game port routed as a "web UI".
func TestServiceAppsKeepTheirPort(t *testing.T) {
	for _, c := range []struct {
		name        string
		read        func() (App, error)
		main        string
		port        int
		published   string
		composeHas  string
		composeLack string
	}{
		{name: "casaos PostgreSQL (no port_map)", read: func() (App, error) { return ReadCasaOS(os.DirFS("testdata/casaos/Apps"), "PostgreSQL") },
			main: "postgresql", port: 5432, published: "5432"},
		{name: "runtipi minecraft-server (no_gui)", read: func() (App, error) {
			return ReadRuntipi(os.DirFS("testdata/runtipi/apps"), "minecraft-server")
		}, main: "minecraft-server", port: 25565, published: "25565"},
	} {
		t.Run(c.name, func(t *testing.T) {
			app, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			if app.Unavailable != "" {
				t.Fatalf("unavailable: %s", app.Unavailable)
			}
			if !app.NoWebUI || app.MainPort != 0 {
				t.Errorf("no web UI %v, main port %d: want a service app", app.NoWebUI, app.MainPort)
			}
			if app.MainService != c.main {
				t.Errorf("main service = %s, want %s", app.MainService, c.main)
			}
			found := false
			for _, p := range app.Ports {
				if p.Service == c.main && p.Target == c.port && p.Published == c.published {
					found = true
				}
			}
			if !found {
				t.Errorf("port %s:%d is not published as %s: ports %+v\n%s", c.main, c.port, c.published, app.Ports, app.Compose)
			}
			back, err := parseNative(app.Compose, app.ID)
			if err != nil || !back.NoWebUI {
				t.Errorf("converted compose file read back: no web UI %v, %v\n%s", back.NoWebUI, err, app.Compose)
			}
		})
	}
}

// TestWebAppsStayWeb: an app with a web UI port_map is not a service app,
// even with the host's network.
func TestWebAppsStayWeb(t *testing.T) {
	app, err := ReadCasaOS(os.DirFS("testdata/casaos/Apps"), "HomeAssistant")
	if err != nil {
		t.Fatal(err)
	}
	if app.NoWebUI || app.MainService != "homeassistant" || app.MainPort != 8123 {
		t.Fatalf("no web UI %v, main %s:%d", app.NoWebUI, app.MainService, app.MainPort)
	}
	hazard := false
	for _, h := range app.Hazards {
		if h.Setting == "network_mode: host" {
			hazard = true
		}
	}
	if !hazard || app.Unavailable != "" {
		t.Errorf("hazards %v, unavailable %q: want installable with the host-network hazard", app.Hazards, app.Unavailable)
	}
}
