package appctl

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.uber.org/zap"
)

// What StackHub runs is what it checked (DESIGN.md, "Apps are untrusted").
// At install the app's compose file is loaded with the install variables,
// rewritten (rewrite.go) and recorded in kv with the app's record
// (Record.Validated); the checks run on that recorded project, and every
// start, restart and recovery runs it again, loaded from kv. Files in the
// app's folder, which a container might change, are never read again: the
// compose file in source/ and compose.yaml next to it are copies for people.
// Before every start, the project's bind mounts are checked once more
// against the host's files as they are then (paths.go).

// validate loads the app's compose file from its recorded source, rewrites
// it into what StackHub runs, records the result in rec.Validated and
// checks it for hazards. It returns the project loaded back from that
// record, so what was checked is exactly what runs.
func (m *Manager) validate(ctx context.Context, rec *Record) (*types.Project, error) {
	if err := m.writeSource(rec); err != nil {
		return nil, err
	}
	// Seed files first: an app may read one as its env_file (what an
	// Umbrel hook would have created, e.g. settings.env).
	if err := m.prepareData(rec); err != nil {
		return nil, err
	}
	src := filepath.Join(m.appDir(rec.ID), "source")
	p, err := m.engine.Load(ctx, LoadSpec{Name: rec.Project, WorkingDir: src, Files: []string{filepath.Join(src, "compose.yaml")}, Env: m.installEnv(rec)})
	if err != nil {
		return nil, fmt.Errorf("%w: compose file: %w", ErrInvalid, err)
	}
	// The hazard check sees the project as the app declared it, interpolated
	// with the install's values, before StackHub adds its own labels and
	// network (stores.ProjectHazards).
	if err := m.checkHazards(p, rec); err != nil {
		return nil, err
	}
	// env_file and label_file are read only once their paths passed the
	// checks, the containment one included (links resolved on the host);
	// then the references are dropped, so that no later start reads them
	// again.
	if err := m.checkReadFiles(p, rec); err != nil {
		return nil, err
	}
	if p, err = ResolveFiles(p); err != nil {
		return nil, fmt.Errorf("%w: compose file: %w", ErrInvalid, err)
	}
	forgetReadFiles(p)
	mainNetworks := copyNetworks(p.Services[rec.MainSvc].Networks)
	if err := rewriteProject(p, rewriteSpec{
		App: rec.ID, Instance: m.cfg.Instance, Network: m.proxyNetwork(rec.ID),
		MainService: rec.MainSvc, MainPort: routedPort(rec), AppDir: m.appDir(rec.ID), PublishPorts: rec.PublishPorts,
	}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	scopeNetworks(p)
	if err := m.assignSubnets(ctx, p, rec.ID); err != nil { // subnets.go
		return nil, err
	}
	exposeProject(p, rec, mainNetworks) // exposure.go
	m.joinRequired(p, rec)              // deps.go
	y, err := p.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("record the project: %w", err)
	}
	// rec.Validated is set only once the project passed the checks.
	checked := *rec
	checked.Validated = y
	p, err = m.recordedProject(ctx, &checked)
	if err != nil {
		return nil, err
	}
	rec.Validated = y
	if err := m.writeRunCopy(rec); err != nil {
		return nil, err
	}
	return p, nil
}

// recordedProject loads the project recorded in rec. It reads no file: no
// interpolation, no .env, no env_file; paths are already absolute.
func (m *Manager) recordedProject(ctx context.Context, rec *Record) (*types.Project, error) {
	if len(rec.Validated) == 0 {
		return nil, fmt.Errorf("app %s has no recorded project (installed by an older StackHub); starting it records one", rec.ID)
	}
	src := filepath.Join(m.appDir(rec.ID), "source")
	p, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  src,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(src, "compose.yaml"), Content: rec.Validated}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) {
		o.SetProjectName(rec.Project, true)
		o.SkipInterpolation = true
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.ResolvePaths = false
	})
	if err != nil {
		return nil, fmt.Errorf("load the recorded project of %s: %w", rec.ID, err)
	}
	p.WorkingDir = src
	p.ComposeFiles = []string{filepath.Join(src, "compose.yaml")}
	setComposeLabels(p)
	return p, nil
}

