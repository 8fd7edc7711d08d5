package bench

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stackhub/stackhub/internal/adminapi"
)

// mainInstance is the stackhub process of rows 1, 2, 5 and 6 (and 4 with
// apps): alpha is private (behind the gate), beta public.
type mainInstance struct {
	s      *server
	data   string
	cookie string // alpha's app session cookie of a signed-in user
}

func (h *harness) startMain() *mainInstance {
	m := &mainInstance{data: filepath.Join(h.work, "main")}
	m.s = h.newStackhub("stackhub", m.data)
	if err := m.s.start(h.cfg.Stackhub); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.api(m.s).AddUser(userRequest("bench", "admin")); err != nil {
		h.t.Fatalf("add user: %v", err)
	}
	if err := h.install(m.s, "alpha", false); err != nil {
		h.t.Fatal(err)
	}
	if err := h.install(m.s, "beta", true); err != nil {
		h.t.Fatal(err)
	}
	b := newBrowser(m.s)
	target := h.appURL(m.s, "alpha", "/")
	if err := b.signIn("bench", benchPassword, target); err != nil {
		h.t.Fatalf("sign in: %v\n%s", err, m.s.out)
	}
	if m.cookie = b.cookie(target, "__Host-stackhub-app"); m.cookie == "" {
		h.t.Fatal("no app cookie after sign-in")
	}
	return m
}

const benchPassword = "bench-password-1"

func userRequest(name, role string) adminapi.UserRequest {
	return adminapi.UserRequest{Name: name, Role: role, Password: benchPassword}
}

func (h *harness) appURL(s *server, app, path string) string {
	return fmt.Sprintf("https://%s.%s:%d%s", app, h.domain, s.httpsPort, path)
}

// addPlainSites loads the running configuration plus two baseline sites:
// plain.bench.localhost, a plain reverse_proxy to alpha's upstream, and
// redir.bench.localhost, a plain 302 (not under *.localhost, whose
// on-demand policy would claim the names).
func (h *harness) addPlainSites(m *mainInstance) {
	routes, err := h.api(m.s).Routes()
	if err != nil {
		h.t.Fatal(err)
	}
	upstream := ""
	for _, r := range routes {
		if r.App == "alpha" {
			upstream = r.Upstream
		}
	}
	if upstream == "" {
		h.t.Fatalf("no upstream for alpha in %v", routes)
	}
	cf, err := exec.Command(h.cfg.Stackhub, append(m.s.args, "--print-config")...).Output()
	if err != nil {
		h.t.Fatal(err)
	}
	cf = fmt.Appendf(cf, "\nplain.bench.localhost {\n\ttls internal\n\treverse_proxy %s\n}\n", upstream)
	cf = fmt.Appendf(cf, "\nredir.bench.localhost {\n\ttls internal\n\tredir https://my.localhost:%d/login 302\n}\n", m.s.httpsPort)
	req, _ := http.NewRequest("POST", "http://"+m.s.admin+"/load", strings.NewReader(string(cf)))
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		h.t.Fatalf("load the baseline sites: %v %v", err, resp)
	}
	resp.Body.Close()
	c := m.s.httpsClient(10 * time.Second)
	if _, err := waitOK(c, "https://plain.bench.localhost:"+strconv.Itoa(m.s.httpsPort)+"/", 30*time.Second); err != nil {
		h.t.Fatal(err)
	}
}

