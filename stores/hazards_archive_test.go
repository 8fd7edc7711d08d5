package stores

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// hostileApps are native apps, one per class of hazard, with the hazard
// names their listing must show.
var hostileApps = map[string]struct {
	compose string
	want    []string
}{
	"volbind": {nativeApp("VolBind", "nginx:1.27.0") + "    volumes: [\"hostroot:/host\"]\nvolumes:\n  hostroot:\n    driver_opts: {type: none, o: bind, device: /}\n",
		[]string{"host-path"}},
	"secretfile": {nativeApp("SecretFile", "nginx:1.27.0") + "    secrets: [s]\n    env_file: [/etc/environment]\nsecrets:\n  s:\n    file: /etc/hostname\n",
		[]string{"host-path"}},
	"hook": {nativeApp("Hook", "nginx:1.27.0") + "    pre_start:\n      - image: busybox\n        volumes: [\"/:/host\"]\n",
		[]string{"host-path"}},
	"kernel": {nativeApp("Kernel", "nginx:1.27.0") + "    security_opt: [\"seccomp=unconfined\"]\n    device_cgroup_rules: [\"a *:* rwm\"]\n    userns_mode: host\n    labels: {dev.stackhub.app: other}\n",
		[]string{"security-profile", "device-rules", "host-userns", "reserved-label"}},
	"joiner": {nativeApp("Joiner", "nginx:1.27.0") + "    networks: [other]\n  spy:\n    image: busybox\n    network_mode: container:stackhub-vault-web-1\n" +
		"networks:\n  other:\n    external: true\n    name: stackhub-vault_default\n",
		[]string{"join-container", "external-network"}},
}

// A hostile app gets the same findings whether it comes from a store
// archive (zip or tar.gz over HTTP) or from a folder on disk, and the
// catalog (what `store info` prints) lists them.
func TestHazardsSameFromArchiveAndFolder(t *testing.T) {
	var entries []entry
	folders := t.TempDir()
	for id, a := range hostileApps {
		entries = append(entries, entry{name: "store-main/" + id + "/compose.yaml", body: a.compose})
		os.MkdirAll(filepath.Join(folders, id), 0o755)
		if err := os.WriteFile(filepath.Join(folders, id, "compose.yaml"), []byte(a.compose), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []string{"zip", "tar.gz"} {
		t.Run(kind, func(t *testing.T) {
			srv := &storeServer{}
			if kind == "zip" {
				srv.set(makeZip(t, entries), `"1"`)
			} else {
				srv.set(makeTarGz(t, entries), `"1"`)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			src, err := NewArchiveSource("hostile", ts.URL+"/main."+kind, FormatAuto, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			cat := NewCatalog(src)
			if err := cat.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			for id, a := range hostileApps {
				listed, err := cat.Find("hostile/" + id)
				if err != nil {
					t.Fatal(err)
				}
				names := map[string]bool{}
				for _, h := range listed.Hazards {
					names[h.Name] = true
					if h.Service == "" || h.Setting == "" || h.Reason == "" {
						t.Errorf("%s: incomplete finding %+v", id, h)
					}
				}
				for _, w := range a.want {
					if !names[w] {
						t.Errorf("%s from the %s archive: no %s hazard listed: %v", id, kind, w, listed.Hazards)
					}
				}
				local, err := ReadPath(filepath.Join(folders, id))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(listed.Hazards, local.Hazards) {
					t.Errorf("%s: archive lists %v\nfolder lists %v", id, listed.Hazards, local.Hazards)
				}
			}
		})
	}
}

// A CasaOS app from an archive with a named volume that binds the host's
// root is listed with the hazard (it was listed clean before).
func TestCasaOSArchiveVolumeBindIsListed(t *testing.T) {
	srv := &storeServer{}
	srv.set(makeTarGz(t, []entry{{name: "CasaOS-AppStore-main/Apps/Evil/docker-compose.yml", body: `name: evil
services:
  web:
    image: nginx:1.27.0
    ports: ["8080:80"]
    volumes: ["hostroot:/host"]
volumes:
  hostroot:
    driver: local
    driver_opts: {type: none, o: bind, device: /}
x-casaos:
  main: web
  port_map: "8080"
  title: {en_us: Evil}
`}}), `"1"`)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src, _ := NewArchiveSource("casaos", ts.URL+"/main.tar.gz", FormatCasaOS, t.TempDir())
	cat := NewCatalog(src)
	if err := cat.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	app, err := cat.Find("casaos/evil")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range app.Hazards {
		if h.Name == "host-path" && h.Kind == "volume" && h.Service == "hostroot" && strings.Contains(h.Setting, "device=/") {
			return
		}
	}
	t.Errorf("hazards = %v (unavailable %q)", app.Hazards, app.Unavailable)
}
