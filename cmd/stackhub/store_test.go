package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// TestInstallFromTheBuiltinStore installs an app by its store id, as a
// user would (`stackhub apps install whoami`), and checks that the Compose
// CLI sees it as an ordinary project (`docker compose ls`).
//
// No image can be pulled here, so the test image stands in under the
// store's pinned tag, and only when no image has that tag already (a real
// whoami image is used as it is, and never removed).
func TestInstallFromTheBuiltinStore(t *testing.T) {
	in := newInstance(t, "localhost")
	ctx := context.Background()
	const pinned = "traefik/whoami:v1.10.3"
	if _, err := in.docker.ImageInspect(ctx, pinned); err != nil {
		if _, err := in.docker.ImageTag(ctx, client.ImageTagOptions{Source: "stackhub-testapp:dev", Target: pinned}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			in.docker.ImageRemove(context.Background(), pinned, client.ImageRemoveOptions{})
		})
	}
	in.start()
	out := in.mustCLI("store", "info", "whoami")
	if !strings.Contains(out, "Whoami (builtin/whoami) 1.10.3") {
		t.Errorf("store info:\n%s", out)
	}
	out = in.mustCLI("apps", "install", "whoami", "--public")
	if !strings.Contains(out, "Open it at "+in.url("whoami", "/")) {
		t.Fatalf("install by store id:\n%s", out)
	}
	if st, _ := get(t, in.client(in.rootCAs()), in.url("whoami", "/")); st != 200 {
		t.Fatalf("whoami answered %d", st)
	}

	raw, err := exec.Command(binary(t, "docker-compose"), "ls", "--all", "--format", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose ls: %v\n%s", err, raw)
	}
	var projects []struct{ Name, Status string }
	if err := json.Unmarshal(raw, &projects); err != nil {
		t.Fatalf("docker compose ls: %v\n%s", err, raw)
	}
	found := false
	for _, p := range projects {
		if strings.HasSuffix(p.Name, "-whoami") && strings.HasPrefix(p.Status, "running") {
			found = true
		}
	}
	if !found {
		t.Errorf("docker compose ls does not list a running whoami project: %s", raw)
	}
	in.mustCLI("apps", "remove", "whoami")
}

