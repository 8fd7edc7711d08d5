package appctl

import (
	"context"
	"time"
)

// poll calls check every interval until it reports done or fails, the
// context ends, or the manager's WaitTimeout passes; then it returns
// timedOut, which says what did not happen in time.
func (m *Manager) poll(ctx context.Context, interval time.Duration, check func() (bool, error), timedOut func() error) error {
	deadline := time.Now().Add(m.cfg.WaitTimeout)
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return timedOut()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
