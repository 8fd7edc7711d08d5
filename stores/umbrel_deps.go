package stores

import (
	"context"
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
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
