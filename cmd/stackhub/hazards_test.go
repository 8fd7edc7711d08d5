package main

import (
	"archive/zip"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// TestHazardsThroughTheCLI: a hostile app in a store archive (a named
// volume binding a host folder) is listed with its hazard by `store info`,
// its install is refused with a message naming the volume, the key and how
// to approve, nothing is created; `--approve host-path` opens it.
func TestHazardsThroughTheCLI(t *testing.T) {
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "marker"), []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := `x-stackhub:
  name: Volume Bind
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: missing
    environment: {PORT: "8080"}
    volumes: ["hostdata:/data"]
volumes:
  hostdata:
    driver_opts: {type: none, o: bind, device: ` + hostDir + `}
`
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, _ := zw.Create("hostile-main/volbind/compose.yaml")
	f.Write([]byte(compose))
	zw.Close()
	archive := buf.Bytes()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(archive) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("store", "add", "hostile", "http://"+l.Addr().String()+"/main.zip")
	finding := `volume "hostdata": driver_opts: type=none o=bind device=` + hostDir
	if out := in.mustCLI("store", "info", "hostile/volbind"); !strings.Contains(out, "Hazard:") || !strings.Contains(out, finding) || !strings.Contains(out, "[host-path]") {
		t.Errorf("store info does not list the hazard:\n%s", out)
	}
	out, err := in.cli("apps", "install", "volbind")
	if err == nil || !strings.Contains(out, finding) || !strings.Contains(out, "--approve host-path") {
		t.Fatalf("install without approval: %v\n%s", err, out)
	}
	ctx := context.Background()
	f2 := client.Filters{}.Add("label", "dev.stackhub.app=volbind")
	cl, _ := in.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f2})
	vl, _ := in.docker.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("name", "volbind_hostdata")})
	if len(cl.Items)+len(vl.Items) != 0 {
		t.Errorf("refused install left %d containers, %d volumes", len(cl.Items), len(vl.Items))
	}
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "volbind") {
		t.Errorf("refused app listed:\n%s", list)
	}

	out = in.mustCLI("apps", "install", "volbind", "--approve", "host-path")
	if !strings.Contains(out, "Open it at") {
		t.Fatalf("approved install:\n%s", out)
	}
	in.mustCLI("apps", "remove", "volbind")
	if b, err := os.ReadFile(filepath.Join(hostDir, "marker")); err != nil || string(b) != "host secret\n" {
		t.Errorf("host file after remove: %q, %v", b, err)
	}
}
