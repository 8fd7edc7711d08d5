package stores

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// The CasaOS app store (IceWhaleTech/CasaOS-AppStore): Apps/<Name>/ holds a
// docker-compose.yml with a top-level x-casaos block (title, tagline,
// description as language maps, icon, category, architectures, main
// service, port_map: the published port of the web UI) and per-service
// x-casaos blocks describing envs, ports and volumes. Host paths live under
// /DATA/AppData/$AppID; $AppID, $PUID, $PGID, $TZ and ${WEBUI_PORT} are
// CasaOS's variables.

// casaComposeNames are the compose file names of a CasaOS app folder.
var casaComposeNames = []string{"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}

// ReadCasaOS reads the CasaOS app in folder dir of fsys.
func ReadCasaOS(fsys fs.FS, dir string) (App, error) {
	b, name, err := readFirst(fsys, dir, casaComposeNames)
	if err != nil {
		return App{}, err
	}
	app, err := convertCasaOS(context.Background(), b, path.Base(dir))
	if err != nil {
		return App{}, fmt.Errorf("%s: %w", path.Join(dir, name), err)
	}
	if err := addReferencedFiles(&app, fsys, dir); err != nil { // appfiles.go
		return App{}, err
	}
	return app, nil
}

// readFirst reads the first of names that exists in dir, within the
// per-file size limit.
func readFirst(fsys fs.FS, dir string, names []string) ([]byte, string, error) {
	for _, n := range names {
		b, err := readLimited(fsys, path.Join(dir, n))
		if err == nil {
			return b, n, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	return nil, "", fmt.Errorf("app folder %s has no %s", dir, strings.Join(names, " or "))
}

// maxMetaFile bounds one metadata or compose file a reader loads.
const maxMetaFile = 1 << 20

// readLimited reads a regular file of at most maxMetaFile bytes.
func readLimited(fsys fs.FS, name string) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if st.Size() > maxMetaFile {
		return nil, fmt.Errorf("%s is larger than %d KiB", name, maxMetaFile>>10)
	}
	return fs.ReadFile(fsys, name)
}

// localized picks the English text of a CasaOS language map (en_us, en_US,
// en_gb …), else the first language in alphabetical order; plain strings
// are returned as they are.
func localized(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		for _, pref := range []string{"en_us", "en_gb", "en_uk", "en"} {
			for k, e := range t {
				if strings.EqualFold(k, pref) {
					if s := strings.TrimSpace(scalarString(e)); s != "" {
						return s
					}
				}
			}
		}
		for _, k := range sortedKeys(t) {
			if s := strings.TrimSpace(scalarString(t[k])); s != "" {
				return s
			}
		}
	}
	return scalarString(v)
}

func stringList(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		if t != "" {
			out = append(out, t)
		}
	case []any:
		for _, e := range t {
			if s := scalarString(e); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// normalizeCasaPort reduces a published port or port_map to comparable text:
// ${WEBUI_PORT:-8080} becomes 8080, ${WEBUI_PORT} stays a token.
func normalizeCasaPort(s string) string {
	s = strings.TrimSpace(s)
	return rewriteVars(s, func(name string) (varRewrite, bool) {
		if name == "WEBUI_PORT" {
			return literalVar(""), true // ${WEBUI_PORT:-N} → N, ${WEBUI_PORT} → ""
		}
		return varRewrite{}, false
	})
}

func convertCasaOS(ctx context.Context, compose []byte, folder string) (App, error) {
	doc, err := decodeYAML(compose)
	if err != nil {
		return App{}, err
	}
	x := asMap(doc["x-casaos"])
	if x == nil {
		return App{}, errors.New("no top-level x-casaos block: not a CasaOS app")
	}
	services := serviceMap(doc)
	if len(services) == 0 {
		return App{}, errors.New("no services")
	}
	app := App{}
	for _, cand := range []string{scalarString(doc["name"]), scalarString(x["store_app_id"]), folder} {
		if id := sanitizeID(cand); ValidID(id) {
			app.ID = id
			break
		}
	}
	if app.ID == "" {
		return App{}, fmt.Errorf("cannot make an app id of folder %q", folder)
	}
	app.Name = localized(x["title"])
	if app.Name == "" {
		app.Name = folder
	}
	app.Tagline = localized(x["tagline"])
	app.Description = localized(x["description"])
	app.Texts = languageTexts(x["tagline"], x["description"])
	app.Icon = scalarString(x["icon"])
	app.Version = scalarString(x["version"])
	app.Website = scalarString(x["website"])
	app.Source = scalarString(x["repo"])
	for _, c := range stringList(x["category"]) {
		app.Categories = append(app.Categories, strings.ToLower(c))
	}
	app.Architectures = stringList(x["architectures"])
	if s := strings.ToLower(scalarString(x["scheme"])); s == "https" {
		app.MainScheme = "https"
	}
	if err := casaMain(&app, x, services); err != nil {
		return app, err
	}

	// Per-service x-casaos: port descriptions and user-facing envs.
	portDesc := map[string]string{} // "service/target" → description
	var envs []casaEnv
	for _, name := range sortedKeys(services) {
		sx := asMap(services[name]["x-casaos"])
		for _, p := range asList(sx["ports"]) {
			pm := asMap(p)
			if d := localized(pm["description"]); d != "" {
				portDesc[name+"/"+scalarString(pm["container"])] = d
			}
		}
		for _, e := range asList(sx["envs"]) {
			em := asMap(e)
			if n := scalarString(em["container"]); n != "" {
				envs = append(envs, casaEnv{name, n, localized(em["description"])})
			}
		}
		delete(services[name], "x-casaos")
	}
	delete(doc, "x-casaos")

	// Host paths: /DATA/AppData/$AppID/… is the app's data folder, the rest
	// of /DATA (Media, Downloads, Gallery …) CasaOS's shared folders.
	translateBindSources(doc, func(src string) string { return casaPath(src, app.ID) })

	// User-facing envs with a literal value become form fields.
	app.Fields = casaFields(services, envs)
	// Fixed user ids and time zone become the install variables.
	casaInstallVarEnv(services)

	main := services[app.MainService]
	webui := fmt.Sprint(app.MainPort)
	if app.NoWebUI {
		// Nothing to route, nothing to drop.
	} else if scalarString(x["port_map"]) == "" && scalarString(x["webui_port"]) == "" && looksLikeService(app.MainPort, app.Categories) {
		markServiceApp(&app) // a database: its port is what users need (appkind.go)
	} else {
		dropPublication(main, app.MainPort)
	}
	walkStrings(doc, func(s string) string {
		return rewriteVars(s, func(name string) (varRewrite, bool) {
			switch name {
			case "AppID", "APP_ID":
				return renameVar("APP_ID"), true
			case "WEBUI_PORT":
				return literalVar(webui), true
			}
			return varRewrite{}, false
		})
	})
	app.Warnings = append(app.Warnings, cleanupCompose(doc, cleanupOptions{})...)
	ensureCreateHostPath(doc)
	finishForeign(ctx, doc, &app, "a variable of the CasaOS app with no StackHub meaning (CasaOS reads it from /etc/casaos/env); set it if the app needs it", portDesc)
	return app, nil
}

// casaMain finds the web UI: the service publishing port_map (CasaOS opens
// http://host:port_map/index), else x-casaos.main and its only port.
func casaMain(app *App, x map[string]any, services map[string]map[string]any) error {
	want := ""
	for _, k := range []string{"port_map", "webui_port"} {
		if s := normalizeCasaPort(scalarString(x[k])); s != "" {
			want = s
			break
		}
	}
	mainName := scalarString(x["main"])
	if _, ok := services[mainName]; !ok {
		mainName = ""
	}
	if mainName == "" && len(services) == 1 {
		for n := range services {
			mainName = n
		}
	}
	order := sortedKeys(services)
	if mainName != "" {
		// Look at the declared main service first.
		order = append([]string{mainName}, order...)
	}
	if want != "" {
		for _, name := range order {
			for _, p := range asList(services[name]["ports"]) {
				e, ok := parsePort(p)
				if !ok || (e.Protocol != "" && e.Protocol != "tcp") {
					continue
				}
				if normalizeCasaPort(e.Published) == want && portNumber(e.Target) > 0 {
					app.MainService, app.MainPort = name, portNumber(e.Target)
					return nil
				}
			}
		}
	}
	if mainName == "" && want == "" && !anyPublishes(services) {
		// Nothing names or publishes a web port (DuckDNS, Twingate …).
		mainName = principalService(services)
	}
	if mainName == "" {
		return errors.New("cannot tell the main service: x-casaos.main names no service and no service publishes port_map")
	}
	app.MainService = mainName
	svc := services[mainName]
	var targets []int
	for _, p := range asList(svc["ports"]) {
		if e, ok := parsePort(p); ok && (e.Protocol == "" || e.Protocol == "tcp") {
			if n := portNumber(e.Target); n > 0 {
				targets = append(targets, n)
			}
		}
	}
	if want == "" && len(targets) == 0 {
		// No port_map and no TCP port: the app has no web UI (a DNS
		// updater, a VPN or tunnel client). CasaOS shows no link for it.
		app.NoWebUI = true
		return nil
	}
	if n := portNumber(want); n > 0 {
		for _, t := range targets {
			if t == n {
				app.MainPort = n
				return nil
			}
		}
		if scalarString(svc["network_mode"]) == "host" || len(targets) == 0 {
			// With the host's network the app listens on port_map itself.
			app.MainPort = n
			return nil
		}
	}
	if len(targets) >= 1 {
		app.MainPort = targets[0]
		return nil
	}
	return fmt.Errorf("cannot tell which port service %q serves its web UI on (port_map %q)", mainName, scalarString(x["port_map"]))
}

// casaInstallVars are the environment variables CasaOS apps set to fixed
// values (PUID=1000, TZ=Etc/UTC …) where CasaOS itself would put the
// host's: they become the install variables of the same name.
var casaInstallVars = []string{"PUID", "PGID", "TZ"}

// casaInstallVarEnv replaces the literal values of PUID, PGID and TZ in
// every service's environment with ${PUID}, ${PGID} and ${TZ}: the owner
// of the app's data and the host's time zone.
func casaInstallVarEnv(services map[string]map[string]any) {
	for _, svc := range services {
		for _, name := range casaInstallVars {
			if v, ok := envValue(svc["environment"], name); ok && !strings.Contains(v, "$") {
				setEnvValue(svc, name, "${"+name+"}")
			}
		}
	}
}

// anyPublishes reports whether a service of the app publishes a port.
func anyPublishes(services map[string]map[string]any) bool {
	for _, svc := range services {
		if len(asList(svc["ports"])) > 0 {
			return true
		}
	}
	return false
}

// casaPath translates a CasaOS host path.
func casaPath(src, id string) string {
	const appData = "/DATA/AppData/"
	if rest, ok := strings.CutPrefix(src, appData); ok {
		seg, more, _ := strings.Cut(rest, "/")
		switch strings.ToLower(seg) {
		case "$appid", "${appid}", strings.ToLower(id):
			if more == "" {
				return "${APP_DATA_DIR}"
			}
			return "${APP_DATA_DIR}/" + more
		}
		return "${APP_DATA_DIR}/" + rest
	}
	if src == "/DATA" || src == "/DATA/" || src == "/DATA/AppData" {
		return "${APP_DATA_DIR}/shared"
	}
	if rest, ok := strings.CutPrefix(src, "/DATA/"); ok {
		return "${APP_DATA_DIR}/shared/" + rest
	}
	return src
}

// casaEnv is an environment variable a CasaOS app describes to its user.
type casaEnv struct{ service, name, label string }

// casaFields turns the envs a CasaOS app shows its user (per-service
// x-casaos.envs) into form fields, when the compose file gives them a
// literal value: the value becomes the field's default and the
// environment entry a reference to the field.
func casaFields(services map[string]map[string]any, envs []casaEnv) []Field {
	var fields []Field
	byKey := map[string]int{}
	for _, e := range envs {
		svc := services[e.service]
		val, ok := envValue(svc["environment"], e.name)
		if !ok || strings.Contains(val, "$") || !validVarName(e.name) || isInstallVariable(e.name) {
			continue
		}
		key := e.name
		if i, ok := byKey[key]; ok {
			if fields[i].Default != val {
				key = strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(e.service)) + "_" + e.name
				if !validVarName(key) {
					continue
				}
			}
		}
		setEnvValue(svc, e.name, "${"+key+"}")
		if _, ok := byKey[key]; ok {
			continue
		}
		f := Field{Key: key, Label: e.label, Type: FieldText, Default: val}
		if f.Label == "" {
			f.Label = e.name
		}
		if secretName(e.name) {
			f.Type, f.Secret = FieldPassword, true
		} else if portNumber(val) > 0 && len(val) <= 5 {
			f.Type = FieldNumber
		}
		byKey[key] = len(fields)
		fields = append(fields, f)
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	return fields
}

// secretName reports whether an environment variable's name says it holds
// a secret.
func secretName(n string) bool {
	u := strings.ToUpper(n)
	for _, w := range []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "PASS"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	// KEY as a word of the name: MEILI_MASTER_KEY, NB_SETUP_KEY, KEY_BASE
	// (not KEYBOARD_LAYOUT).
	for _, w := range strings.Split(u, "_") {
		if w == "KEY" || w == "KEYS" {
			return true
		}
	}
	return false
}

// markSecretFields makes secret every field whose name says it holds a
// secret (FORMAT.md: PASSWORD, SECRET, TOKEN, KEY …), so `apps info` and
// the portal mask its value after install. Umbrel's APP_PASSWORD is the
// exception: the user signs in with it and must be able to read it.
func markSecretFields(fields []Field) {
	for i, f := range fields {
		if f.Secret || f.Key == "APP_PASSWORD" || !secretName(f.Key) {
			continue
		}
		fields[i].Secret = true
		if f.Type == FieldText {
			fields[i].Type = FieldPassword
		}
	}
}

// envValue reads a variable of a service's environment (map or list form).
func envValue(env any, name string) (string, bool) {
	switch t := env.(type) {
	case map[string]any:
		v, ok := t[name]
		if !ok || v == nil {
			return "", false
		}
		return scalarString(v), true
	case []any:
		for _, e := range t {
			k, v, found := strings.Cut(scalarString(e), "=")
			if k == name && found {
				return v, true
			}
		}
	}
	return "", false
}

func setEnvValue(svc map[string]any, name, value string) {
	switch t := svc["environment"].(type) {
	case map[string]any:
		t[name] = value
	case []any:
		for i, e := range t {
			if k, _, _ := strings.Cut(scalarString(e), "="); k == name {
				t[i] = name + "=" + value
			}
		}
	}
}

// translateBindSources rewrites the host side of every bind mount (short
// and long volume syntax) with f.
func translateBindSources(doc map[string]any, f func(string) string) {
	for _, svc := range serviceMap(doc) {
		vols := asList(svc["volumes"])
		for i, v := range vols {
			switch t := v.(type) {
			case string:
				parts := splitPortSpec(t)
				if len(parts) >= 2 && isHostPath(parts[0]) {
					parts[0] = f(parts[0])
					vols[i] = strings.Join(parts, ":")
				}
			case map[string]any:
				src := scalarString(t["source"])
				if typ := scalarString(t["type"]); (typ == "bind" || typ == "") && isHostPath(src) {
					t["source"] = f(src)
				}
			}
		}
	}
}

// isHostPath reports whether a volume source is a host path rather than a
// named volume.
func isHostPath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "$") || strings.HasPrefix(s, "~")
}

// ensureCreateHostPath makes long-syntax bind mounts create a missing host
// folder, as the short syntax does: the foreign platforms create them
// themselves before starting an app.
func ensureCreateHostPath(doc map[string]any) {
	for _, svc := range serviceMap(doc) {
		for _, v := range asList(svc["volumes"]) {
			m := asMap(v)
			if m == nil || scalarString(m["type"]) != "bind" {
				continue
			}
			b := asMap(m["bind"])
			if b == nil {
				b = map[string]any{}
				m["bind"] = b
			}
			if _, ok := b["create_host_path"]; !ok {
				b["create_host_path"] = true
			}
		}
	}
}

// finishForeign completes a converted app: form fields for the variables
// left without meaning, the host publications (described by portDesc,
// keyed "service/target"), the compose file with its
// x-stackhub block, a check with compose-go (an app that does not load is
// returned unavailable, with the reason) and its hazards.
func finishForeign(ctx context.Context, doc map[string]any, app *App, unknownHint string, portDesc map[string]string) {
	var added []string
	app.Fields, added = fieldsForUnknownVars(doc, app.Fields, unknownHint)
	markSecretFields(app.Fields)
	if len(added) > 0 {
		app.Warnings = append(app.Warnings, "variables with no StackHub meaning, asked for as settings: "+strings.Join(added, ", "))
	}
	app.Ports = publishedPorts(doc)
	app.Images = composeImages(doc)
	for i, p := range app.Ports {
		if d, ok := portDesc[p.Service+"/"+fmt.Sprint(p.Target)]; ok {
			app.Ports[i].Description = d
		}
	}
	b, err := writeNative(doc, *app)
	if err != nil {
		app.Unavailable = "cannot write the converted compose file: " + err.Error()
		return
	}
	app.Compose = b
	p, err := validateApp(ctx, *app)
	if err != nil {
		app.Unavailable = err.Error()
		return
	}
	app.Hazards = ProjectHazards(p, exampleAppDir)
}
