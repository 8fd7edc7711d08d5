package appctl

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stackhub/stackhub/backup"
)

// The admin API and the portal answer an operation's error with
// HTTPStatus: the statuses the admin API gave backup errors and a
// config-managed app before it shared this mapping.
func TestUnitHTTPStatusOfBackupAndManagedErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("backup keep: %w", backup.ErrNotConfigured), 424},
		{fmt.Errorf("%w: install it", backup.ErrNoRestic), 424},
		{fmt.Errorf("%w: app keep has no backup in /repo", backup.ErrNoSnapshot), 404},
		{fmt.Errorf("open repository: %w", backup.ErrWrongPassword), 403},
		{fmt.Errorf("open repository: %w", backup.ErrUnreachable), 502},
		{fmt.Errorf("open repository: %w", backup.ErrNoRepository), 502},
		{fmt.Errorf("backup keep: %w", backup.ErrNoSpace), 507},
		{fmt.Errorf("%w: declared in Caddyfile:3", ErrManaged), 409},
		{fmt.Errorf("restore keep: %w", ErrNotInstalled), 404},
		{errors.New("something else"), 500},
	} {
		if got := HTTPStatus(c.err); got != c.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
