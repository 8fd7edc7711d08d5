package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// load is one run of the load generator (hey, a Go tool of this module).
type load struct {
	URL    string // https://127.0.0.1:PORT/...
	Host   string // Host header and TLS server name
	Cookie string
	Conns  int
	H2     bool
	For    time.Duration
	Expect int // the status every answer must have
}

// loadResult is what hey reports.
type loadResult struct {
	RPS      float64
	P50, P99 float64 // ms
	OK       int     // answers with the expected status
	Errors   int     // other answers and transport errors
	Output   string
}

// args is hey's command line for l.
func (h *harness) heyArgs(l load) []string {
	args := []string{"-z", l.For.String(), "-c", strconv.Itoa(l.Conns), "-disable-redirects", "-host", l.Host}
	if l.H2 {
		args = append(args, "-h2")
	}
	if l.Cookie != "" {
		args = append(args, "-H", "Cookie: "+l.Cookie)
	}
	return append(args, l.URL)
}

// commandLine is l as a shell command (the cookie value elided), for the
// document.
func (h *harness) commandLine(l load) string {
	args := h.heyArgs(l)
	for i, a := range args {
		if strings.HasPrefix(a, "Cookie: ") {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "Cookie: "), "=")
			args[i] = "'Cookie: " + name + "=…'"
		}
	}
	return "hey " + strings.Join(args, " ")
}

// runLoad runs hey to the end of l.For.
func (h *harness) runLoad(row int, l load) (loadResult, error) {
	h.res.command(row, h.commandLine(l))
	cmd := exec.Command(h.hey, h.heyArgs(l)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("hey: %v\n%s", err, out)
	}
	return parseHey(string(out), l.Expect)
}

// startLoad starts hey for an open-ended run; stop it with the returned
// function, which interrupts hey (it then prints its report).
func (h *harness) startLoad(row int, l load) (stop func() (loadResult, error), err error) {
	l.For = 30 * time.Minute
	h.res.command(row, strings.Replace(h.commandLine(l), "-z 30m0s", "-z <until the cycles end>", 1))
	outFile := filepath.Join(h.work, fmt.Sprintf("hey-%d.out", time.Now().UnixNano()))
	f, err := os.Create(outFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(h.hey, h.heyArgs(l)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	return func() (loadResult, error) {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		f.Close()
		out, _ := os.ReadFile(outFile)
		return parseHey(string(out), l.Expect)
	}, nil
}

var (
	heyRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	heyPct    = regexp.MustCompile(`(?m)^\s+(\d+)%+ in ([0-9.]+) secs`)
	heyStatus = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+(\d+) responses`)
	heyError  = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+\S`)
)

// parseHey reads hey's text report.
func parseHey(out string, expect int) (loadResult, error) {
	r := loadResult{Output: out}
	m := heyRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("hey printed no report:\n%s", out)
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range heyPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		switch p[1] {
		case "50":
			r.P50 = v * 1000
		case "99":
			r.P99 = v * 1000
		}
	}
	status, errs, _ := strings.Cut(out, "Error distribution:")
	for _, s := range heyStatus.FindAllStringSubmatch(status, -1) {
		code, _ := strconv.Atoi(s[1])
		n, _ := strconv.Atoi(s[2])
		if code == expect {
			r.OK += n
		} else {
			r.Errors += n
		}
	}
	if errs != "" {
		sc := bufio.NewScanner(strings.NewReader(errs))
		for sc.Scan() {
			if e := heyError.FindStringSubmatch(sc.Text()); e != nil {
				n, _ := strconv.Atoi(e[1])
				r.Errors += n
			}
		}
	}
	if r.OK == 0 {
		return r, fmt.Errorf("hey got no %d answer:\n%s", expect, out)
	}
	return r, nil
}
