package stores

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The Umbrel app store (getumbrel/umbrel-apps, and community stores with
// an umbrel-app-store.yml): <id>/ holds umbrel-app.yml (the manifest) and a
// docker-compose.yml whose app_proxy service names the web UI (APP_HOST:
// the container, as <id>_<service>_1, a service name or an IP address;
// APP_PORT: its port). exports.sh is a shell script Umbrel sources for
// more variables; hooks/ holds scripts it runs around start. StackHub runs
// neither: exports.sh is read as data (plain `export NAME=value` lines),
// hooks are reported. ${APP_DATA_DIR} is the app's own folder, a copy of
// the store's app folder: its files are the app's seed.

// ReadUmbrel reads the Umbrel app in folder dir of fsys.
func ReadUmbrel(fsys fs.FS, dir string) (App, error) {
	return readUmbrel(context.Background(), fsys, dir)
}

// readUmbrel is ReadUmbrel; ctx may carry what the app's required apps
// export (withDependencyEnv, umbrel_deps.go).
func readUmbrel(ctx context.Context, fsys fs.FS, dir string) (App, error) {
	manifest, _, err := readFirst(fsys, dir, []string{"umbrel-app.yml", "umbrel-app.yaml"})
	if err != nil {
		return App{}, err
	}
	compose, composeName, err := readFirst(fsys, dir, []string{"docker-compose.yml", "docker-compose.yaml"})
	if err != nil {
		return App{}, err
	}
	exports, err := readLimited(fsys, path.Join(dir, "exports.sh"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return App{}, err
	}
	app, err := convertUmbrel(ctx, manifest, compose, exports, path.Base(dir))
	if err != nil {
		return app, fmt.Errorf("%s: %w", dir, err)
	}
	files, err := readFiles(fsys, dir, composeName)
	if err != nil {
		return App{}, err
	}
	var hooks []string
	for name, b := range files {
		switch {
		case name == "umbrel-app.yml" || name == "umbrel-app.yaml" || name == "exports.sh":
		case strings.HasPrefix(name, "hooks/"):
			hooks = append(hooks, name)
		default:
			if app.Seed == nil {
				app.Seed = map[string][]byte{}
			}
			app.Seed[name] = b
		}
	}
	sort.Strings(hooks)
	applyUmbrelHooks(&app, files, hooks) // hooks.go
	return app, nil
}

type umbrelManifest struct {
	ID                    string     `yaml:"id"`
	Name                  string     `yaml:"name"`
	Tagline               string     `yaml:"tagline"`
	Description           string     `yaml:"description"`
	Category              string     `yaml:"category"`
	Version               flexYAML   `yaml:"version"`
	Website               string     `yaml:"website"`
	Repo                  string     `yaml:"repo"`
	Icon                  string     `yaml:"icon"`
	Port                  flexYAML   `yaml:"port"`
	Dependencies          []string   `yaml:"dependencies"`
	DefaultUsername       flexYAML   `yaml:"defaultUsername"`
	DefaultPassword       flexYAML   `yaml:"defaultPassword"`
	DeterministicPassword bool       `yaml:"deterministicPassword"`
	Path                  string     `yaml:"path"`
	Permissions           []flexYAML `yaml:"permissions"`
}

// flexYAML is a YAML scalar read as text whatever its type.
type flexYAML string

func (f *flexYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a single value", n.Line)
	}
	*f = flexYAML(n.Value)
	return nil
}

func convertUmbrel(ctx context.Context, manifestB, composeB, exportsB []byte, folder string) (App, error) {
	var m umbrelManifest
	if err := yaml.Unmarshal(manifestB, &m); err != nil {
		return App{ID: sanitizeID(folder), Name: folder}, fmt.Errorf("umbrel-app.yml: invalid YAML: %w", err)
	}
	app := App{Name: m.Name, Tagline: strings.TrimSpace(m.Tagline), Description: strings.TrimSpace(m.Description),
		Version: string(m.Version), Website: m.Website, Source: m.Repo, Icon: m.Icon}
	umbrelID := m.ID
	if umbrelID == "" {
		umbrelID = folder
	}
	for _, cand := range []string{m.ID, folder} {
		if id := sanitizeID(cand); ValidID(id) {
			app.ID = id
			break
		}
	}
	if app.ID == "" {
		return App{}, fmt.Errorf("cannot make an app id of %q", m.ID)
	}
	if app.Name == "" {
		app.Name = folder
	}
	if app.Icon == "" {
		app.Icon = "https://getumbrel.github.io/umbrel-apps-gallery/" + umbrelID + "/icon.svg"
	}
	if m.Category != "" {
		app.Categories = []string{strings.ToLower(m.Category)}
	}

	doc, err := decodeYAML(composeB)
	if err != nil {
		return app, fmt.Errorf("docker-compose.yml: %w", err)
	}
	services := serviceMap(doc)
	// The one place exports.sh is read: its variables (exp.vars) feed the
	// main port (app_proxy's APP_PORT), the published ports (monero's
	// ${APP_MONERO_P2P_PORT}) and every other reference below. It is
	// evaluated in the shell sandbox (umbrel_exports.go).
	exp, expWarns := evalExports(string(exportsB), umbrelID, composeB, dependencyEnv(ctx))
	app.Warnings = append(app.Warnings, expWarns...)

	// The web UI: app_proxy's APP_HOST and APP_PORT.
	proxy := services["app_proxy"]
	delete(services, "app_proxy")
	if s := asMap(doc["services"]); s != nil {
		delete(s, "app_proxy")
	}
	if len(services) == 0 {
		return app, errors.New("docker-compose.yml: no services besides app_proxy")
	}
	resolve := func(s string) string { return exp.resolveLiteral(s) }
	ipOf := map[string]string{}    // fixed IP address → service
	ipVarOf := map[string]string{} // variable holding a fixed IP address → service
	for _, name := range sortedKeys(services) {
		for _, n := range asMap(services[name]["networks"]) {
			raw := scalarString(asMap(n)["ipv4_address"])
			if raw == "" {
				continue
			}
			ipOf[resolve(raw)] = name
			var refs []string
			referencedVars(raw, map[string]bool{}, &refs)
			for _, r := range refs {
				ipVarOf[r] = name
			}
		}
	}
	if proxy != nil {
		host, _ := envValue(proxy["environment"], "APP_HOST")
		portS, _ := envValue(proxy["environment"], "APP_PORT")
		app.MainService = umbrelHostService(resolve(host), umbrelID, services, ipOf)
		if app.MainService == "" {
			var refs []string
			referencedVars(host, map[string]bool{}, &refs)
			for _, r := range refs {
				if s, ok := ipVarOf[r]; ok {
					app.MainService = s
				}
			}
		}
		if app.MainService == "" {
			return app, fmt.Errorf("app_proxy's APP_HOST %q names no service of the app", host)
		}
		app.MainPort = portNumber(resolve(portS))
		if app.MainPort == 0 {
			return app, fmt.Errorf("app_proxy's APP_PORT %q is not a port number", portS)
		}
	} else {
		// No proxy: the app serves its UI on the manifest's port itself
		// (often with the host's network).
		app.MainService, app.MainPort = umbrelNoProxyMain(services, portNumber(string(m.Port)))
		if app.MainService == "" {
			return app, errors.New("no app_proxy service, and no service publishes the manifest's port")
		}
	}
	dropPublication(services[app.MainService], app.MainPort)

	// Fixed addresses of Umbrel's network do not exist here: services are
	// reached by name, and the variables holding their addresses name them.
	svcNames := map[string]string{}
	for v, s := range ipVarOf {
		svcNames[v] = s
	}

	translateBindSources(doc, func(src string) string {
		for _, p := range []string{"${UMBREL_ROOT}/data/storage", "$UMBREL_ROOT/data/storage"} {
			if rest, ok := strings.CutPrefix(src, p); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
				return "${APP_DATA_DIR}/shared" + rest
			}
		}
		return src
	})

	var fields []Field
	addField := func(f Field) {
		for _, e := range fields {
			if e.Key == f.Key {
				return
			}
		}
		fields = append(fields, f)
	}
	warned := map[string]bool{}
	warn := func(key, msg string) {
		if !warned[key] {
			warned[key] = true
			app.Warnings = append(app.Warnings, msg)
		}
	}
	mapVar := func(name string) (varRewrite, bool) {
		if s, ok := svcNames[name]; ok {
			return literalVar(s), true
		}
		if e, ok := exp.vars[name]; ok && !e.computed {
			return exprVar(e.expr), true
		}
		switch name {
		case "APP_DATA_DIR", "APP_DOMAIN", "TZ", "PUID", "PGID":
			return varRewrite{}, false
		case "DEVICE_DOMAIN_NAME", "APP_HIDDEN_SERVICE":
			return renameVar("APP_DOMAIN"), true
		case "DEVICE_HOSTNAME":
			return renameVar("APP_ID"), true
		case "EXPORTS_APP_DIR":
			return renameVar("APP_DATA_DIR"), true
		case "EXPORTS_APP_ID":
			return literalVar(umbrelID), true
		case "EXPORTS_TOR_DATA_DIR", "TOR_DATA_DIR":
			warn("tor", "Tor is not provided: its data folder is ${APP_DATA_DIR}/tor")
			return exprVar("${APP_DATA_DIR}/tor"), true
		case "UMBREL_ROOT":
			warn("root", "${UMBREL_ROOT} (Umbrel's own folder) is ${APP_DATA_DIR}/umbrel-root here")
			return exprVar("${APP_DATA_DIR}/umbrel-root"), true
		case "NETWORK_IP":
			return literalVar("172.16.0.0"), true
		case "APP_PASSWORD":
			hint := "the app's password, generated at install and shown in the app's details"
			if u := string(m.DefaultUsername); u != "" {
				hint = "password of the app's user " + u + "; generated at install when left empty"
			}
			addField(Field{Key: "APP_PASSWORD", Label: "Password", Type: FieldPassword, Random: true, RandomLength: 24, Hint: hint})
			return varRewrite{}, false
		}
		if name == "APP_SEED" || strings.HasPrefix(name, "APP_SEED_") {
			addField(Field{Key: name, Label: "Secret seed", Type: FieldPassword, Secret: true, Random: true, RandomLength: 64,
				Hint: "a secret the app derives keys from; generated at install"})
			return varRewrite{}, false
		}
		if e, ok := exp.vars[name]; ok && e.computed {
			warn("computed:"+name, fmt.Sprintf("%s is computed by exports.sh, which StackHub does not run: it is a setting", name))
		}
		return varRewrite{}, false
	}
	walkStrings(doc, func(s string) string {
		s = umbrelOwnURLs(s, portNumber(string(m.Port)), resolve)
		s = strings.ReplaceAll(s, "${NETWORK_IP}/16", "172.16.0.0/12")
		s = strings.ReplaceAll(s, "$NETWORK_IP/16", "172.16.0.0/12")
		return rewriteVars(s, mapVar)
	})
	// Umbrel names containers <app>_<service>_1, and apps reach each other
	// by those names: keep them as network aliases.
	aliases := map[string][]string{}
	for name := range services {
		aliases[name] = []string{umbrelID + "_" + name + "_1"}
	}
	app.Warnings = append(app.Warnings, cleanupCompose(doc, cleanupOptions{aliases: aliases})...)
	ensureCreateHostPath(doc)
	app.Fields = fields
	if note := umbrelSignInNote(m, app.ID, fields); note != "" {
		app.Description = strings.TrimSpace(app.Description + "\n\n" + note)
	}
	app.Exports = exportsFor(&app, exp, ipVarOf, umbrelID)
	app.Requires = umbrelRequires(m.Dependencies)
	unavailable := app.Unavailable
	finishForeign(ctx, doc, &app, "a variable Umbrel sets (or another app's exports.sh) with no StackHub meaning; set it if the app needs it", nil)
	if unavailable != "" {
		app.Unavailable = unavailable
	}
	return app, nil
}

