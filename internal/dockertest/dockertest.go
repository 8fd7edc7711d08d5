// Package dockertest gives integration tests the real Docker Engine: it
// requires it (failing loudly in CI), builds the offline test image, and
// removes what a test created, by label.
package dockertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/scratchimage"
)

// Label marks every Docker object a test creates; Cleanup removes by it.
const Label = "dev.stackhub.instance"

// Client returns a client of the real Docker Engine. Without one, the test
// fails when CI=true and is skipped (with the reason) otherwise.
func Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	}
	if err != nil {
		Unavailable(t, "Docker Engine", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Unavailable fails (CI) or skips (local) a test that needs what is missing.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI and is not available: %v", what, err)
	}
	t.Skipf("%s not available (%v): skipping; CI=true makes this a failure", what, err)
}

// Instance returns a fresh instance label value for one test, and removes
// every container, network and volume carrying it when the test ends.
func Instance(t testing.TB, c *client.Client) string {
	t.Helper()
	name := fmt.Sprintf("shtest%d", time.Now().UnixNano()%1_000_000_000)
	t.Cleanup(func() { Cleanup(t, c, name) })
	return name
}

// Cleanup removes the containers, networks and volumes labelled with instance.
func Cleanup(t testing.TB, c *client.Client, instance string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := client.Filters{}.Add("label", Label+"="+instance)
	if list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
		for _, ct := range list.Items {
			if _, err := c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
				t.Logf("cleanup container %s: %v", ct.ID, err)
			}
		}
	}
	if list, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range list.Items {
			c.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		}
	}
	if list, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
		for _, v := range list.Items {
			c.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
		}
	}
}

var (
	buildMu    sync.Mutex
	builtImage = map[string]bool{}
)

// TestImage builds internal/testapp as a static binary, copies it into a
// FROM scratch image tagged tag (internal/scratchimage), and
// returns the tag. A second call with the same tag in the same process
// reuses the image; images are kept across runs (the tag is local) and
// rebuilt when the binary changes.
func TestImage(t testing.TB, c *client.Client, tag string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if builtImage[tag] {
		return tag
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "testapp")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./internal/testapp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build test server: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := scratchimage.Build(ctx, c, "testapp", data, tag); err != nil {
		t.Fatalf("test image: %v", err)
	}
	builtImage[tag] = true
	return tag
}

// repoRoot finds the module root from the test's working directory.
func repoRoot(t testing.TB) string {
	dir, _ := os.Getwd()
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/stackhub/stackhub") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the repository root (go.mod)")
		}
		dir = parent
	}
}

// RepoRoot is the repository's root folder.
func RepoRoot(t testing.TB) string { return repoRoot(t) }
