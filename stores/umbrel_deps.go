package stores

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
	"gopkg.in/yaml.v3"
)

// Umbrel apps may depend on other apps of their store (umbrel-app.yml
// dependencies: electrs on bitcoin). Umbrel installs those first and gives
// every app the variables the other apps' exports.sh export. StackHub does
// the same: App.Requires lists the apps to install first (dependencies of
// dependencies first), App.Exports what each app gives its dependents, and
// appctl installs the required apps (once the admin agrees) and sets the
// exported values in the dependent app's install variables.

// umbrelRequires turns the manifest's dependencies into app ids.
func umbrelRequires(deps []string) []string {
	var out []string
	for _, d := range deps {
		if id := sanitizeID(d); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// linkDependencies completes the apps of one store that require others:
// Requires becomes every app to install first, in install order; the
// settings a required app provides are no longer asked for; an app whose
// required apps the store lacks, or cannot install, is unavailable.
func linkDependencies(apps []App) {
	byID := map[string]int{}
	for i, a := range apps {
		byID[a.ID] = i
	}
	for i := range apps {
		a := &apps[i]
		if len(a.Requires) == 0 || a.Compose == nil {
			continue
		}
		var order []string
		var problem string
		seen := map[string]bool{a.ID: true}
		var visit func(id string, path []string)
		visit = func(id string, path []string) {
			if problem != "" || seen[id] {
				return
			}
			seen[id] = true
			j, ok := byID[id]
			if !ok {
				problem = fmt.Sprintf("needs the app %s, which this store does not have", id)
				return
			}
			dep := apps[j]
			if dep.Unavailable != "" {
				problem = fmt.Sprintf("needs the app %s, which cannot be installed: %s", id, dep.Unavailable)
				return
			}
			for _, d := range dep.Requires {
				visit(d, append(path, id))
			}
			order = append(order, id)
		}
		for _, d := range a.Requires {
			visit(d, nil)
		}
		if problem != "" {
			a.Unavailable = problem
			continue
		}
		a.Requires = order
		provided := map[string]string{}
		for _, id := range order {
			for k := range apps[byID[id]].Exports {
				provided[k] = id
			}
		}
		var kept []Field
		var given []string
		for _, f := range a.Fields {
			if id, ok := provided[f.Key]; ok {
				given = append(given, f.Key+" (from "+id+")")
				continue
			}
			kept = append(kept, f)
		}
		a.Fields = kept
		revalidate(a, apps, byID)
		note := "installs after the apps it needs: " + strings.Join(order, ", ")
		if len(given) > 0 {
			note += "; values they provide: " + strings.Join(given, ", ")
		}
		a.Warnings = append(a.Warnings, note)
	}
}

// revalidate checks a dependent app's compose file again, now that the
// values its required apps provide are known (at conversion they were
// empty, which may not load: "${APP_BITCOIN_DATA_DIR}:/data:ro").
func revalidate(a *App, apps []App, byID map[string]int) {
	env := ExampleEnv(*a)
	for _, id := range a.Requires {
		dep := apps[byID[id]]
		for k, v := range ExpandExports(dep.Exports, ExampleEnv(dep)) {
			env[k] = v
		}
	}
	p, err := LoadProject(context.Background(), *a, env)
	if err != nil {
		a.Unavailable = "invalid compose file: " + err.Error()
		return
	}
	if _, ok := p.Services[a.MainService]; !ok {
		a.Unavailable = fmt.Sprintf("main service %q is not a service of the compose file", a.MainService)
		return
	}
	a.Unavailable = ""
	a.Hazards = ProjectHazards(p, exampleAppDir)
}

// ExpandExports computes the values an app gives the apps requiring it:
// its Exports with its own install variables and settings (env) filled in.
func ExpandExports(exports map[string]string, env map[string]string) map[string]string {
	out := make(map[string]string, len(exports))
	for k, expr := range exports {
		v, err := template.Substitute(expr, func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		})
		if err != nil {
			continue
		}
		out[k] = v
	}
	return out
}

type dependencyEnvKey struct{}

// withDependencyEnv makes ctx carry what an app's required apps export, for
// the evaluation of its own exports.sh.
func withDependencyEnv(ctx context.Context, env map[string]string) context.Context {
	if len(env) == 0 {
		return ctx
	}
	return context.WithValue(ctx, dependencyEnvKey{}, env)
}

func dependencyEnv(ctx context.Context) map[string]string {
	env, _ := ctx.Value(dependencyEnvKey{}).(map[string]string)
	return env
}

// umbrelDependencyEnvs evaluates the exports.sh of the apps of an Umbrel
// store that others require, required apps first, as Umbrel sources them
// before an app's own (lightning's reads bitcoin's APP_BITCOIN_NODE_IP and
// APP_BITCOIN_NETWORK). It returns, by app folder, what the app's required
// apps export: literal values as they are, a fixed address as the required
// service's Umbrel container name, and what is known only at install (a
// password, a folder of the required app) as a placeholder that becomes
// ${NAME} in the app's compose file.
func umbrelDependencyEnvs(fsys fs.FS, root string) map[string]map[string]string {
	type appInfo struct {
		id, dir          string
		deps             []string
		exports, compose []byte
	}
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil
	}
	byID := map[string]*appInfo{}
	var dependents []*appInfo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := path.Join(root, e.Name())
		mb, _, err := readFirst(fsys, dir, []string{"umbrel-app.yml", "umbrel-app.yaml"})
		if err != nil {
			continue
		}
		var m umbrelManifest
		if yaml.Unmarshal(mb, &m) != nil {
			continue
		}
		info := &appInfo{id: m.ID, dir: dir, deps: umbrelRequires(m.Dependencies)}
		if info.id == "" {
			info.id = e.Name()
		}
		info.exports, _ = readLimited(fsys, path.Join(dir, "exports.sh"))
		info.compose, _, _ = readFirst(fsys, dir, []string{"docker-compose.yml", "docker-compose.yaml"})
		byID[sanitizeID(info.id)] = info
		if len(info.deps) > 0 {
			dependents = append(dependents, info)
		}
	}
	own := map[string]map[string]string{} // what each app exports, evaluated once
	busy := map[string]bool{}
	var exportsOf func(id string) map[string]string
	var envOf func(deps []string) map[string]string
	exportsOf = func(id string) map[string]string {
		if v, ok := own[id]; ok {
			return v
		}
		info, ok := byID[id]
		if !ok || busy[id] {
			return nil // missing (the app is unavailable anyway), or a cycle
		}
		busy[id] = true
		exp, _ := evalExports(string(info.exports), info.id, info.compose, envOf(info.deps))
		busy[id] = false
		out := map[string]string{}
		ipVars := fixedAddressVars(info.compose)
		for name, v := range exp.vars {
			switch {
			case ipVars[name] != "":
				out[name] = info.id + "_" + ipVars[name] + "_1"
			case v.computed || strings.Contains(v.expr, "${"):
				out[name] = placeholderFor(name)
			default:
				out[name] = v.literal
			}
		}
		own[id] = out
		return out
	}
	envOf = func(deps []string) map[string]string {
		env := map[string]string{}
		var add func(id string, seen map[string]bool)
		add = func(id string, seen map[string]bool) {
			if seen[id] {
				return
			}
			seen[id] = true
			if info, ok := byID[id]; ok {
				for _, d := range info.deps {
					add(d, seen)
				}
			}
			for k, v := range exportsOf(id) {
				env[k] = v
			}
		}
		seen := map[string]bool{}
		for _, d := range deps {
			add(d, seen)
		}
		return env
	}
	out := map[string]map[string]string{}
	for _, info := range dependents {
		if env := envOf(info.deps); len(env) > 0 {
			out[info.dir] = env
		}
	}
	return out
}

// fixedAddressVars maps the variables an Umbrel compose file gives its
// services as fixed addresses (ipv4_address: $APP_X_IP) to the service.
func fixedAddressVars(compose []byte) map[string]string {
	out := map[string]string{}
	doc, err := decodeYAML(compose)
	if err != nil {
		return out
	}
	for name, svc := range serviceMap(doc) {
		for _, n := range asMap(svc["networks"]) {
			var refs []string
			referencedVars(scalarString(asMap(n)["ipv4_address"]), map[string]bool{}, &refs)
			for _, r := range refs {
				out[r] = name
			}
		}
	}
	return out
}

// envDigest identifies a dependency environment, so a cached conversion is
// redone when what the required apps export changes.
func envDigest(env map[string]string) string {
	if len(env) == 0 {
		return ""
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "=" + env[k] + "\x00"))
	}
	return string(h.Sum(nil))
}
