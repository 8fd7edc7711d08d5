package appctl

import "fmt"

// RefuseManaged refuses a change (e.g. "change its settings", "remove
// it") to an app declared in the config, saying where it is declared and
// what to do instead; nil for an app that is not declared. The portal
// checks with it before starting an operation, so the refusal is a plain
// 409 rather than a failed stream.
func RefuseManaged(rec Record, change string) error {
	if rec.Managed == "" {
		return nil
	}
	return fmt.Errorf("%w: app %s is declared in the config (%s): %s there and run `stackhub reload`", ErrManaged, rec.ID, rec.Managed, change)
}
