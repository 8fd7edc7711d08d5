package banner

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// The README's quick start is checked here against what `stackhub up`
// prints and what it offers to run.

// quickStart returns the README's quick start section.
func quickStart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "## Quick start")
	end := strings.Index(s, "## Managing apps")
	if start < 0 || end < start {
		t.Fatal("README has no quick start section before Managing apps")
	}
	return s[start:end]
}

// The README's quick start shows the banner `make run` prints (as a user
// who is not root: ports 8080/8443, default admin endpoint, first start).
func TestReadmeShowsTheRealBanner(t *testing.T) {
	qs := quickStart(t)
	m := regexp.MustCompile("(?s)```\n(StackHub is running\\..*?)```").FindStringSubmatch(qs)
	if m == nil {
		t.Fatal("the quick start shows no banner")
	}
	shown := m[1]
	tok := regexp.MustCompile(`\n {4}(\S+)\n`).FindStringSubmatch(shown)
	if tok == nil {
		t.Fatalf("the banner shown has no setup token:\n%s", shown)
	}
	s := Site{Domain: "localhost", Data: "/home/me/stackhub/.data", HTTPSPort: 8443, Admin: "localhost:2019", AdminIsDefault: true}
	if real := strings.TrimPrefix(Text(s, "bin/stackhub", tok[1]), "\n"); real != shown {
		t.Errorf("README banner:\n%s\nreal banner:\n%s", shown, real)
	}
}

// The catalog count the README gives is the built-in catalog's, and the
// Compose CLI it offers is a make target.
func TestReadmeCatalogCountAndCompose(t *testing.T) {
	apps, err := stores.Builtin().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	qs := quickStart(t)
	m := regexp.MustCompile(`built-in catalog: (\d+) apps`).FindStringSubmatch(qs)
	if m == nil || m[1] != strconv.Itoa(len(apps)) {
		t.Errorf("quick start gives the catalog count %v, the catalog has %d apps", m, len(apps))
	}
	readme, _ := os.ReadFile("../../README.md")
	if m := regexp.MustCompile(`catalog holds (\d+) popular`).FindStringSubmatch(string(readme)); m == nil || m[1] != strconv.Itoa(len(apps)) {
		t.Errorf("App stores section gives the catalog count %v, the catalog has %d apps", m, len(apps))
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(qs, "make compose") || !strings.Contains(qs, "bin/docker-compose ls") ||
		!regexp.MustCompile(`(?m)^compose:\n\t\$\(GO\) build -o bin/docker-compose github.com/docker/compose/v5/cmd$`).Match(mk) {
		t.Error("the quick start's `make compose` / `bin/docker-compose ls` do not match the Makefile")
	}
}