// umbrelHostService finds the service APP_HOST names: a container name
// (<app>_<service>_1, <app>-<service>-1, container_name), a service name or
// a fixed IP address.
func umbrelHostService(host, appID string, services map[string]map[string]any, ipOf map[string]string) string {
	host = strings.TrimSpace(host)
	if host == "" {
		return ""
	}
	if _, ok := services[host]; ok {
		return host
	}
	for name, svc := range services {
		if scalarString(svc["container_name"]) == host {
			return name
		}
	}
	for _, sep := range []string{"_", "-"} {
		if rest, ok := strings.CutPrefix(host, appID+sep); ok {
			if i := strings.LastIndex(rest, sep); i > 0 {
				if _, err := strconv.Atoi(rest[i+1:]); err == nil {
					rest = rest[:i]
				}
			}
			if _, ok := services[rest]; ok {
				return rest
			}
		}
	}
	if net.ParseIP(host) != nil {
		return ipOf[host]
	}
	return ""
}

// umbrelNoProxyMain finds the web UI of an app without app_proxy.
func umbrelNoProxyMain(services map[string]map[string]any, port int) (string, int) {
	names := sortedKeys(services)
	for _, n := range names {
		for _, p := range asList(services[n]["ports"]) {
			if e, ok := parsePort(p); ok && port > 0 && portNumber(e.Published) == port {
				return n, portNumber(e.Target)
			}
		}
	}
	if port == 0 {
		return "", 0
	}
	for _, n := range names {
		if scalarString(services[n]["network_mode"]) == "host" {
			return n, port
		}
	}
	if len(names) == 1 {
		return names[0], port
	}
	return "", 0
}

