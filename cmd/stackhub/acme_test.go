package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/domains/stubdns"
	"github.com/stackhub/stackhub/internal/serverproc"
)

// loopbackResolver answers A 127.0.0.1 for every name: the test's stand-in
// for the public DNS that would point app hosts at the box (Pebble asks
// over TCP, other clients over UDP: stubdns serves both on one port).
func loopbackResolver(t *testing.T) string {
	t.Helper()
	return stubdns.Serve(t, map[string]string{"*": "127.0.0.1"})
}

// pebble starts Pebble, the ACME test CA, whose validation authority
// resolves every name with dnsServer and validates HTTP-01 on httpPort and
// TLS-ALPN-01 on tlsPort. It returns the directory URL, the CA of Pebble's
// API and Pebble's issuing root (PEM), fetched from its management API.
func pebble(t *testing.T, httpPort, tlsPort int, dnsServer string) (dir, apiCA string, root []byte) {
	t.Helper()
	bin := binary(t, "pebble")
	modDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/letsencrypt/pebble/v2").Output()
	if err != nil {
		t.Fatalf("find pebble's module: %v", err)
	}
	certs := filepath.Join(strings.TrimSpace(string(modDir)), "test", "certs")
	listen, mgmt := freePort(t), freePort(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  "127.0.0.1:" + strconv.Itoa(listen),
		"managementListenAddress":        "127.0.0.1:" + strconv.Itoa(mgmt),
		"certificate":                    filepath.Join(certs, "localhost", "cert.pem"),
		"privateKey":                     filepath.Join(certs, "localhost", "key.pem"),
		"httpPort":                       httpPort,
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(t.TempDir(), "pebble.json")
	os.WriteFile(cfgPath, b, 0o644)
	proc, err := serverproc.Start(bin, []string{"-config", cfgPath, "-dnsserver", dnsServer},
		[]string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Kill)
	out := proc.Out
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble:\n%s", out)
		}
	})
	apiCA = filepath.Join(certs, "pebble.minica.pem")
	apiPool := x509.NewCertPool()
	pem, err := os.ReadFile(apiCA)
	if err != nil || !apiPool.AppendCertsFromPEM(pem) {
		t.Fatalf("pebble's API CA %s: %v", apiCA, err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: apiPool}}}
	waitFor(t, 30*time.Second, "pebble's management API", func() bool {
		resp, err := hc.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmt))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		root, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == 200
	})
	return fmt.Sprintf("https://127.0.0.1:%d/dir", listen), apiCA, root
}

// TestACMECertificateFromPebble obtains a real ACME certificate (HTTP-01,
// from Pebble) for an app host as a user's Caddyfile would, and verifies
// its chain up to Pebble's root.
func TestACMECertificateFromPebble(t *testing.T) {
	in := newInstance(t, "apps.example.com")
	dir, apiCA, rootPEM := pebble(t, in.httpPort, in.httpsPort, loopbackResolver(t))
	caddyfile := fmt.Sprintf(`{
	admin %s
	persist_config off
	default_bind 127.0.0.1
	http_port %d
	https_port %d
	storage file_system {
		root %s/caddy
	}
	on_demand_tls {
		permission stackhub
	}
	stackhub {
		domain %s
		data %s
		https_port %d
	}
}

*.%s {
	tls {
		on_demand
		issuer acme {
			dir %s
			trusted_roots %s
			email test@example.com
			disable_tlsalpn_challenge
		}
	}
	stackhub_router
	reverse_proxy {
		dynamic stackhub
	}
}
`, in.admin, in.httpPort, in.httpsPort, in.data, in.domain, in.data, in.httpsPort, in.domain, dir, apiCA)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	os.WriteFile(path, []byte(caddyfile), 0o644)
	in.args = []string{"run", "--config", path}
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha", "--public")

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble root: %s", rootPEM)
	}

	c := in.client(roots)
	var body string
	var status int
	var leaf *x509.Certificate
	waitFor(t, 90*time.Second, "an ACME certificate for alpha", func() bool {
		resp, err := c.Get(in.url("alpha", "/"))
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, body = resp.StatusCode, string(b)
		leaf = resp.TLS.PeerCertificates[0]
		return len(resp.TLS.VerifiedChains) > 0
	})
	if status != 200 || !strings.HasPrefix(body, "hello from alpha") {
		t.Fatalf("alpha over ACME TLS: %d %q", status, body)
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "alpha."+in.domain || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Fatalf("certificate names %v, issuer %q", leaf.DNSNames, leaf.Issuer.CommonName)
	}
	if !strings.Contains(in.out.String(), `"challenge_type":"http-01"`) {
		t.Errorf("the certificate was not obtained by HTTP-01:\n%s", in.out)
	}
}

// TestCaddyfileExampleRuns starts `stackhub run --config Caddyfile.example`
// (on test ports and a test data folder, through the variables the file
// reads) and uses its admin API.
func TestCaddyfileExampleRuns(t *testing.T) {
	in := newInstance(t, "home.example.com")
	in.args = []string{"run", "--config", "../../Caddyfile.example"}
	in.start(
		"STACKHUB_ADMIN="+in.admin, "STACKHUB_DATA="+in.data,
		"STACKHUB_HTTP_PORT="+strconv.Itoa(in.httpPort), "STACKHUB_HTTPS_PORT="+strconv.Itoa(in.httpsPort),
		"STACKHUB_DOMAIN="+in.domain,
	)
	if out := in.mustCLI("apps", "list"); !strings.Contains(out, "APP") {
		t.Fatalf("apps list:\n%s", out)
	}
	if out := in.mustCLI("store", "search", "whoami"); !strings.Contains(out, "whoami") {
		t.Errorf("store search:\n%s", out)
	}
}
