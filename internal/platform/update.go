package platform

import (
	"context"
	"fmt"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/stores"
)

// UpdateTarget is the store's current version of an installed app, the one
// an update installs: the admin API (for the CLI) and the portal both ask
// here. to, when set, must be that version: a store offers one version.
func (p *Platform) UpdateTarget(ctx context.Context, id, to string) (stores.App, error) {
	st, err := p.Apps.Status(ctx, id)
	if err != nil {
		return stores.App{}, err
	}
	app, err := p.Catalog.Find(st.Store + "/" + id)
	if err != nil {
		return app, fmt.Errorf("%w: update %s: its store %q no longer has it: %v", appctl.ErrInvalid, id, st.Store, err)
	}
	if to != "" && to != app.Version {
		return app, fmt.Errorf("%w: update %s: the store %s offers version %s, not %s", appctl.ErrInvalid, id, st.Store, app.Version, to)
	}
	if app.Version == st.Version && to == "" {
		return app, fmt.Errorf("%w: %s is already at the store's version %s", appctl.ErrInvalid, id, app.Version)
	}
	return app, nil
}
