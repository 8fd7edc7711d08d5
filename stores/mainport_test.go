package stores

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlainComposeFile reads compose files without an x-stackhub block, as
// `stackhub apps install ./compose.yaml` does: the app id comes from the
// top-level name, the web port from the only port the main service offers,
// and an ambiguous file gets an error listing the candidates.
func TestPlainComposeFile(t *testing.T) {
	cases := []struct {
		name, compose string
		id, main      string
		port          int
		errHas        []string
	}{
		{name: "name and expose", compose: "name: myapp\nservices:\n  web:\n    image: nginx\n    expose: [\"8080\"]\n",
			id: "myapp", main: "web", port: 8080},
		{name: "folder name without name", compose: "services:\n  web:\n    image: nginx\n    expose: [8080]\n",
			id: "tmp-42o84", main: "web", port: 8080},
		{name: "name made an id", compose: "name: My_App\nservices:\n  web:\n    image: nginx\n    ports: [\"127.0.0.1:8081:80/tcp\"]\n",
			id: "my-app", main: "web", port: 80},
		{name: "x-stackhub id wins", compose: "name: other\nservices:\n  web:\n    image: nginx\n    expose: [\"80\"]\nx-stackhub:\n  id: chosen\n",
			id: "chosen", main: "web", port: 80},
		{name: "published beats exposed", compose: "services:\n  web:\n    image: nginx\n    ports: [{target: 80, published: 8080}]\n  db:\n    image: postgres\n    expose: [\"5432\"]\n",
			id: "tmp-42o84", main: "web", port: 80},
		{name: "only one service exposes", compose: "services:\n  web:\n    image: nginx\n    expose: [\"3000\"]\n  worker:\n    image: busybox\n",
			id: "tmp-42o84", main: "web", port: 3000},
		{name: "same port twice", compose: "services:\n  dns:\n    image: pihole\n    ports: [\"53:53/tcp\", \"53:53/udp\"]\n",
			id: "tmp-42o84", main: "dns", port: 53},
		{name: "two services expose", compose: "services:\n  web:\n    image: nginx\n    expose: [\"8080\"]\n  db:\n    image: postgres\n    expose: [\"5432\"]\n",
			errHas: []string{"db:5432", "web:8080", "x-stackhub.main.service"}},
		{name: "two ports", compose: "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\", \"8443:443\"]\n",
			errHas: []string{"web:80", "web:443", "x-stackhub.main.port"}},
		{name: "named main with two exposed", compose: "services:\n  web:\n    image: nginx\n    expose: [\"80\", \"9100\"]\nx-stackhub:\n  main:\n    service: web\n",
			errHas: []string{"web:80", "web:9100"}},
		{name: "no port at all", compose: "services:\n  web:\n    image: nginx\n",
			errHas: []string{"no ports or expose", "x-stackhub.main.port"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tmp-42o84")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "docker-compose.yml")
			if err := os.WriteFile(file, []byte(c.compose), 0o644); err != nil {
				t.Fatal(err)
			}
			app, err := ReadPath(file)
			if c.errHas != nil {
				if err == nil {
					t.Fatalf("read as %s %s:%d, want an error", app.ID, app.MainService, app.MainPort)
				}
				for _, want := range c.errHas {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if app.ID != c.id || app.MainService != c.main || app.MainPort != c.port {
				t.Errorf("read as %s %s:%d, want %s %s:%d", app.ID, app.MainService, app.MainPort, c.id, c.main, c.port)
			}
		})
	}
}