// startProject returns the project to start rec's app with: the recorded
// one, checked against the host's files as they are now, its data folder
// and seed files in place. An app installed before projects were recorded
// gets its project recorded now, from the compose file kept in kv (never
// from the copy on disk), checked as at install.
func (m *Manager) startProject(ctx context.Context, rec *Record) (*types.Project, error) {
	var p *types.Project
	var err error
	if len(rec.Validated) > 0 {
		// A subnet of the app's that another network took while the app's
		// networks were gone: the project is recorded anew, with a free one.
		if p, err = m.recordedProject(ctx, rec); err == nil {
			if why, taken := m.subnetTaken(ctx, p); taken { // subnets.go
				m.log.Warn("the app's subnet was taken: assigning another", zap.String("app", rec.ID), zap.String("why", why))
				rec.Validated = nil
			}
		}
	}
	if len(rec.Validated) == 0 {
		if p, err = m.validate(ctx, rec); err != nil {
			return nil, err
		}
		if err := m.db.Put(recordKey(rec.ID), *rec); err != nil {
			return nil, fmt.Errorf("record the project: %w", err)
		}
	} else {
		if p, err = m.recordedProject(ctx, rec); err != nil {
			return nil, err
		}
		// The app's files (config files it bind-mounts) come back from the
		// record when its folder was lost.
		if m.sourceMissing(rec) {
			if err := m.writeSource(rec); err != nil {
				return nil, err
			}
		}
	}
	if err := m.prepareStart(ctx, rec, p); err != nil {
		return nil, err
	}
	return p, nil
}

// prepareStart readies the app's data folder and checks the project's bind
// mounts against the host's files and its volumes against the engine's,
// right before containers are started.
func (m *Manager) prepareStart(ctx context.Context, rec *Record, p *types.Project) error {
	if err := m.prepareData(rec); err != nil {
		return err
	}
	if err := m.checkContainment(p, rec); err != nil {
		return err
	}
	return m.checkVolumeOwners(ctx, p, rec)
}

// forgetReadFiles drops the env_file and label_file references of every
// service and pre_start hook: the loader has read them into environment
// and labels already.
func forgetReadFiles(p *types.Project) {
	for name, s := range p.Services {
		s.EnvFiles, s.LabelFiles = nil, nil
		for i := range s.PreStart {
			s.PreStart[i].EnvFiles, s.PreStart[i].LabelFiles = nil, nil
		}
		p.Services[name] = s
	}
}

// holdBack stops an app whose recorded project (or, for an app installed
// by an older StackHub, whose compose file) no longer passes the checks
// when StackHub brings it back, e.g. a legacy install that mounts its own
// folder: its containers, created from an unchecked project, must not keep
// running. The record says why; `apps start` checks again.
func (m *Manager) holdBack(ctx context.Context, rec *Record, cause error) {
	var ce *ContainmentError
	var he *HazardError
	if !errors.As(cause, &ce) && !errors.As(cause, &he) {
		return
	}
	m.publish(rec, "")
	if err := m.engine.Stop(ctx, rec.Project, nil, nil); err != nil {
		m.log.Error("stop an app that fails the checks", zap.String("app", rec.ID), zap.Error(err))
	}
	rec.Running, rec.Error, rec.UpdatedAt = false, cause.Error(), time.Now().UTC()
	rec.Note = "StackHub stopped this app when it started, because it fails the checks (see error); fix it and `stackhub apps start " + rec.ID + "`, or remove it"
	if err := m.db.Put(recordKey(rec.ID), *rec); err != nil {
		m.log.Error("record a stopped app", zap.String("app", rec.ID), zap.Error(err))
	}
}

// putSourceBack writes rec's source folder and run copy again, after a
// change that was checked and refused wrote another version's (the copies
// on disk are for people; what runs is rec.Validated).
func (m *Manager) putSourceBack(rec *Record) {
	if err := m.writeSource(rec); err != nil {
		m.log.Warn("write the app's source back", zap.String("app", rec.ID), zap.Error(err))
		return
	}
	if err := m.writeRunCopy(rec); err != nil {
		m.log.Warn("write the app's project back", zap.String("app", rec.ID), zap.Error(err))
	}
}

// revalidate checks and records rec's project anew, as an install does,
// after a change of its values, address or version, and readies its start
// (data folder, mounts checked against the host). On error rec's source on
// disk may hold the refused version: putSourceBack the old record.
func (m *Manager) revalidate(ctx context.Context, rec *Record) (*types.Project, error) {
	rec.Validated = nil
	p, err := m.validate(ctx, rec)
	if err != nil {
		return nil, err
	}
	rec.Exposure = exposure(p, rec) // exposure.go
	if err := m.prepareStart(ctx, rec, p); err != nil {
		return nil, err
	}
	return p, nil
}