// exportVar is one variable of an exports.sh.
type exportVar struct {
	expr     string // compose text of its value
	literal  string // its value, when it needs no variable
	computed bool   // set by a command or under a condition: unknown here
}

type umbrelExports struct {
	vars map[string]exportVar
}

var assignLine = regexp.MustCompile(`^(export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// parseExports reads an exports.sh as data: top-level `export NAME=value`
// lines with a literal value (or one built from earlier such variables)
// define variables; assignments made by commands ($(…), `…`) or inside
// if/case/loops/braces are marked computed. Nothing is executed.
func parseExports(src, appID string) (umbrelExports, []string) {
	e := umbrelExports{vars: map[string]exportVar{}}
	if strings.TrimSpace(src) == "" {
		return e, nil
	}
	var warns []string
	depth := 0
	computed := false
	for _, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		first := strings.Fields(line)[0]
		switch first {
		case "if", "case", "for", "while", "until", "{", "function":
			depth++
		case "fi", "esac", "done", "}":
			if depth > 0 {
				depth--
			}
			continue
		}
		if strings.HasSuffix(line, "{") && first != "{" {
			depth++ // name() {
		}
		mm := assignLine.FindStringSubmatch(line)
		if mm == nil {
			continue
		}
		name, val := mm[2], mm[3]
		v, ok := shellValue(val)
		if !ok || depth > 0 {
			if mm[1] != "" || e.vars[name].expr != "" {
				e.vars[name] = exportVar{computed: true}
				computed = true
			}
			continue
		}
		expr, lit, unknown := e.expand(v, appID)
		if unknown {
			e.vars[name] = exportVar{computed: true}
			computed = true
			continue
		}
		e.vars[name] = exportVar{expr: expr, literal: lit}
	}
	if computed {
		warns = append(warns, "exports.sh computes some variables with commands or conditions; StackHub does not run it")
	}
	return e, warns
}

// shellValue reads the right side of a shell assignment: "…", '…' or a bare
// word. ok is false for command substitutions and other shell syntax.
func shellValue(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " #"); i >= 0 && !strings.ContainsAny(s[:i], `"'`) {
		s = strings.TrimSpace(s[:i])
	}
	switch {
	case strings.HasPrefix(s, "'"):
		if len(s) < 2 || !strings.HasSuffix(s, "'") || strings.Contains(s[1:len(s)-1], "'") {
			return "", false
		}
		return strings.ReplaceAll(s[1:len(s)-1], "$", "$$"), true
	case strings.HasPrefix(s, `"`):
		if len(s) < 2 || !strings.HasSuffix(s, `"`) {
			return "", false
		}
		s = s[1 : len(s)-1]
		if strings.ContainsAny(s, "`\"\\") {
			return "", false
		}
	default:
		if strings.ContainsAny(s, " \t;&|<>()`\"'\\") {
			return "", false
		}
	}
	if strings.Contains(s, "$(") || strings.Contains(s, "$((") {
		return "", false
	}
	return s, true
}

