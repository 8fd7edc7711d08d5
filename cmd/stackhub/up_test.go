package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/platform"
)

// banner waits for `stackhub up`'s banner in the output of the current run
// and returns it (from "StackHub is running." to "Install an app" line).
func (in *instance) banner() string {
	in.t.Helper()
	re := regexp.MustCompile(`(?s)StackHub is running\..*?Install an app:[^\n]*\n`)
	var b string
	waitFor(in.t, 20*time.Second, "the banner of stackhub up", func() bool {
		b = re.FindString(in.out.String())
		return b != ""
	})
	return b
}

// TestUpBannerFirstRun: the first start's banner shows the setup token
// itself, and that token creates the first admin at /setup; once an admin
// exists, the banner of the next start says nothing of a first run.
func TestUpBannerFirstRun(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	b := in.banner()
	portalURL := "https://my.localhost:" + strconv.Itoa(in.httpsPort)
	for _, want := range []string{
		"Portal:   " + portalURL + "/",
		"Apps:     https://<app>.localhost:" + strconv.Itoa(in.httpsPort) + "/",
		"Open " + portalURL + "/setup and enter this setup token",
		"user add NAME --admin --address " + in.admin,
		"apps install whoami --address " + in.admin,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
	m := regexp.MustCompile(`\n {4}(\S+)\n`).FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("no setup token on a line of its own in the banner:\n%s", b)
	}
	token := m[1]

	// The token from the banner works at /setup.
	admin := in.newBrowserish()
	sp := admin.get(in.portal("/setup"))
	form := url.Values{"csrf": {csrfOf(t, sp.body)}, "token": {token}, "username": {"root"}, "password": {"root-password-1"}}
	if a := admin.do("POST", in.portal("/setup"), form, nil); a.status != 303 {
		t.Fatalf("setup with the banner's token: %d %s", a.status, a.body)
	}
	if a := admin.get(in.portal("/")); a.location == "/setup" {
		t.Fatalf("portal still asks for setup after it succeeded")
	}

	// An admin exists: the next start's banner has no first-run text.
	in.stop()
	in.start()
	b = in.banner()
	for _, gone := range []string{"First run", "first run", "setup token", "/setup", token} {
		if strings.Contains(b, gone) {
			t.Errorf("banner after setup still says %q:\n%s", gone, b)
		}
	}
	if !strings.Contains(b, "Portal:   "+portalURL+"/") {
		t.Errorf("banner after setup:\n%s", b)
	}
}

// TestUpHTTPRedirectKeepsPort: with HTTPS on a port other than 443, plain
// HTTP is redirected to HTTPS on that port, with host, path and query kept.
func TestUpHTTPRedirectKeepsPort(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(in.httpPort))
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, host := range []string{"my.localhost", "whoami.localhost"} {
		u := "http://" + host + ":" + strconv.Itoa(in.httpPort) + "/some/page?x=1"
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		want := "https://" + host + ":" + strconv.Itoa(in.httpsPort) + "/some/page?x=1"
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d %q, want 308 %q", u, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// The address it sends to answers.
	if a := in.newBrowserish().get(in.portal("/")); a.status != 302 || a.location != "/setup" {
		t.Errorf("portal at the redirect's address: %d %q", a.status, a.location)
	}
}

// TestUpLeavesNoNetwork: `stackhub up` on a fresh data folder, stopped with
// no app installed, leaves no Docker network behind; with an app installed
// its network stays (the app needs it) and the app comes back at the next
// start.
func TestUpLeavesNoNetwork(t *testing.T) {
	in := newInstance(t, "localhost")
	cfg := platform.Config{Domain: in.domain, DataDir: in.data}
	cfg.Normalize()
	ctx := context.Background()
	networks := func() []string {
		res, err := in.docker.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", appctl.LabelInstance+"="+cfg.Instance)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range res.Items {
			names = append(names, n.Name)
		}
		if _, err := in.docker.NetworkInspect(ctx, cfg.Network, client.NetworkInspectOptions{}); err == nil && !strings.Contains(strings.Join(names, " "), cfg.Network) {
			names = append(names, cfg.Network)
		}
		return names
	}

	in.start()
	in.banner()
	in.stop()
	if left := networks(); len(left) > 0 {
		t.Errorf("after a start and stop with no app, networks are left: %v", left)
	}

	in.start()
	in.mustCLI("apps", "install", "testdata/alpha", "--public")
	in.stop()
	if len(networks()) == 0 {
		t.Fatal("the network of an installed app was removed at stop")
	}
	in.start()
	roots := in.rootCAs()
	waitFor(t, 30*time.Second, "alpha back after the restart", func() bool {
		resp, err := in.client(roots).Get(in.url("alpha", "/"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}
