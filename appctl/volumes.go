package appctl

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
)

// checkVolumeOwners refuses to start an app whose named volumes already
// exist as another app's (or anything else's) volumes. Compose reuses an
// existing volume of the same name, with only a warning, so an app naming
// another app's volume (`name: stackhub-vault_data`) would mount that
// app's data, and an app installed after another took its volume's name
// would put its data where the other reads it. StackHub labels every volume
// it creates with its app; a volume kept with --keep-data keeps its label.
// External volumes are left to the hazard check.
func (m *Manager) checkVolumeOwners(ctx context.Context, p *types.Project, rec *Record) error {
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[key]
		if bool(v.External) || v.Name == "" {
			continue
		}
		res, err := m.engine.Docker().VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{})
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("inspect volume %s: %w", v.Name, err)
		}
		if l := res.Volume.Labels; l[LabelApp] != rec.ID || l[LabelInstance] != m.cfg.Instance {
			owner := "something else on this machine"
			if l[LabelApp] != "" {
				owner = "app " + l[LabelApp]
			}
			problems = append(problems, fmt.Sprintf("volume %s is named %s, which is a volume of %s: an app only mounts volumes of its own; rename the volume in the compose file", key, v.Name, owner))
		}
	}
	if len(problems) > 0 {
		return &ContainmentError{App: rec.ID, Problems: problems}
	}
	return nil
}
