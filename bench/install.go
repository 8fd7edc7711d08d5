package bench

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// installRow: row 5, from the install call to the first 200 over HTTPS at
// the app's subdomain, against `docker compose up -d --wait` of the same
// file (the Compose CLI built from our Compose module) plus the time until
// the app answers on its published port.
func (h *harness) installRow(m *mainInstance) {
	h.logf("row 5 install latency")
	c := m.s.httpsClient(10 * time.Second)
	plainClient := &http.Client{Timeout: 10 * time.Second}
	var ours, oursCall, base, baseCall []float64
	measureOurs := func(r int) {
		id := fmt.Sprintf("inst%d", r)
		t0 := time.Now()
		if err := h.install(m.s, id, true); err != nil {
			h.t.Fatal(err)
		}
		t1 := time.Now()
		t2, err := waitOK(c, h.appURL(m.s, id, "/"), time.Minute)
		if err != nil {
			h.t.Fatal(err)
		}
		oursCall = append(oursCall, ms(t1.Sub(t0)))
		ours = append(ours, ms(t2.Sub(t0)))
		if err := h.remove(m.s, id); err != nil {
			h.t.Fatal(err)
		}
	}
	measureBase := func(r int) {
		port := freePort()
		project := fmt.Sprintf("%s-compose%d", h.instance, r)
		dir := h.appFolder(fmt.Sprintf("compose%d", r), port)
		file := filepath.Join(dir, "docker-compose.yml")
		h.res.command(5, "docker-compose -f <app>/docker-compose.yml -p <project> up -d --wait   # the Compose CLI of this module (make compose)")
		h.t.Cleanup(func() { exec.Command(h.cfg.Compose, "-f", file, "-p", project, "down", "--volumes").Run() })
		t0 := time.Now()
		if b, err := exec.Command(h.cfg.Compose, "-f", file, "-p", project, "up", "-d", "--wait").CombinedOutput(); err != nil {
			h.t.Fatalf("docker compose up: %v\n%s", err, b)
		}
		t1 := time.Now()
		t2, err := waitOK(plainClient, "http://127.0.0.1:"+strconv.Itoa(port)+"/", time.Minute)
		if err != nil {
			h.t.Fatal(err)
		}
		baseCall = append(baseCall, ms(t1.Sub(t0)))
		base = append(base, ms(t2.Sub(t0)))
		if b, err := exec.Command(h.cfg.Compose, "-f", file, "-p", project, "down", "--volumes").CombinedOutput(); err != nil {
			h.t.Fatalf("docker compose down: %v\n%s", err, b)
		}
	}
	measureOurs(0) // warm-up of each
	measureBase(0)
	ours, oursCall, base, baseCall = nil, nil, nil, nil
	for r := 1; r <= h.cfg.Rounds; r++ {
		if r%2 == 1 {
			measureBase(r)
			measureOurs(r)
		} else {
			measureOurs(r)
			measureBase(r)
		}
	}
	so, sb := statOf(ours), statOf(base)
	h.res.add(Measure{Row: 5, Key: "install.total", Name: "install call → first 200 (HTTPS at the subdomain / HTTP on the published port)", Unit: "ms",
		Ours: so, BaselineName: "`docker compose up -d --wait` + first 200", Baseline: ptr(sb),
		Comparison: fmt.Sprintf("%s, %s", times(so.Median, sb.Median), signed(so.Median-sb.Median, "ms", 0))})
	so, sb = statOf(oursCall), statOf(baseCall)
	h.res.add(Measure{Row: 5, Key: "install.call", Name: "of which the install call / `up --wait` itself", Unit: "ms",
		Ours: so, BaselineName: "`docker compose up -d --wait`", Baseline: ptr(sb),
		Comparison: fmt.Sprintf("%s, %s", times(so.Median, sb.Median), signed(so.Median-sb.Median, "ms", 0))})
	h.res.command(5, "POST /stackhub/apps (admin API, the call of `stackhub apps install <app> --public`), then GET https://<app>.localhost/ until 200")
	h.res.note(5, "A one-service public app (the test web server, image present, no healthcheck); each round installs a new app id and removes it afterwards (removal not timed). Ours includes validation, state writes, network creation, the container, the route, and the certificate issued on the first HTTPS request.")
}

// churnRow: row 6, requests to app beta while app B is installed and
// removed Cycles times, against a quiet run of the same load.
func (h *harness) churnRow(m *mainInstance) {
	h.logf("row 6 route churn")
	base := "https://127.0.0.1:" + strconv.Itoa(m.s.httpsPort) + "/"
	l := load{URL: base, Host: "beta.localhost", Conns: 8, For: 2 * h.cfg.Duration, Expect: 200}
	quiet, err := h.runLoad(6, l)
	if err != nil {
		h.t.Fatal(err)
	}
	stop, err := h.startLoad(6, l)
	if err != nil {
		h.t.Fatal(err)
	}
	t0 := time.Now()
	for i := range h.cfg.Cycles {
		if err := h.install(m.s, "churn", i%2 == 0); err != nil {
			stop()
			h.t.Fatal(err)
		}
		if err := h.remove(m.s, "churn"); err != nil {
			stop()
			h.t.Fatal(err)
		}
	}
	churnFor := time.Since(t0)
	busy, err := stop()
	if err != nil {
		h.t.Fatal(err)
	}
	eo, eb := statOf([]float64{float64(busy.Errors)}), statOf([]float64{float64(quiet.Errors)})
	h.res.add(Measure{Row: 6, Key: "churn.errors", Name: fmt.Sprintf("errors of requests to app A during %d install/remove cycles of app B", h.cfg.Cycles),
		Ours: eo, BaselineName: "quiet run", Baseline: ptr(eb), Comparison: fmt.Sprintf("%d of %d requests", busy.Errors, busy.OK+busy.Errors)})
	po, pb := statOf([]float64{busy.P99}), statOf([]float64{quiet.P99})
	h.res.add(Measure{Row: 6, Key: "churn.p99", Name: "p99 of app A during the cycles", Unit: "ms", Decimals: 1,
		Ours: po, BaselineName: "quiet run", Baseline: ptr(pb), Comparison: signed(busy.P99-quiet.P99, "ms", 1)})
	ro, rb := statOf([]float64{busy.RPS}), statOf([]float64{quiet.RPS})
	h.res.add(Measure{Row: 6, Key: "churn.rps", Name: "requests/s of app A during the cycles", Unit: "req/s",
		Ours: ro, BaselineName: "quiet run", Baseline: ptr(rb), Comparison: percent(busy.RPS, quiet.RPS)})
	h.res.note(6, fmt.Sprintf("App A is beta (public); app B is installed and removed %d times (%.0f s in all) while hey keeps 8 keep-alive HTTP/1.1 connections busy on A; the quiet run is the same load for %s just before. One run each.", h.cfg.Cycles, churnFor.Seconds(), l.For))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// composeVersion is what the Compose CLI says of itself.
func composeVersion(bin string) string {
	out, err := exec.Command(bin, "version", "--short").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
