package appctl

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stackhub/stackhub/internal/hostpath"
)

// Before every start (install, start, restart, recovery), the host paths an
// app's containers will get are resolved on the host, symbolic links
// included, because Docker follows links when it mounts a bind source:
//
//   - A source inside the app's data folder (APP_DATA_DIR) must stay inside
//     it once resolved, and one among the app's files (below source/) must
//     stay among them. An admin's approval never opens these: it covered
//     the path shown at install, not where a link made later points.
//   - The app's folder itself, its source/ folder, the compose files and
//     anything else of StackHub's data folder (other apps, StackHub's
//     state) are never mounted, whatever the spelling (`..` included).
//   - Host paths outside StackHub's data folder were checked at install
//     (the hazard check: they need an admin's approval); they must not lead
//     into StackHub's data folder through a link.
//   - No source lies inside another source that a container can write:
//     that container could swap it for a link at any time, and Docker
//     (which restarts containers by itself) would follow it.
//
// The same rules hold for the files the compose loader reads at install
// (env_file, label_file), for the files of secrets and configs (bind
// mounts too) and for local volumes that bind a host folder.

// ContainmentError says that an app's project would reach outside the
// app's folder on the host. Nothing was started.
type ContainmentError struct {
	App      string
	Problems []string
}

func (e *ContainmentError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "app %s would reach outside its folder on the host, so StackHub does not start it:", e.App)
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p)
	}
	return b.String()
}

func (e *ContainmentError) Unwrap() error { return ErrInvalid }

// hostMount is a host path a container of the app gets.
type hostMount struct {
	who      string // "service web", "secret token" …
	source   string // as declared (after interpolation)
	writable bool
}