// expand turns a shell value using earlier variables into compose text.
// unknown is true when it uses a variable with no known value.
func (e umbrelExports) expand(v, appID string) (expr, literal string, unknown bool) {
	literal = rewriteVars(v, func(name string) (varRewrite, bool) {
		if x, ok := e.vars[name]; ok && !x.computed && !strings.Contains(x.literal, "$") {
			return literalVar(x.literal), true
		}
		unknown = true
		return varRewrite{}, false
	})
	literal = strings.ReplaceAll(literal, "$$", "$")
	unknown = false
	expr = rewriteVars(v, func(name string) (varRewrite, bool) {
		if x, ok := e.vars[name]; ok && !x.computed {
			return exprVar(x.expr), true
		}
		switch name {
		case "EXPORTS_APP_DIR", "APP_DATA_DIR":
			return exprVar("${APP_DATA_DIR}"), true
		case "EXPORTS_APP_ID":
			return literalVar(appID), true
		case "EXPORTS_TOR_DATA_DIR", "TOR_DATA_DIR":
			return exprVar("${APP_DATA_DIR}/tor"), true
		case "DEVICE_DOMAIN_NAME", "APP_DOMAIN":
			return exprVar("${APP_DOMAIN}"), true
		}
		unknown = true
		return varRewrite{}, false
	})
	return expr, literal, unknown
}

// resolveLiteral replaces in s the exports with a literal value (to read
// APP_HOST and APP_PORT).
func (e umbrelExports) resolveLiteral(s string) string {
	out := rewriteVars(s, func(name string) (varRewrite, bool) {
		if x, ok := e.vars[name]; ok && !x.computed && !strings.Contains(x.literal, "$") {
			return literalVar(x.literal), true
		}
		return varRewrite{}, false
	})
	return strings.ReplaceAll(out, "$$", "$")
}
