package appctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// followPoll is how often a follow looks whether a stopped app runs again.
var followPoll = time.Second

// followLogs streams an app's logs until ctx ends (the client leaves) or
// the app is removed. Compose ends a follow when every container of the
// project has stopped, as a restart or recreation does; followLogs then
// waits until the app runs again and attaches to the new run, from the
// moment it started, so no line is lost or repeated.
func (m *Manager) followLogs(ctx context.Context, id string, opts LogOptions, w io.Writer) error {
	for {
		rec, err := m.get(id)
		if errors.Is(err, ErrNotInstalled) {
			fmt.Fprintf(w, "stackhub: %s was removed; no more logs\n", id)
			return nil
		}
		if err != nil {
			return fmt.Errorf("logs %s: %w", id, err)
		}
		err = m.engine.Logs(ctx, rec.Project, opts, w)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// A container removed under the stream ends it with an error:
			// that is a recreation, and the wait below finds the new one.
			m.log.Debug("log stream ended", zap.String("app", id), zap.Error(err))
		}
		fmt.Fprintf(w, "stackhub: %s is not running; waiting for it to start again (Ctrl-C stops following)\n", id)
		since, removed, err := m.waitRunning(ctx, id)
		switch {
		case ctx.Err() != nil:
			return nil
		case removed:
			fmt.Fprintf(w, "stackhub: %s was removed; no more logs\n", id)
			return nil
		case err != nil:
			return fmt.Errorf("logs %s: %w", id, err)
		}
		opts.Tail, opts.Since = "all", since
	}
}

// waitRunning waits until a container of the app runs and returns when the
// earliest running one started: every container had stopped when the
// previous stream ended, so the new runs' lines all come after that time.
func (m *Manager) waitRunning(ctx context.Context, id string) (since time.Time, removed bool, err error) {
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		rec, err := m.get(id)
		if errors.Is(err, ErrNotInstalled) {
			return time.Time{}, true, nil
		}
		if err != nil {
			return time.Time{}, false, err
		}
		if cs, err := m.engine.Ps(ctx, rec.Project); err == nil {
			for _, c := range cs {
				if c.State != "running" {
					continue
				}
				res, err := m.engine.Docker().ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
				if err != nil || res.Container.State == nil {
					continue
				}
				started, err := time.Parse(time.RFC3339Nano, res.Container.State.StartedAt)
				if err == nil && (since.IsZero() || started.Before(since)) {
					since = started
				}
			}
			if !since.IsZero() {
				return since, false, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false, ctx.Err()
		case <-t.C:
		}
	}
}
