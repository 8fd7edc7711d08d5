package stores

import (
	"context"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// Every built-in app loads and validates with compose-go, with pinned
// images, data under APP_DATA_DIR, no publication of its web UI, no
// hazard, described host ports and an icon.
func TestBuiltinApps(t *testing.T) {
	apps, err := Builtin().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) < 26 {
		t.Errorf("the built-in store has %d apps, want at least 25 besides whoami", len(apps))
	}
	ids := map[string]bool{}
	healthchecked := 0
	for _, app := range apps {
		ids[app.ID] = true
		t.Run(app.ID, func(t *testing.T) {
			if app.Unavailable != "" {
				t.Fatalf("unavailable: %s", app.Unavailable)
			}
			if len(app.Warnings) > 0 {
				t.Errorf("warnings: %v", app.Warnings)
			}
			if app.Name == "" || app.Tagline == "" || app.Description == "" || app.Version == "" || app.Website == "" || app.Source == "" || len(app.Categories) == 0 || len(app.Architectures) == 0 {
				t.Errorf("incomplete metadata: name %q tagline %q description %d bytes version %q website %q source %q categories %v architectures %v",
					app.Name, app.Tagline, len(app.Description), app.Version, app.Website, app.Source, app.Categories, app.Architectures)
			}
			if app.Icon != "icon.svg" || !strings.Contains(string(app.Files["icon.svg"]), "<svg") {
				t.Errorf("icon %q, icon.svg %d bytes", app.Icon, len(app.Files["icon.svg"]))
			}
			if len(app.Hazards) > 0 {
				t.Errorf("hazards: %v", app.Hazards)
			}
			env := ExampleEnv(app)
			p, err := LoadProject(context.Background(), app, env)
			if err != nil {
				t.Fatalf("compose-go: %v", err)
			}
			main, ok := p.Services[app.MainService]
			if !ok {
				t.Fatalf("main service %q missing", app.MainService)
			}
			if tag := imageTag(main.Image); !strings.Contains(tag, strings.TrimPrefix(app.Version, "v")) {
				t.Errorf("version %q does not match the main image %s", app.Version, main.Image)
			}
			if main.HealthCheck != nil && !main.HealthCheck.Disable {
				healthchecked++
			}
			for name, s := range p.Services {
				tag := imageTag(s.Image)
				if tag == "" || tag == "latest" || strings.HasPrefix(tag, "sha256") {
					t.Errorf("service %s: image %q is not pinned to a version tag", name, s.Image)
				}
				if s.ContainerName != "" {
					t.Errorf("service %s sets container_name (it would clash between installs)", name)
				}
				for _, v := range s.Volumes {
					if v.Type != types.VolumeTypeBind {
						continue
					}
					if !strings.HasPrefix(v.Source+"/", env["APP_DATA_DIR"]+"/") && !(v.Source == "/etc/localtime" && v.ReadOnly) {
						t.Errorf("service %s mounts %s, outside APP_DATA_DIR", name, v.Source)
					}
				}
				for _, port := range s.Ports {
					if name == app.MainService && int(port.Target) == app.MainPort {
						t.Errorf("the web UI port %d is published", app.MainPort)
					}
					if port.Published != "" && port.HostIP == "" {
						found := false
						for _, d := range app.Ports {
							if d.Service == name && d.Target == int(port.Target) && d.Protocol == port.Protocol && d.Description != "" {
								found = true
							}
						}
						if !found {
							t.Errorf("published port %s:%d/%s is not described in x-stackhub.ports", name, port.Target, port.Protocol)
						}
					}
				}
			}
			for _, f := range app.Fields {
				if f.Random && !f.Secret {
					t.Errorf("field %s is random but not secret", f.Key)
				}
				if f.Type == FieldPassword && !f.Secret {
					t.Errorf("field %s is a password but not secret", f.Key)
				}
				if f.Type == FieldPassword && !f.Random && !f.Required && f.Key != "ADMIN_TOKEN" {
					t.Errorf("field %s: a password that is neither generated nor required", f.Key)
				}
			}
		})
	}
	for _, id := range []string{"whoami", "vaultwarden", "nextcloud", "immich", "jellyfin", "gitea", "uptime-kuma", "homeassistant",
		"syncthing", "paperless-ngx", "freshrss", "adguardhome", "audiobookshelf", "filebrowser"} {
		if !ids[id] {
			t.Errorf("built-in app %s is missing", id)
		}
	}
	if healthchecked < 15 {
		t.Errorf("only %d apps declare a healthcheck on their main service", healthchecked)
	}
	// Multi-service apps wire their parts together.
	cat := NewCatalog(Builtin())
	if err := cat.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	im, _ := cat.Find("builtin/immich")
	if im.MainService != "server" || im.MainPort != 2283 || len(im.Fields) != 1 || !im.Fields[0].Random {
		t.Errorf("immich = %s:%d fields %+v", im.MainService, im.MainPort, im.Fields)
	}
	ha, _ := cat.Find("homeassistant")
	if !strings.Contains(string(ha.Seed["config/configuration.yaml"]), "trusted_proxies") {
		t.Errorf("home assistant seed = %v", keysOf(ha.Seed))
	}
	st, _ := cat.Find("syncthing")
	if len(st.Ports) != 3 || st.Ports[0].Target != 22000 {
		t.Errorf("syncthing ports = %+v", st.Ports)
	}
	if got := cat.Search("password", ""); len(got) == 0 || got[0].ID != "vaultwarden" {
		t.Errorf("search password = %v", appIDs(got))
	}
	if got := cat.Search("", "reading"); len(got) < 4 {
		t.Errorf("category reading = %v", appIDs(got))
	}
}

// imageTag is the tag of an image reference ("" when it has none).
func imageTag(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[i+1:]
	}
	return ""
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
