package stores

import (
	"context"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stackhub/stackhub/internal/hostpath"
)

// Hazards lists the settings of a compose file that reach beyond the app:
// into the host (privileged containers, host namespaces, devices, host
// folders, the engine's socket …), into another app (its network, volumes
// or containers), or into StackHub (its labels, its network). The file is
// loaded with compose-go with example install variables and the defaults of
// its x-stackhub fields (see ExampleEnv); installing with other values needs
// a new check on the project as loaded then (ProjectHazards).
func Hazards(compose []byte) ([]Hazard, error) {
	app, err := parseNative(compose, "app")
	if err != nil {
		// Not a StackHub app (no x-stackhub block, say): check it as a plain
		// compose file.
		app = App{ID: "app", Compose: compose}
	}
	p, err := LoadProject(context.Background(), app, ExampleEnv(app))
	if err != nil {
		return nil, err
	}
	return ProjectHazards(p, exampleAppDir), nil
}

// Host paths that are safe to bind-mount read-only: time zone data.
var benignReadOnly = []string{"/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo"}

// System folders of a host; a bind mount of one of them (or below) is
// flagged with the folder's own reason.
var systemPaths = []struct{ path, reason string }{
	{"/etc", "host configuration (users, passwords, services)"},
	{"/root", "the root user's home"},
	{"/home", "users' home folders"},
	{"/boot", "the host's kernel and boot loader"},
	{"/usr", "the host's programs"},
	{"/bin", "the host's programs"},
	{"/sbin", "the host's programs"},
	{"/lib", "the host's libraries"},
	{"/lib64", "the host's libraries"},
	{"/opt", "the host's installed software"},
	{"/var/lib/docker", "every container's files"},
	{"/var", "the host's state and logs"},
	{"/proc", "the host's processes and kernel settings"},
	{"/sys", "the host's kernel and devices"},
	{"/dev", "the host's devices"},
	{"/run", "the host's runtime sockets"},
	{"/srv", "the host's served data"},
	{"/mnt", "the host's mounted disks"},
	{"/media", "the host's removable disks"},
}

// ProjectHazards lists the hazards of a loaded project (after
// interpolation, before StackHub's own rewrite of it); appDir is the app's
// folder on the host: files below it are the app's own.
//
// The check is an allow-list (hazards_walk.go): every set field of every
// service, pre_start/post_start/pre_stop hook, job, volume, network, secret
// and config is safe, checked, or a hazard; a field the check does not know
// is a hazard ("unknown-setting").
func ProjectHazards(p *types.Project, appDir string) (hz []Hazard) {
	c := &checker{p: p, appDir: path.Clean(appDir), workDir: p.WorkingDir, seen: map[string]bool{}}
	defer func() {
		// A check that cannot finish must not pass the app.
		if r := recover(); r != nil {
			hz = append(c.hz, Hazard{Name: "check-failed", Kind: "project", Service: p.Name, Setting: "(whole file)",
				Reason: fmt.Sprintf("the check could not finish (%v), so the app's settings are not known to be safe", r)})
		}
	}()
	if c.workDir == "" {
		c.workDir = path.Join(c.appDir, "source")
	}
	c.walk(place{kind: "project", name: p.Name}, reflect.ValueOf(p), projectFields)
	for _, name := range sortedKeys(p.Services) {
		c.container(place{kind: "service", name: name}, reflect.ValueOf(p.Services[name]), serviceFields)
	}
	for _, name := range sortedKeys(p.Jobs) {
		c.container(place{kind: "job", name: name}, reflect.ValueOf(p.Jobs[name]), jobFields)
	}
	for _, name := range sortedKeys(p.Volumes) {
		c.volume(name, p.Volumes[name])
	}
	for _, name := range sortedKeys(p.Networks) {
		c.network(name, p.Networks[name])
	}
	for _, name := range sortedKeys(p.Secrets) {
		c.fileObject(place{kind: "secret", name: name}, types.FileObjectConfig(p.Secrets[name]))
	}
	for _, name := range sortedKeys(p.Configs) {
		c.fileObject(place{kind: "config", name: name}, types.FileObjectConfig(p.Configs[name]))
	}
	return c.hz
}

