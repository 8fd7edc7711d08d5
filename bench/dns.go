package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// coreDNSVersion is the CoreDNS release of the DNS row's baseline.
const coreDNSVersion = "v1.15.0"

// coreDNS returns a CoreDNS binary, built once with `go install` into the
// user's cache folder (a few minutes the first time) and reused after.
func (h *harness) coreDNS() string {
	if bin := os.Getenv("COREDNS"); bin != "" {
		return bin
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "stackhub-bench", "coredns-"+coreDNSVersion)
	bin := filepath.Join(dir, "coredns")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	h.logf("building CoreDNS %s with go install (once; a few minutes)", coreDNSVersion)
	cmd := exec.Command("go", "install", "github.com/coredns/coredns@"+coreDNSVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("build CoreDNS %s: %v\n%s", coreDNSVersion, err, b)
	}
	return bin
}

// ensureDebian installs Debian packages whose command is missing (as
// root; otherwise it says what to run).
func (h *harness) ensureDebian(command, pkg string) {
	if _, err := exec.LookPath(command); err == nil {
		return
	}
	if os.Geteuid() != 0 {
		h.t.Fatalf("%s is missing: sudo apt-get install -y %s", command, pkg)
	}
	h.logf("installing Debian's %s", pkg)
	if b, err := exec.Command("apt-get", "install", "-y", pkg).CombinedOutput(); err != nil {
		exec.Command("apt-get", "update").Run()
		if b2, err := exec.Command("apt-get", "install", "-y", pkg).CombinedOutput(); err != nil {
			h.t.Fatalf("apt-get install %s: %v\n%s\n%s", pkg, err, b, b2)
		}
	}
}

// dnsRow: row 3, dns/bench/run.sh (our zone server vs CoreDNS, dnsperf,
// alternating rounds), parsed.
func (h *harness) dnsRow() {
	h.ensureDebian("dnsperf", "dnsperf")
	core := h.coreDNS()
	h.logf("row 3 DNS")
	env := []string{"DURATION=" + strconv.Itoa(h.cfg.DNSSeconds), "ROUNDS=" + strconv.Itoa(h.cfg.Rounds), "COREDNS=" + core,
		"COREDNS_VERSION=" + coreDNSVersion, "WARMUP=" + strconv.Itoa(min(h.cfg.DNSSeconds, 3))}
	h.res.command(3, strings.Join(env[:2], " ")+" COREDNS=<CoreDNS "+coreDNSVersion+"> dns/bench/run.sh")
	cmd := exec.Command("dns/bench/run.sh")
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("dns/bench/run.sh: %v\n%s", err, out)
	}
	ours, core1 := dnsRounds(string(out), "StackHub dns", 0), dnsRounds(string(out), "CoreDNS "+coreDNSVersion, 0)
	if len(ours) == 0 || len(core1) == 0 {
		h.t.Fatalf("dns/bench/run.sh printed no figures:\n%s", out)
	}
	o, b := statOf(ours), statOf(core1)
	h.res.add(Measure{Row: 3, Key: "dns.qps", Name: "queries/s (UDP, zone of 1,000 names)", Unit: "q/s", Ours: o,
		BaselineName: "CoreDNS " + coreDNSVersion + " (file plugin)", Baseline: ptr(b), Comparison: times(o.Median, b.Median)})
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Zone of") || strings.HasPrefix(line, "dnsperf ") {
			h.res.note(3, line)
		}
	}
}

// dnsRounds reads the per-round figures of a summary line of run.sh,
// "<label> <median> <round> <round> …", skipping skip fields after the
// label.
func dnsRounds(out, label string, skip int) []float64 {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, label) {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, label))
		if len(f) < skip+2 {
			return nil
		}
		var v []float64
		for _, s := range f[skip+1:] {
			n, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil
			}
			v = append(v, n)
		}
		return v
	}
	return nil
}
