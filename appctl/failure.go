package appctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/kv"
)

// InstallFailure is the evidence of an app's last failed install, kept after
// the rollback removed its containers: `stackhub apps logs ID` shows it.
type InstallFailure struct {
	App      string            `json:"app"`
	Time     time.Time         `json:"time"`
	Error    string            `json:"error"`
	Services []ServiceEvidence `json:"services,omitempty"`
}

// ServiceEvidence is what one failing service showed before the rollback.
type ServiceEvidence struct {
	Service string `json:"service"`
	// State is the container's state: "exited (code 1)", "unhealthy" …
	State string `json:"state"`
	// Health holds the output of the last failed healthchecks, oldest first.
	Health []string `json:"health,omitempty"`
	// Logs are the container's last lines, "service | line".
	Logs string `json:"logs,omitempty"`
}

// Bounds on the evidence, so a chatty app cannot bloat the error or kv.
const (
	evidenceLogLines   = 20
	evidenceHealthRuns = 3
	evidenceLineBytes  = 400
)

func failureKey(id string) string { return "install-failures/" + id }

// Evidence renders the services' evidence as the text an install error and
// `apps logs` show.
func (f InstallFailure) Evidence() string {
	var b strings.Builder
	for _, s := range f.Services {
		fmt.Fprintf(&b, "\nservice %s: %s\n", s.Service, s.State)
		for _, h := range s.Health {
			fmt.Fprintf(&b, "  healthcheck: %s\n", h)
		}
		if s.Logs != "" {
			fmt.Fprintf(&b, "  last log lines:\n")
			for _, l := range strings.Split(strings.TrimRight(s.Logs, "\n"), "\n") {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		} else {
			fmt.Fprintf(&b, "  (no log lines)\n")
		}
	}
	return b.String()
}

// Report is what `apps logs ID` prints for an app whose install failed.
func (f InstallFailure) Report() string {
	return fmt.Sprintf("%s is not installed: its install failed at %s and was rolled back.\nerror: %s\n%s",
		f.App, f.Time.Local().Format("2006-01-02 15:04:05"), f.Error, f.Evidence())
}

// LastInstallFailure returns the evidence of id's last failed install, if
// that install was not followed by a successful one.
func (m *Manager) LastInstallFailure(id string) (InstallFailure, bool) {
	var f InstallFailure
	if err := m.db.Get(failureKey(id), &f); err != nil {
		return InstallFailure{}, false
	}
	return f, true
}

// installFailed keeps the evidence of a failed install, gathered before the
// rollback, and returns the install's error with that evidence attached.
func (m *Manager) installFailed(rec *Record, cause error, evidence []ServiceEvidence) error {
	f := InstallFailure{App: rec.ID, Time: time.Now().UTC(), Error: cause.Error(), Services: evidence}
	hint := fmt.Sprintf("\n`stackhub apps logs %s` shows this again.", rec.ID)
	if err := m.db.Put(failureKey(rec.ID), f); err != nil {
		m.log.Warn("keep install failure evidence", zap.String("app", rec.ID), zap.Error(err))
		hint = ""
	}
	return fmt.Errorf("install %s: %w\n%s%s", rec.ID, cause, f.Evidence(), hint)
}

// forgetInstallFailure drops the evidence once the app installed.
func (m *Manager) forgetInstallFailure(id string) {
	if err := m.db.Delete(failureKey(id)); err != nil && !errors.Is(err, kv.ErrNotFound) {
		m.log.Warn("drop install failure evidence", zap.String("app", id), zap.Error(err))
	}
}

// gatherEvidence reads the state, healthcheck output and last log lines of
// the app's failing services (those not running, or not healthy), or of the
// main service when all run: it must run before the rollback removes the
// containers.
func (m *Manager) gatherEvidence(ctx context.Context, rec *Record) []ServiceEvidence {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cs, err := m.engine.Ps(ctx, rec.Project)
	if err != nil {
		return nil
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Service < cs[j].Service })
	var out []ServiceEvidence
	add := func(i int) {
		c := cs[i]
		ev := ServiceEvidence{Service: c.Service, State: string(c.State)}
		if res, err := m.engine.Docker().ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{}); err == nil && res.Container.State != nil {
			st := res.Container.State
			switch {
			case !st.Running && st.Status != "created":
				ev.State = fmt.Sprintf("%s (code %d)", st.Status, st.ExitCode)
			case st.Health != nil:
				ev.State = fmt.Sprintf("%s, %s", st.Status, st.Health.Status)
			}
			if st.Error != "" {
				ev.State += ": " + st.Error
			}
			if st.Health != nil {
				var failed []string
				for _, h := range st.Health.Log {
					if h != nil && h.ExitCode != 0 {
						failed = append(failed, clip(fmt.Sprintf("exit %d: %s", h.ExitCode, strings.TrimSpace(h.Output))))
					}
				}
				ev.Health = collapse(failed)
			}
		}
		var buf bytes.Buffer
		if err := m.engine.Logs(ctx, rec.Project, LogOptions{Tail: fmt.Sprint(evidenceLogLines), Services: []string{c.Service}}, &buf); err == nil {
			lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
			for i, l := range lines {
				lines[i] = clip(l)
			}
			ev.Logs = strings.Join(lines, "\n")
		}
		out = append(out, ev)
	}
	for i, c := range cs {
		if c.State != "running" || (c.Health != "" && c.Health != "healthy") {
			add(i)
		}
	}
	if len(out) == 0 {
		for i, c := range cs {
			if c.Service == rec.MainSvc {
				add(i)
			}
		}
	}
	return out
}

// collapse keeps the last few healthcheck failures, a repeated output once
// with its count.
func collapse(failed []string) []string {
	var out []string
	for i := 0; i < len(failed); {
		j := i
		for j < len(failed) && failed[j] == failed[i] {
			j++
		}
		if j-i == 1 {
			out = append(out, failed[i])
		} else {
			out = append(out, fmt.Sprintf("%s (%d times)", failed[i], j-i))
		}
		i = j
	}
	if len(out) > evidenceHealthRuns {
		out = out[len(out)-evidenceHealthRuns:]
	}
	return out
}

func clip(s string) string {
	if len(s) > evidenceLineBytes {
		return s[:evidenceLineBytes] + " …"
	}
	return s
}
