package bench

import (
	"fmt"
	"path/filepath"
	"time"
)

// sample is what one start of a process shows once ready and idle.
type sample struct {
	readyMS    float64
	mem        memory
	goroutines int
}

// startAndSample starts s, lets it idle for Settle, reads its memory and
// goroutines, and stops it unless keep.
func (h *harness) startAndSample(s *server, keep bool) sample {
	if err := s.start(h.cfg.Stackhub); err != nil {
		h.t.Fatal(err)
	}
	time.Sleep(h.cfg.Settle)
	mem, err := s.memory()
	if err != nil {
		h.t.Fatal(err)
	}
	g, err := s.goroutines()
	if err != nil {
		h.t.Fatal(err)
	}
	if !keep {
		s.stop()
	}
	return sample{readyMS: float64(s.ready.Microseconds()) / 1000, mem: mem, goroutines: g}
}

// compareStarts starts ours and the baseline alternately, Rounds times
// each after one unmeasured start of each (the first start creates the
// local CA and state), and adds the footprint measures under key.
func (h *harness) compareStarts(key, what string, ours, plain *server) {
	h.startAndSample(plain, false)
	h.startAndSample(ours, false)
	var o, b []sample
	for r := range h.cfg.Rounds {
		if r%2 == 0 {
			b = append(b, h.startAndSample(plain, false))
			o = append(o, h.startAndSample(ours, false))
		} else {
			o = append(o, h.startAndSample(ours, false))
			b = append(b, h.startAndSample(plain, false))
		}
	}
	add := func(k, name, unit string, dec int, f func(sample) float64, cmp func(a, b float64) string) {
		so, sb := statOf(collect(o, f)), statOf(collect(b, f))
		h.res.add(Measure{Row: 4, Key: "footprint." + key + "." + k, Name: name + ", " + what, Unit: unit, Decimals: dec,
			Ours: so, BaselineName: "plain Caddy, same binary", Baseline: ptr(sb), Comparison: cmp(so.Median, sb.Median)})
	}
	diff := func(unit string, dec int) func(a, b float64) string {
		return func(a, b float64) string { return signed(a-b, unit, dec) }
	}
	add("rss", "idle RSS (VmRSS)", "MB", 1, func(s sample) float64 { return s.mem.RSS }, diff("MB", 1))
	add("anon", "idle RSS, anonymous part (RssAnon)", "MB", 1, func(s sample) float64 { return s.mem.Anon }, diff("MB", 1))
	add("goroutines", "goroutines", "", 0, func(s sample) float64 { return float64(s.goroutines) }, diff("", 0))
	add("ready", "start → ready", "ms", 0, func(s sample) float64 { return s.readyMS }, diff("ms", 0))
}

// footprintIdleRows: row 4 with no app, against plain Caddy with one site.
func (h *harness) footprintIdleRows() {
	h.logf("row 4 footprint, no app")
	ours := h.newStackhub("stackhub-idle", filepath.Join(h.work, "idle"))
	plain := h.newPlainCaddy("plain-idle", 1, "127.0.0.1:9")
	h.compareStarts("idle", "0 apps", ours, plain)
	if h.cfg.Profiles != "" {
		h.startAndSample(ours, true)
		h.heapProfile(ours, "heap-idle-0apps.pb.gz", "heap of stackhub idle with 0 apps")
		ours.stop()
	}
	h.res.note(4, fmt.Sprintf("RSS from /proc/<pid>/status of the real process after %s idle; `stackhub up` vs `stackhub run` of a plain Caddyfile (same binary, same listeners, storage and local CA, one reverse_proxy site per app); ready = the admin API answers (/stackhub/apps or /config/) and the HTTPS port accepts; containers are not counted. RssFile, the part not shown as anonymous, is pages of the 100 MB executable mapped from the page cache (shared, reclaimable).", h.cfg.Settle))
}

// footprintAppsRows: row 4 with Apps installed apps, then Sign-ins.
func (h *harness) footprintAppsRows(m *mainInstance) {
	h.logf("row 4 footprint: installing up to %d apps", h.cfg.Apps)
	for i := 3; i <= h.cfg.Apps; i++ {
		if err := h.install(m.s, fmt.Sprintf("fp%02d", i), false); err != nil {
			h.t.Fatal(err)
		}
	}
	list, err := h.api(m.s).List()
	if err != nil || len(list.Apps) != max(h.cfg.Apps, 2) {
		h.t.Fatalf("apps installed: %d (%v), want %d", len(list.Apps), err, h.cfg.Apps)
	}
	m.s.stop()
	plain := h.newPlainCaddy("plain-apps", h.cfg.Apps, "127.0.0.1:9")
	h.logf("row 4 footprint, %d apps", h.cfg.Apps)
	h.compareStarts("apps", fmt.Sprintf("%d apps", len(list.Apps)), m.s, plain)

	// Sign-ins, on a fresh start with the apps.
	before := h.startAndSample(m.s, true)
	if h.cfg.Profiles != "" {
		h.heapProfile(m.s, "heap-idle-apps.pb.gz", fmt.Sprintf("heap of stackhub idle with %d apps", len(list.Apps)))
	}
	h.logf("row 4 footprint, %d sign-ins", h.cfg.SignIns)
	for i := range h.cfg.SignIns {
		name := fmt.Sprintf("user%02d", i)
		if _, err := h.api(m.s).AddUser(userRequest(name, "admin")); err != nil {
			h.t.Fatalf("add %s: %v", name, err)
		}
		b := newBrowser(m.s)
		if err := b.signIn(name, benchPassword, h.appURL(m.s, "alpha", "/")); err != nil {
			h.t.Fatalf("sign in %s: %v", name, err)
		}
		// The user leaves: the server's goroutines and buffers of the
		// browser's keep-alive connections are not StackHub's state.
		b.c.CloseIdleConnections()
	}
	time.Sleep(h.cfg.Settle)
	after, err := m.s.memory()
	if err != nil {
		h.t.Fatal(err)
	}
	g, _ := m.s.goroutines()
	if h.cfg.Profiles != "" {
		h.heapProfile(m.s, "heap-after-signins.pb.gz", fmt.Sprintf("heap of stackhub after %d sign-ins", h.cfg.SignIns))
	}
	so, sb := statOf([]float64{after.RSS}), statOf([]float64{before.mem.RSS})
	h.res.add(Measure{Row: 4, Key: "footprint.signins.rss", Name: fmt.Sprintf("RSS after %d users added and signed in (password + TOTP enrolment), %s idle", h.cfg.SignIns, h.cfg.Settle),
		Unit: "MB", Decimals: 1, Ours: so, BaselineName: "same process before", Baseline: ptr(sb), Comparison: signed(after.RSS-before.mem.RSS, "MB", 1)})
	go2, gb := statOf([]float64{float64(g)}), statOf([]float64{float64(before.goroutines)})
	h.res.add(Measure{Row: 4, Key: "footprint.signins.goroutines", Name: fmt.Sprintf("goroutines after %d sign-ins", h.cfg.SignIns),
		Ours: go2, BaselineName: "same process before", Baseline: ptr(gb), Comparison: signed(float64(g-before.goroutines), "", 0)})
	m.s.stop()
}

func (h *harness) heapProfile(s *server, file, what string) {
	path := filepath.Join(h.cfg.Profiles, file)
	if err := s.profile("heap", path); err != nil {
		h.t.Errorf("heap profile: %v", err)
		return
	}
	h.keepProfile(path, what, "heap")
}
