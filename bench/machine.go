package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Machine is where and with what a run happened.
type Machine struct {
	CPU       string `json:"cpu"`
	CPUs      int    `json:"cpus"`
	MemoryGB  string `json:"memory"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Docker    string `json:"docker"`
	Compose   string `json:"compose"`
	Hey       string `json:"hey"`
	Dnsperf   string `json:"dnsperf"`
	CoreDNS   string `json:"coredns"`
	Commit    string `json:"commit"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end,omitempty"`
}

func machineInfo(h *harness) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadStart: loadAverage(), CoreDNS: coreDNSVersion, Hey: "github.com/rakyll/hey " + moduleVersion(h.root, "github.com/rakyll/hey")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		if len(f) >= 2 {
			m.MemoryGB = f[1] + " kB"
		}
	}
	m.Kernel = run("uname", "-r")
	m.Docker = "Engine " + run("docker", "version", "--format", "{{.Server.Version}}")
	m.Compose = "github.com/docker/compose/v5 " + moduleVersion(h.root, "github.com/docker/compose/v5") + " (its CLI built from this module, as `make compose` does; it reports " + composeVersion(h.cfg.Compose) + ")"
	if out := run("sh", "-c", "dnsperf -h 2>&1 | awk '/^Version/ {print $2}'"); out != "" {
		m.Dnsperf = out
	}
	// The run's own outputs do not make the tree dirty.
	m.Commit = run("git", "-C", h.root, "describe", "--always")
	if st := run("git", "-C", h.root, "status", "--porcelain", "--", ".", ":!bench/results.json", ":!bench/profiles", ":!docs/BENCHMARKS.md"); st != "" {
		m.Commit += " with uncommitted changes"
	}
	return m
}

func run(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// moduleVersion is the version go.mod requires of a module.
func moduleVersion(root, module string) string {
	b, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		if len(f) >= 2 && f[0] == module {
			return f[1]
		}
	}
	return "?"
}

// keepProfile records a profile and its top entries (go tool pprof -top).
func (h *harness) keepProfile(path, what, kind string) {
	args := []string{"tool", "pprof", "-top", "-nodecount=12"}
	if kind == "heap" {
		args = append(args, "-sample_index=inuse_space")
	}
	args = append(args, h.cfg.Stackhub, path)
	out, err := exec.Command("go", args...).Output()
	summary := ""
	if err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "flat") {
				lines = lines[max(i-1, 0):]
				break
			}
		}
		summary = strings.Join(lines, "\n")
	}
	rel, _ := filepath.Rel(h.root, path)
	h.res.Profiles = append(h.res.Profiles, Profile{File: rel, What: what, Summary: summary})
}
