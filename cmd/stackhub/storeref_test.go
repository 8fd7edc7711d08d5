package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallStoreRef installs by STORE/ID from two folder stores that
// both have the app "twin": the bare id asks which one, STORE/ID installs
// that store's app, and a path that does not exist says how to name a
// store's app.
func TestInstallStoreRef(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	for _, s := range []string{"one", "two"} {
		abs, err := filepath.Abs(filepath.Join("testdata", "stores", s))
		if err != nil {
			t.Fatal(err)
		}
		in.mustCLI("store", "add", s, abs, "--format", "native")
	}

	out, err := in.cli("apps", "install", "twin")
	if err == nil || !strings.Contains(out, "one/twin, two/twin") {
		t.Errorf("bare id of two stores: err %v\n%s", err, out)
	}
	if out, err := in.cli("store", "info", "twin"); err == nil || !strings.Contains(out, "one/twin, two/twin") {
		t.Errorf("store info of a bare id of two stores: err %v\n%s", err, out)
	}
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "twin") {
		t.Fatalf("an app was installed from an ambiguous id:\n%s", list)
	}

	out = in.mustCLI("apps", "install", "two/twin", "--public")
	if !strings.Contains(out, "Installing two/twin from the stores") || !strings.Contains(out, "Open it at "+in.url("twin", "/")) {
		t.Fatalf("install two/twin:\n%s", out)
	}
	if code, body := get(t, in.client(in.rootCAs()), in.url("twin", "/")); code != 200 || !strings.HasPrefix(body, "hello from twin-two") {
		t.Errorf("GET twin = %d %q, want the app of store two", code, body)
	}
	if info := in.mustCLI("apps", "info", "twin"); !strings.Contains(info, "Store:    two") {
		t.Errorf("apps info:\n%s", info)
	}

	// Written as a path, it is one, and it says so.
	out, err = in.cli("apps", "install", "./one/twin")
	if err == nil || !strings.Contains(out, "no app folder or compose file at ./one/twin") || !strings.Contains(out, "STORE/ID") {
		t.Errorf("missing ./path: err %v\n%s", err, out)
	}
	// An existing folder without ./ is a path too.
	in.mustCLI("apps", "remove", "twin")
	out, err = in.cli("apps", "install", "testdata/stores/one/twin")
	if err != nil || !strings.Contains(out, "from disk") {
		t.Errorf("install an existing folder: err %v\n%s", err, out)
	}
	if info := in.mustCLI("apps", "info", "twin"); !strings.Contains(info, "Store:    local") {
		t.Errorf("apps info after installing the folder:\n%s", info)
	}
	// An unknown store is named as such.
	if out, err := in.cli("apps", "install", "three/twin"); err == nil || !strings.Contains(out, `no store named "three"`) {
		t.Errorf("unknown store: err %v\n%s", err, out)
	}
}
