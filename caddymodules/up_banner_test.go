package caddymodules

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/stackhub/stackhub/stores"
)

// quickStart returns the README's quick start section.
func quickStart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
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
	u := UpConfig{Domain: "localhost", Data: "/home/me/stackhub/.data", HTTPPort: 8080, HTTPSPort: 8443, Admin: caddy.DefaultAdminListen}
	if real := strings.TrimPrefix(u.Banner("bin/stackhub", tok[1]), "\n"); real != shown {
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
	readme, _ := os.ReadFile("../README.md")
	if m := regexp.MustCompile(`catalog holds (\d+) popular`).FindStringSubmatch(string(readme)); m == nil || m[1] != strconv.Itoa(len(apps)) {
		t.Errorf("App stores section gives the catalog count %v, the catalog has %d apps", m, len(apps))
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(qs, "make compose") || !strings.Contains(qs, "bin/docker-compose ls") ||
		!regexp.MustCompile(`(?m)^compose:\n\t\$\(GO\) build -o bin/docker-compose github.com/docker/compose/v5/cmd$`).Match(mk) {
		t.Error("the quick start's `make compose` / `bin/docker-compose ls` do not match the Makefile")
	}
}

// The banner names the HTTPS port unless it is 443, and --address only for
// an admin endpoint that is not the default.
func TestBannerPortsAndAddress(t *testing.T) {
	b := UpConfig{Domain: "home.arpa", Data: "/d", HTTPSPort: 443, Admin: caddy.DefaultAdminListen}.Banner("stackhub", "")
	for _, want := range []string{"Portal:   https://my.home.arpa/\n", "Apps:     https://<app>.home.arpa/\n", "Install an app:  stackhub apps install whoami\n"} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(b, "--address ") || strings.Contains(b, "First run") || strings.Contains(b, "setup") {
		t.Errorf("banner on 443 with an admin:\n%s", b)
	}
	b = UpConfig{Domain: "localhost", Data: "/d", HTTPSPort: 9443, Admin: "localhost:2020"}.Banner("bin/stackhub", "TOKEN")
	for _, want := range []string{"Portal:   https://my.localhost:9443/\n", "Open https://my.localhost:9443/setup", "\n    TOKEN\n",
		"bin/stackhub user add NAME --admin --address localhost:2020\n", "bin/stackhub apps install whoami --address localhost:2020\n"} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
}