// proxyRows: row 1, the gate with a valid cookie against a plain
// reverse_proxy to the same upstream (HTTP/1.1 and HTTP/2 over TLS), and
// row 2, signed-out and invalid-cookie requests against a plain redirect.
func (h *harness) proxyRows(m *mainInstance) {
	h.addPlainSites(m)
	base := "https://127.0.0.1:" + strconv.Itoa(m.s.httpsPort) + "/"
	for _, h2 := range []bool{false, true} {
		proto := "h1"
		if h2 {
			proto = "h2"
		}
		gate := load{URL: base, Host: "alpha.localhost", Cookie: m.cookie, Conns: h.cfg.Conns, H2: h2, For: h.cfg.Duration, Expect: 200}
		plain := gate
		plain.Host, plain.Cookie = "plain.bench.localhost", ""
		h.logf("row 1 proxy %s", protoName(proto))
		res := h.interleave(1, []load{plain, gate})
		plainRes, gateRes := res[0], res[1]
		name := protoName(proto) + ", TLS, keep-alive"
		rps := func(r []loadResult) []float64 { return collect(r, func(x loadResult) float64 { return x.RPS }) }
		p50 := func(r []loadResult) []float64 { return collect(r, func(x loadResult) float64 { return x.P50 }) }
		p99 := func(r []loadResult) []float64 { return collect(r, func(x loadResult) float64 { return x.P99 }) }
		ro, rb := statOf(rps(gateRes)), statOf(rps(plainRes))
		h.res.add(Measure{Row: 1, Key: "proxy." + proto + ".rps", Name: name + ": requests/s", Unit: "req/s", Ours: ro,
			BaselineName: "plain reverse_proxy", Baseline: ptr(rb), Comparison: percent(ro.Median, rb.Median)})
		o, b := statOf(p50(gateRes)), statOf(p50(plainRes))
		h.res.add(Measure{Row: 1, Key: "proxy." + proto + ".p50", Name: name + ": p50", Unit: "ms", Decimals: 2, Ours: o,
			BaselineName: "plain reverse_proxy", Baseline: ptr(b), Comparison: signed(o.Median-b.Median, "ms", 2)})
		o, b = statOf(p99(gateRes)), statOf(p99(plainRes))
		h.res.add(Measure{Row: 1, Key: "proxy." + proto + ".p99", Name: name + ": p99", Unit: "ms", Decimals: 2, Ours: o,
			BaselineName: "plain reverse_proxy", Baseline: ptr(b), Comparison: signed(o.Median-b.Median, "ms", 2)})
	}
	h.res.note(1, fmt.Sprintf("alpha (private, behind stackhub_gate + stackhub_router + dynamic reverse_proxy) with a valid app cookie vs plain.bench.localhost (`reverse_proxy` to alpha's container address), sites of the same `stackhub up` process, same port and TLS; hey -c %d: %d HTTP/1.1 connections, or %d streams on HTTP/2 (hey shares one HTTP/2 connection); latency resolution of hey: 0.1 ms.", h.cfg.Conns, h.cfg.Conns, h.cfg.Conns))
	if h.cfg.Profiles != "" {
		h.cpuProfile(m.s, "cpu-gate-h1.pb.gz", "CPU of stackhub serving the gate row (HTTP/1.1, valid cookie)",
			load{URL: base, Host: "alpha.localhost", Cookie: m.cookie, Conns: h.cfg.Conns, For: h.cfg.Duration + time.Second, Expect: 200})
	}

	h.logf("row 2 gate miss")
	signedOut := load{URL: base, Host: "alpha.localhost", Conns: h.cfg.Conns, For: h.cfg.Duration, Expect: 302}
	invalid := signedOut
	invalid.Cookie = "__Host-stackhub-app=" + strings.Repeat("A", 43) + "." + strings.Repeat("b", 43)
	redir := signedOut
	redir.Host = "redir.bench.localhost"
	res := h.interleave(2, []load{redir, signedOut, invalid})
	rb := statOf(collect(res[0], func(x loadResult) float64 { return x.RPS }))
	for i, k := range []string{"signedout", "invalid"} {
		ro := statOf(collect(res[i+1], func(x loadResult) float64 { return x.RPS }))
		name := map[string]string{"signedout": "signed out → 302 to login: requests/s", "invalid": "invalid app cookie → 302: requests/s"}[k]
		h.res.add(Measure{Row: 2, Key: "gatemiss." + k + ".rps", Name: name, Unit: "req/s", Ours: ro,
			BaselineName: "plain `redir` site", Baseline: ptr(rb), Comparison: percent(ro.Median, rb.Median)})
	}
	h.res.note(2, "alpha without a cookie, and with a forged cookie of the right shape, vs redir.bench.localhost (a plain Caddy `redir … 302`), HTTP/1.1, every answer must be a 302.")
}

// interleave runs each load once per round, rotating which goes first,
// after one unmeasured warm-up of each, and returns the results per load.
func (h *harness) interleave(row int, loads []load) [][]loadResult {
	for _, l := range loads {
		l.For = min(l.For, time.Second)
		if _, err := h.runLoad(row, l); err != nil {
			h.t.Fatalf("warm-up of %s: %v", l.Host, err)
		}
	}
	out := make([][]loadResult, len(loads))
	for r := range h.cfg.Rounds {
		for i := range loads {
			j := (i + r) % len(loads)
			res, err := h.runLoad(row, loads[j])
			if err != nil {
				h.t.Fatalf("row %d, %s: %v", row, loads[j].Host, err)
			}
			if res.Errors > 0 {
				h.t.Errorf("row %d, %s: %d errors:\n%s", row, loads[j].Host, res.Errors, res.Output)
			}
			out[j] = append(out[j], res)
		}
	}
	return out
}

func collect[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// cpuProfile saves a CPU profile of s taken while l runs.
func (h *harness) cpuProfile(s *server, file, what string, l load) {
	done := make(chan error, 1)
	secs := max(int(l.For.Seconds())-1, 1)
	path := filepath.Join(h.cfg.Profiles, file)
	go func() { done <- s.profile("profile?seconds="+strconv.Itoa(secs), path) }()
	if _, err := h.runLoad(0, l); err != nil {
		h.t.Errorf("profile load: %v", err)
	}
	if err := <-done; err != nil {
		h.t.Errorf("CPU profile: %v", err)
		return
	}
	h.keepProfile(path, what, "cpu")
}