// zipFolder packs dir (its files, relative paths under a top folder, as
// GitHub's archives have) into a zip.
func zipFolder(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create("store-main/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// storeSet is a folder of stores (umbrel/ and runtipi/ inside) and what
// the store commands must show of it.
type storeSet struct {
	root    string
	apps    int      // apps in each of the two stores
	common  string   // an app id every store has, the built-in one too
	utility string   // a Runtipi app of category utilities
	info    []string // what `store info tipi/<common>` must show
}

// TestStoresFromCaddyfileAndAtRunTime: a store set in the Caddyfile, one
// added at run time from an archive URL (kept across a restart), search
// across stores, and removal rules; on the store apps we wrote in the
// shapes of Umbrel's and Runtipi's (stores/testdata/stores).
func TestStoresFromCaddyfileAndAtRunTime(t *testing.T) {
	root, err := filepath.Abs("../../stores/testdata/stores")
	if err != nil {
		t.Fatal(err)
	}
	testStores(t, storeSet{root: root, apps: 2, common: "whoami", utility: "monitor",
		info: []string{"Images:   traefik/whoami:v1.10.3", "Web UI:   service whoami, port 80 (http)", "Port:     2223/tcp on the host → whoami:2222", "Hazards:  none"}})
}

// TestStoresFromCaddyfileAndAtRunTimeSamples is the same on real apps of
// the stores, when STACKHUB_STORE_SAMPLES names them.
func TestStoresFromCaddyfileAndAtRunTimeSamples(t *testing.T) {
	const env = "STACKHUB_STORE_SAMPLES"
	samples := os.Getenv(env)
	if samples == "" {
		t.Skipf("real store samples not used: set %s to their folder (e.g. ../shared/samples); TestStoresFromCaddyfileAndAtRunTime covers the same path", env)
	}
	samples, err := filepath.Abs(samples)
	if err != nil {
		t.Fatal(err)
	}
	testStores(t, storeSet{root: samples, apps: 6, common: "vaultwarden", utility: "uptime-kuma",
		info: []string{"Images:   vaultwarden/server:1.37.1", "Web UI:   service vaultwarden, port 80 (http)", "Ports:    no host port", "Hazards:  none"}})
}

func testStores(t *testing.T, set storeSet) {
	apps := strconv.Itoa(set.apps)
	archive := zipFolder(t, filepath.Join(set.root, "runtipi"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(archive)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	in := newInstance(t, "localhost")
	caddyfile := fmt.Sprintf(`{
	admin %s
	persist_config off
	default_bind 127.0.0.1
	http_port %d
	https_port %d
	storage file_system {
		root %s/caddy
	}
	local_certs
	skip_install_trust
	stackhub {
		domain %s
		data %s
		https_port %d
		store umbrel-samples %s umbrel
		store_refresh 1h
	}
}
`, in.admin, in.httpPort, in.httpsPort, in.data, in.domain, in.data, in.httpsPort, filepath.Join(set.root, "umbrel"))
	cfgPath := filepath.Join(t.TempDir(), "Caddyfile")
	os.WriteFile(cfgPath, []byte(caddyfile), 0o644)
	in.args = []string{"run", "--config", cfgPath}
	in.start()

	list := in.mustCLI("store", "list")
	if !regexp.MustCompile(`(?m)^builtin\s+31\s+0`).MatchString(list) || !regexp.MustCompile(`(?m)^umbrel-samples\s+`+apps+`\s+0`).MatchString(list) {
		t.Errorf("store list:\n%s", list)
	}
	out := in.mustCLI("store", "add", "tipi", "http://"+l.Addr().String()+"/main.zip", "--format", "runtipi")
	if !regexp.MustCompile(`(?m)^tipi\s+` + apps + `\s+0\s`).MatchString(out) {
		t.Errorf("store add:\n%s", out)
	}
	search := in.mustCLI("store", "search", set.common)
	for _, store := range []string{"builtin", "umbrel-samples", "tipi"} {
		if !regexp.MustCompile(`(?m)^` + set.common + `\s+` + store + `\s`).MatchString(search) {
			t.Errorf("search lacks %s of %s:\n%s", set.common, store, search)
		}
	}
	if out := in.mustCLI("store", "search", "--category", "utilities"); !regexp.MustCompile(`(?m)^`+set.utility+`\s+tipi\s`).MatchString(out) || regexp.MustCompile(`(?m)^`+set.common+`\s+builtin`).MatchString(out) {
		t.Errorf("search by category:\n%s", out)
	}
	if out := in.mustCLI("store", "info", "tipi/"+set.common); !strings.Contains(out, "(tipi/"+set.common+")") || !containsAll(out, set.info) {
		t.Errorf("store info:\n%s", out)
	}
	if out, err := in.cli("store", "remove", "umbrel-samples"); err == nil || !strings.Contains(out, "set in the Caddyfile") {
		t.Errorf("removing a Caddyfile store: %v\n%s", err, out)
	}

	// A store added at run time survives a restart; a refresh is a 304.
	in.stop()
	in.start()
	if list := in.mustCLI("store", "refresh"); !regexp.MustCompile(`(?m)^tipi\s+` + apps + `\s+0\s+\S+\s+\S+\s*$`).MatchString(list) {
		t.Errorf("after restart and refresh:\n%s", list)
	}
	in.mustCLI("store", "remove", "tipi")
	if list := in.mustCLI("store", "list"); strings.Contains(list, "tipi") {
		t.Errorf("removed store listed:\n%s", list)
	}
}

// containsAll reports whether s holds every one of subs.
func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