// checker collects the hazards of one project.
type checker struct {
	p       *types.Project
	appDir  string
	workDir string // relative paths of the compose file resolve against it
	hz      []Hazard
	seen    map[string]bool
	hooks   []func() // hook walks, run after their service's
}

// place is where a setting sits: the service (job, volume …) and, for a
// setting nested below it, the path of keys before it ("pre_start[0].").
type place struct {
	kind, name string
	prefix     string
}

func (at place) sub(prefix string) place {
	at.prefix += prefix
	return at
}

// add records a hazard once. A pre_start hook inherits its service's
// settings, so a hook's finding that repeats its service's (walked first)
// is left out.
func (c *checker) add(at place, name, setting, reason string) {
	setting = at.prefix + setting
	k := at.kind + "\x00" + at.name + "\x00" + name + "\x00" + hookPrefix.ReplaceAllString(setting, "")
	if c.seen[k] {
		return
	}
	c.seen[k] = true
	kind := at.kind
	if kind == "service" {
		kind = ""
	}
	c.hz = append(c.hz, Hazard{Name: name, Kind: kind, Service: at.name, Setting: setting, Reason: reason})
}

var hookPrefix = regexp.MustCompile(`^(pre_start|post_start|pre_stop|post_stop)\[\d+\]\.`)

// resolve makes a path of the compose file absolute and clean, as Compose
// reads it (relative to the compose file's folder).
func (c *checker) resolve(p string) string {
	if !path.IsAbs(p) {
		p = path.Join(c.workDir, p)
	}
	return path.Clean(p)
}

// hostFile checks a host file or folder the engine or Compose reads for
// the app (env_file, a secret's file, a build context …): it must be in
// the app's folder.
func (c *checker) hostFile(at place, key, p, what string) {
	if p == "" {
		return
	}
	abs := c.resolve(p)
	if hostpath.Within(abs, c.appDir) {
		return
	}
	c.add(at, "host-path", key+": "+abs, what+" outside the app's folder: the app would read "+abs+" from the host")
}

// bindHazard says what is hazardous about bind-mounting src from the host:
// the hazard's name and reason ("" when nothing is).
func (c *checker) bindHazard(src string, readOnly bool) (name, reason string) {
	if src == "" {
		return "", ""
	}
	abs := c.resolve(src)
	base := path.Base(abs)
	switch {
	case strings.HasSuffix(base, ".sock") && (strings.Contains(base, "docker") || strings.Contains(base, "podman") || strings.Contains(base, "containerd")):
		return "engine-socket", "the container engine's socket gives full control of the host (root)"
	case abs == "/":
		return "host-path", "the host's whole file system"
	case abs == c.appDir, abs == path.Join(c.appDir, "source"), abs == path.Join(c.appDir, "compose.yaml"),
		abs == path.Join(c.appDir, "source", "compose.yaml"), abs == path.Join(c.appDir, "source", ".env"):
		return "app-files", "the app's own compose file (or its variables), which StackHub runs: the app could change what it is allowed to do"
	case hostpath.Within(abs, c.appDir):
		return "", ""
	}
	for _, b := range benignReadOnly {
		if hostpath.Within(abs, b) && readOnly {
			return "", ""
		}
	}
	for _, sp := range systemPaths {
		if hostpath.Within(abs, sp.path) {
			return "host-path", "a system folder of the host: " + sp.reason
		}
	}
	return "host-path", "a host folder outside the app's folder"
}

// hazardsOfApp computes an app's hazards, returning a note when its compose
// file cannot be loaded.
func hazardsOfApp(ctx context.Context, app App) ([]Hazard, error) {
	p, err := LoadProject(ctx, app, ExampleEnv(app))
	if err != nil {
		return nil, err
	}
	hz := ProjectHazards(p, exampleAppDir)
	sort.SliceStable(hz, func(i, j int) bool { return hz[i].Service < hz[j].Service })
	return hz, nil
}

func hazardSummary(hz []Hazard) string {
	var parts []string
	for _, h := range hz {
		parts = append(parts, fmt.Sprintf("%s: %s", h.Service, h.Setting))
	}
	return strings.Join(parts, "; ")
}