// projectMounts lists every host path the project mounts into a container.
func projectMounts(p *types.Project) []hostMount {
	var out []hostMount
	volumes := func(who string, vs []types.ServiceVolumeConfig) {
		for _, v := range vs {
			if v.Type == types.VolumeTypeBind {
				out = append(out, hostMount{who: who, source: v.Source, writable: !v.ReadOnly})
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		volumes("service "+name, s.Volumes)
		for i, h := range s.PreStart {
			volumes(fmt.Sprintf("pre_start hook %d of service %s", i+1, name), h.Volumes)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Secrets)) {
		if f := p.Secrets[name].File; f != "" {
			out = append(out, hostMount{who: "secret " + name, source: f})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Configs)) {
		if f := p.Configs[name].File; f != "" {
			out = append(out, hostMount{who: "config " + name, source: f})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[name]
		if bool(v.External) || (v.Driver != "" && v.Driver != "local") || !strings.Contains(v.DriverOpts["o"], "bind") || v.DriverOpts["device"] == "" {
			continue
		}
		out = append(out, hostMount{who: "volume " + name, source: v.DriverOpts["device"], writable: true})
	}
	return out
}

// appPaths are an app's folders on the host, as configured and resolved.
type appPaths struct {
	platform, app, data, source, compose      string // as configured
	rPlatform, rApp, rData, rSource, rCompose string // resolved

	// required are the data folders of the apps this one requires
	// (checkContainment sets them).
	required requiredData
}

func (m *Manager) appPaths(id string) (appPaths, error) {
	a := appPaths{platform: filepath.Clean(m.cfg.DataDir), app: filepath.Clean(m.appDir(id))}
	a.data = filepath.Join(a.app, "data")
	a.source = filepath.Join(a.app, "source")
	a.compose = filepath.Join(a.source, "compose.yaml")
	for _, p := range []struct{ from, to *string }{{&a.platform, &a.rPlatform}, {&a.app, &a.rApp}, {&a.data, &a.rData}, {&a.source, &a.rSource}} {
		r, err := resolveHostPath(*p.from)
		if err != nil {
			return a, fmt.Errorf("resolve %s: %w", *p.from, err)
		}
		*p.to = r
	}
	a.rCompose = filepath.Join(a.rSource, "compose.yaml")
	return a, nil
}

// inFiles reports whether p is one of the app's files: below source/, but
// not the compose file.
func inFiles(p, source, compose string) bool {
	return p != source && p != compose && hostpath.Within(p, source)
}

// check resolves src and returns the resolved path, or what is wrong.
func (a appPaths) check(src string) (string, string) {
	c := src
	if !filepath.IsAbs(c) {
		c = filepath.Join(a.source, c)
	}
	c = filepath.Clean(c)
	r, err := resolveHostPath(c)
	if err != nil {
		return "", fmt.Sprintf("%s cannot be resolved on the host (%v): remove the link (the app may have made it)", c, err)
	}
	switch {
	case hostpath.Within(c, a.data):
		if !hostpath.Within(r, a.rData) {
			return "", fmt.Sprintf("%s leads out of the app's data folder through a symbolic link (to %s): remove the link (the app may have made it) and start the app again", c, r)
		}
	case inFiles(c, a.source, a.compose):
		if !inFiles(r, a.rSource, a.rCompose) {
			return "", fmt.Sprintf("%s leads out of the app's files through a symbolic link (to %s): remove the link and start the app again", c, r)
		}
	case hostpath.Within(c, a.app):
		return "", fmt.Sprintf("%s holds StackHub's own files for the app (its source and the project it runs): no container may mount it; mount a folder inside ${APP_DATA_DIR} instead", c)
	case a.required.holds(c, r):
		return r, ""
	case hostpath.Within(c, a.platform):
		return "", fmt.Sprintf("%s is in StackHub's data folder (other apps, StackHub's state): no container may mount it", c)
	default:
		if hostpath.Within(r, a.rPlatform) && !hostpath.Within(r, a.rData) && !inFiles(r, a.rSource, a.rCompose) {
			return "", fmt.Sprintf("%s leads into StackHub's data folder through a symbolic link (to %s): no container may mount it", c, r)
		}
	}
	return r, ""
}

// requiredData are the data folders of the apps an app requires (an
// Umbrel app reads its dependency's data: electrs, bitcoin's blocks), as
// configured and resolved: installing them was what the admin approved.
// Both the hazard check (allowRequiredBinds) and the containment check
// (appPaths.check) let the app mount them, by holds.
type requiredData struct {
	dirs, resolved []string
}

// requiredData resolves the data folders of the apps rec requires.
func (m *Manager) requiredData(rec *Record) (requiredData, error) {
	var rd requiredData
	for _, id := range rec.Requires {
		d := filepath.Join(filepath.Clean(m.appDir(id)), "data")
		r, err := resolveHostPath(d)
		if err != nil {
			return rd, fmt.Errorf("resolve %s: %w", d, err)
		}
		rd.dirs, rd.resolved = append(rd.dirs, d), append(rd.resolved, r)
	}
	return rd, nil
}

// holds reports whether c (a host path as configured, clean and absolute)
// is in one of the folders, and stays in it once resolved (r).
func (rd requiredData) holds(c, r string) bool {
	for i, d := range rd.dirs {
		if hostpath.Within(c, d) && hostpath.Within(r, rd.resolved[i]) {
			return true
		}
	}
	return false
}

// NestedMountHazard is the name an admin approves nested writable bind
// mounts by (--approve nested-mount).
const NestedMountHazard = "nested-mount"

// checkContainment checks the project's host mounts against the host's
// files as they are now.
func (m *Manager) checkContainment(p *types.Project, rec *Record) error {
	a, err := m.appPaths(rec.ID)
	if err != nil {
		return err
	}
	if a.required, err = m.requiredData(rec); err != nil {
		return err
	}
	var problems []string
	mounts := projectMounts(p)
	resolved := make([]string, len(mounts))
	for i, mt := range mounts {
		r, problem := a.check(mt.source)
		if problem != "" {
			problems = append(problems, mt.who+" mounts "+problem)
		}
		resolved[i] = r
	}
	// Nested writable mounts need the admin's approval (hazard name
	// nested-mount): they are not a way out by themselves, only once a
	// container swaps the inner folder for a link and Docker restarts the
	// other container on its own.
	nestedApproved := slices.Contains(rec.ApprovedHazardNames, NestedMountHazard) // by name only, not by --approve-hazards
	for i, outer := range mounts {
		if !outer.writable || resolved[i] == "" || nestedApproved {
			continue
		}
		for j, inner := range mounts {
			if j == i || resolved[j] == "" || resolved[j] == resolved[i] || !hostpath.Within(resolved[j], resolved[i]) {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s mounts %s with write access, and %s mounts %s inside it: a container could replace %s by a link to anywhere on the host, which Docker would follow; mount the outer folder read-only, or use folders side by side (or install with --approve "+NestedMountHazard+" if you trust the app)",
				outer.who, resolved[i], inner.who, resolved[j], resolved[j]))
		}
	}
	if len(problems) > 0 {
		return &ContainmentError{App: rec.ID, Problems: problems}
	}
	return nil
}

// checkReadFiles checks the files the compose loader read at install
// (env_file, label_file) the way bind sources are checked.
func (m *Manager) checkReadFiles(p *types.Project, rec *Record) error {
	a, err := m.appPaths(rec.ID)
	if err != nil {
		return err
	}
	var problems []string
	check := func(who, file string) {
		if _, problem := a.check(file); problem != "" {
			problems = append(problems, who+" reads "+problem)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		specs := []types.ContainerSpec{s.ContainerSpec}
		for _, h := range s.PreStart {
			specs = append(specs, h.ContainerSpec)
		}
		for _, spec := range specs {
			for _, f := range spec.EnvFiles {
				check("service "+name, f.Path)
			}
			for _, f := range spec.LabelFiles {
				check("service "+name, f)
			}
		}
	}
	if len(problems) > 0 {
		return &ContainmentError{App: rec.ID, Problems: problems}
	}
	return nil
}

// resolveHostPath resolves every symbolic link of p on the host. A part of
// p that does not exist yet is kept as it is (Docker creates missing bind
// sources); a link whose target does not exist is an error, because Docker
// would create its target, wherever it points.
func resolveHostPath(p string) (string, error) {
	rest := ""
	cur := filepath.Clean(p)
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if fi, lerr := os.Lstat(cur); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(cur)
			return "", fmt.Errorf("%s is a link to %s, which does not exist", cur, target)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return filepath.Clean(p), nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
