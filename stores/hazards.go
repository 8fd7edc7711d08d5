package stores

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Hazards lists the settings of a compose file that endanger the host:
// privileged containers, the host's network, PID, IPC, UTS, user or cgroup
// namespace, added capabilities, devices, disabled security profiles, and
// bind mounts of the Docker socket, of / or system folders, or of any host
// folder outside the app's folder. The file is loaded with compose-go with
// example install variables and the defaults of its x-stackhub fields (see
// ExampleEnv); installing with other values needs a new check on the
// project as loaded then (ProjectHazards).
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

// ProjectHazards lists the hazards of a loaded project; appDir is the app's
// folder on the host (bind mounts below it are the app's own).
func ProjectHazards(p *types.Project, appDir string) []Hazard {
	var hz []Hazard
	seen := map[string]bool{}
	add := func(svc, setting, reason string) {
		k := svc + "\x00" + setting
		if !seen[k] {
			seen[k] = true
			hz = append(hz, Hazard{Service: svc, Setting: setting, Reason: reason})
		}
	}
	for _, name := range sortedKeys(p.Services) {
		svc := p.Services[name]
		if svc.Privileged {
			add(name, "privileged", "full access to the host's devices and kernel: equivalent to root on the host")
		}
		for _, ns := range []struct{ key, val, reason string }{
			{"network_mode", svc.NetworkMode, "shares the host's network: its ports are open to the LAN and it sees all host traffic"},
			{"pid", svc.Pid, "sees and can signal every process of the host"},
			{"ipc", svc.Ipc, "shares the host's shared memory and IPC"},
			{"uts", svc.Uts, "can change the host's name"},
			{"userns_mode", svc.UserNSMode, "runs without user namespace isolation"},
			{"cgroup", svc.Cgroup, "shares the host's cgroup namespace"},
		} {
			if ns.val == "host" {
				add(name, ns.key+": host", ns.reason)
			}
		}
		for _, c := range svc.CapAdd {
			reason := "extra kernel privileges"
			if strings.EqualFold(strings.TrimPrefix(strings.ToUpper(c), "CAP_"), "ALL") || strings.Contains(strings.ToUpper(c), "SYS_ADMIN") {
				reason = "kernel privileges close to root on the host"
			}
			add(name, "cap_add: "+c, reason)
		}
		for _, d := range svc.Devices {
			add(name, "devices: "+d.Source, "direct access to a host device")
		}
		if svc.Deploy != nil && svc.Deploy.Resources.Reservations != nil {
			for _, d := range svc.Deploy.Resources.Reservations.Devices {
				add(name, "deploy.resources.reservations.devices: "+strings.Join(d.Capabilities, ","), "direct access to host devices (GPU)")
			}
		}
		for _, so := range svc.SecurityOpt {
			l := strings.ToLower(so)
			if strings.Contains(l, "unconfined") || strings.Contains(l, "label=disable") || strings.Contains(l, "label:disable") {
				add(name, "security_opt: "+so, "disables a kernel security profile")
			}
		}
		if svc.CgroupParent != "" {
			add(name, "cgroup_parent: "+svc.CgroupParent, "runs in a host cgroup of its choice")
		}
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if setting, reason := bindHazard(v.Source, v.ReadOnly, appDir); setting != "" {
				add(name, setting, reason)
			}
		}
	}
	return hz
}

// bindHazard says what is hazardous about bind-mounting src from the host
// ("" when nothing is).
func bindHazard(src string, readOnly bool, appDir string) (setting, reason string) {
	if src == "" {
		return "", ""
	}
	if !path.IsAbs(src) {
		src = path.Join(appDir, "source", src)
	}
	c := path.Clean(src)
	setting = "volumes: " + c
	base := path.Base(c)
	switch {
	case strings.HasSuffix(base, ".sock") && (strings.Contains(base, "docker") || strings.Contains(base, "podman") || strings.Contains(base, "containerd")):
		return setting, "the container engine's socket gives full control of the host (root)"
	case c == "/":
		return setting, "the host's whole file system"
	case within(c, appDir):
		return "", ""
	}
	for _, b := range benignReadOnly {
		if within(c, b) && readOnly {
			return "", ""
		}
	}
	for _, sp := range systemPaths {
		if within(c, sp.path) {
			return setting, "a system folder of the host: " + sp.reason
		}
	}
	return setting, "a host folder outside the app's folder"
}

// within reports whether p is dir or below it (both clean and absolute).
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
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
