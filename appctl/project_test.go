package appctl

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/kv"
)

// TestRecordedProjectLoadsBackUnchanged: the project recorded at install
// loads back exactly as checked, without reading any file: values keep a
// literal "$", variables from env_file are kept though the file is gone,
// and recording the loaded project again gives the same bytes.
func TestRecordedProjectLoadsBackUnchanged(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Domain: "test.localhost", Instance: "t", Network: "net"}
	cfg.setDefaults()
	// validate assigns subnets against the engine's networks (subnets.go).
	db, err := kv.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := &Manager{cfg: cfg, db: db, engine: &composeEngine{docker: dockertest.Client(t)}, log: cfg.Logger}
	app, err := writeApp(t, "roundtrip", `x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    environment:
      PORT: "8080"
      PASSWORD: "pa$$word"
      GREETING: ${GREETING}
    env_file: [extra.env]
    volumes: ["${APP_DATA_DIR}/db:/db"]
`)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{ID: app.ID, Project: "t-roundtrip", MainSvc: "web", MainPort: 8080, Compose: app.Compose,
		Files: map[string][]byte{"extra.env": []byte("FROM_FILE=yes\n")}, Values: map[string]string{"GREETING": "it's $5"}}
	p, err := m.validate(context.Background(), &rec)
	if err != nil {
		t.Fatal(err)
	}
	env := p.Services["web"].Environment
	for k, want := range map[string]string{"PASSWORD": "pa$word", "GREETING": "it's $5", "FROM_FILE": "yes"} {
		if env[k] == nil || *env[k] != want {
			t.Errorf("%s = %v; want %q", k, env[k], want)
		}
	}
	if n := len(p.Services["web"].EnvFiles); n != 0 {
		t.Errorf("the recorded project still reads %d env files", n)
	}
	if got := p.Services["web"].Volumes[0].Source; got != filepath.Join(cfg.DataDir, "apps", "roundtrip", "data", "db") {
		t.Errorf("bind source = %s", got)
	}
	if _, ok := p.Services["web"].Networks[proxyNetworkKey]; !ok || p.Networks[proxyNetworkKey].Name != "net-roundtrip" {
		t.Errorf("web is not on its own proxy network: %+v", p.Networks)
	}

	// No file is read: the source folder can go.
	os.RemoveAll(filepath.Join(cfg.DataDir, "apps"))
	again, err := m.recordedProject(context.Background(), &rec)
	if err != nil {
		t.Fatal(err)
	}
	y, err := again.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(y) != string(rec.Validated) {
		t.Errorf("the recorded project changed on its way back:\n%s\n---\n%s", rec.Validated, y)
	}
	if again.Services["web"].CustomLabels["com.docker.compose.project"] != "t-roundtrip" {
		t.Errorf("compose labels not set: %v", again.Services["web"].CustomLabels)
	}
}
