package adminapi

import (
	"fmt"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/stores"
)

// requiredApps finds in the app's store the apps it requires that are not
// installed. Without the admin's agreement (withDeps) it fails, listing
// them, so the admin is asked once with the whole list.
func requiredApps(p *platform.Platform, app stores.App, withDeps bool) ([]stores.App, error) {
	missing := p.Apps.MissingApps(app)
	if len(missing) == 0 {
		return nil, nil
	}
	if !withDeps {
		return nil, &appctl.NeedsAppsError{App: app.ID, Missing: missing}
	}
	var out []stores.App
	for _, id := range missing {
		dep, err := p.Catalog.Find(app.Store + "/" + id)
		if err != nil {
			return nil, fmt.Errorf("install %s: the app %s it needs: %w", app.ID, id, err)
		}
		out = append(out, dep)
	}
	return out, nil
}
