package bench

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// appFolder writes a one-service app (the test web server, whose image is
// present) with its compose file, and returns the folder. With hostPort,
// the file publishes the web port on loopback instead, for the
// `docker compose up` baseline.
func (h *harness) appFolder(id string, hostPort int) string {
	dir := filepath.Join(h.work, "apps", id)
	os.MkdirAll(dir, 0o755)
	compose := fmt.Sprintf(`x-stackhub:
  name: %s
  main:
    service: web
    port: 8080
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment:
      NAME: %s
      PORT: "8080"
`, id, id)
	if hostPort > 0 {
		compose += fmt.Sprintf("    ports:\n      - \"127.0.0.1:%d:8080\"\n", hostPort)
	}
	os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644)
	return dir
}

// install installs the app of folder dir through the admin API and
// returns when the platform reports it done.
func (h *harness) install(s *server, id string, public bool) error {
	app, err := stores.ReadPath(h.appFolder(id, 0))
	if err != nil {
		return err
	}
	req := adminapi.InstallRequest{Local: &adminapi.LocalApp{App: app, Compose: app.Compose, Files: app.Files}}
	if public {
		req.Policy = &registry.Policy{Access: registry.Public}
	}
	for try := 0; ; try++ {
		_, err := h.api(s).Install(req, func(appctl.Event) {})
		// Each app has its own network; on an engine shared with other
		// work the address pools can run out for a while: wait for them.
		if err != nil && strings.Contains(err.Error(), "non-overlapping") && try < 12 {
			h.logf("install %s: Docker's address pools are exhausted (other networks on this engine); retrying in 10 s", id)
			time.Sleep(10 * time.Second)
			continue
		}
		if err != nil {
			return fmt.Errorf("install %s: %w", id, err)
		}
		return nil
	}
}

func (h *harness) remove(s *server, id string) error {
	if _, err := h.api(s).Remove(id, false, func(appctl.Event) {}); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}

// waitOK polls u with c until it answers 200, and returns when it did.
func waitOK(c *http.Client, u string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Now(), nil
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s did not answer 200 within %s (last: %v)", u, timeout, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
