package appctl

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// TestSeedFilesAreCreatedOnceAndSecretsMasked: an app's seed files appear in
// its data folder at the first install, and a reinstall over kept data
// leaves the user's edits alone; only fields marked secret are masked.
func TestSeedFilesAreCreatedOnceAndSecretsMasked(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := writeApp(t, "seeded", simpleApp(testImage, ""))
	if err != nil {
		t.Fatal(err)
	}
	app.Seed = map[string][]byte{"config/app.conf": []byte("default\n")}
	app.Fields = []stores.Field{
		{Key: "GREETING", Label: "Greeting", Type: stores.FieldText, Default: "hi"},
		{Key: "TOKEN", Label: "Token", Type: stores.FieldPassword, Random: true, Secret: true},
		{Key: "APP_PASSWORD", Label: "Password", Type: stores.FieldPassword, Random: true},
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(h.dataDir, "apps", "seeded", "data", "config", "app.conf")
	if b, err := os.ReadFile(conf); err != nil || string(b) != "default\n" {
		t.Fatalf("seed file: %q, %v", b, err)
	}
	st, err := h.m.Status(ctx, "seeded")
	if err != nil {
		t.Fatal(err)
	}
	if st.Values["TOKEN"] != "********" || len(st.Values["APP_PASSWORD"]) != 32 || st.Values["GREETING"] != "hi" {
		t.Errorf("values shown: %v", st.Values)
	}
	os.WriteFile(conf, []byte("edited by the user\n"), 0o644)
	if err := h.m.Remove(ctx, "seeded", true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(conf); string(b) != "edited by the user\n" {
		t.Errorf("reinstall overwrote the user's file: %q", b)
	}
	if err := h.m.Remove(ctx, "seeded", false, nil); err != nil {
		t.Fatal(err)
	}
}
