package stores

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// evalExports computes the variables an Umbrel app's exports.sh exports by
// running it in the shell sandbox (shellsandbox.go): no program runs, and
// the only files it sees are the app's own, in memory. Values that name the
// app's folder or domain are written with ${APP_DATA_DIR} and
// ${APP_DOMAIN}; the fixed IP addresses compose gives its services
// (ipv4_address) are those services' names, as addresses do not exist
// here. A variable left empty by a line the sandbox could not
// evaluate (a program such as jq or python) is marked computed; the
// warnings say which lines could not be evaluated.
//
// depEnv are the variables the app's required apps export (Umbrel sources
// their exports.sh first): literal values as they are, values only known
// at install (a password, a folder of the required app) as placeholders
// that become ${NAME} in compose text.
func evalExports(src, appID string, compose []byte, depEnv map[string]string) (umbrelExports, []string) {
	e := umbrelExports{vars: map[string]exportVar{}}
	if strings.TrimSpace(src) == "" {
		return e, nil
	}
	sb := newShellSandbox(nil)
	vars, err := sb.run(context.Background(), src, "exports.sh", sandboxEnv(appID, depEnv))
	if err != nil {
		// Not runnable at all: fall back to reading it as data.
		parsed, warns := parseExports(src, appID)
		return parsed, append(warns, "exports.sh could not be evaluated ("+err.Error()+"): only its plain assignments are read")
	}
	addrs := serviceAddresses(compose, vars)
	for name, v := range vars {
		vars[name] = addrs.Replace(v)
	}
	var notes []string
	for _, a := range sb.refused() {
		notes = append(notes, a.String())
	}
	for name, v := range vars {
		// An empty value of a script that could not run every line is
		// unknown: it may well be what a refused program would have given.
		computed := v == "" && len(notes) > 0
		if computed {
			e.vars[name] = exportVar{computed: true}
			continue
		}
		expr := sandboxToCompose(v)
		lit := ""
		if !strings.Contains(expr, "${") {
			lit = v
		}
		e.vars[name] = exportVar{expr: expr, literal: lit}
	}
	var warns []string
	if len(notes) > 0 {
		sort.Strings(notes)
		warns = append(warns, "exports.sh lines not evaluated (programs are never run, files outside the app are not read): "+strings.Join(notes, "; "))
	}
	return e, warns
}

// sandboxToCompose writes a value computed in the sandbox as compose text.
func sandboxToCompose(v string) string {
	v = escapeDollars(v)
	v = strings.ReplaceAll(v, sandboxAppDir, "${APP_DATA_DIR}")
	v = strings.ReplaceAll(v, sandboxDomain, "${APP_DOMAIN}")
	return installPlaceholder.ReplaceAllString(v, "$${$1}")
}

// exportsFor lists what an app's exports.sh gives the apps that depend on
// it, as compose text in the app's own install variables: a variable
// holding a fixed IP address of one of its services is that service's
// container name (reachable on the app's network); a computed secret is
// the app's setting of the same name, generated at install.
func exportsFor(app *App, exp umbrelExports, ipVarOf map[string]string, umbrelID string) map[string]string {
	out := map[string]string{}
	for name, v := range exp.vars {
		switch {
		case ipVarOf[name] != "":
			out[name] = umbrelID + "_" + ipVarOf[name] + "_1"
		case !v.computed:
			out[name] = v.expr
		case secretName(name):
			if !hasField(app.Fields, name) {
				app.Fields = append(app.Fields, Field{Key: name, Label: name, Type: FieldPassword, Secret: true, Random: true, RandomLength: 32,
					Hint: "computed by the app's exports.sh with a program StackHub does not run: generated at install"})
			}
			out[name] = "${" + name + "}"
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func hasField(fields []Field, key string) bool {
	for _, f := range fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// exportsWarning says which variables exports.sh could not compute.
func exportsWarning(exp umbrelExports) string {
	var names []string
	for n, v := range exp.vars {
		if v.computed {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return fmt.Sprintf("exports.sh left %s empty (computed by programs StackHub does not run)", strings.Join(names, ", "))
}

// installPlaceholder stands, in a script's environment, for a value known
// only at install (placeholderFor).
var installPlaceholder = regexp.MustCompile(`stackhub-install-var:([A-Za-z_][A-Za-z0-9_]*):`)

func placeholderFor(name string) string { return "stackhub-install-var:" + name + ":" }

// addressNames replaces fixed IP addresses by service names.
type addressNames map[string]string

// serviceAddresses finds the fixed addresses of an Umbrel compose file's
// services (networks: default: ipv4_address: $APP_X_IP), with vars the
// values exports.sh computed.
func serviceAddresses(compose []byte, vars map[string]string) addressNames {
	out := addressNames{}
	doc, err := decodeYAML(compose)
	if err != nil {
		return out
	}
	for name, svc := range serviceMap(doc) {
		for _, n := range asMap(svc["networks"]) {
			raw := scalarString(asMap(n)["ipv4_address"])
			ip := rewriteVars(raw, func(v string) (varRewrite, bool) {
				if x, ok := vars[v]; ok {
					return literalVar(x), true
				}
				return varRewrite{}, false
			})
			if ip != "" && !strings.Contains(ip, "$") {
				out[ip] = name
			}
		}
	}
	return out
}

// Replace writes the service name for each fixed address in v.
func (a addressNames) Replace(v string) string {
	for ip, svc := range a {
		if !strings.Contains(v, ip) {
			continue
		}
		re := regexp.MustCompile(`(^|[^0-9.])` + regexp.QuoteMeta(ip) + `($|[^0-9])`)
		for re.MatchString(v) { // adjacent matches share a boundary
			v = re.ReplaceAllString(v, "${1}"+svc+"${2}")
		}
	}
	return v
}
