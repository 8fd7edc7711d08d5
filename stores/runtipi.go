package stores

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The Runtipi app store (runtipi/runtipi-appstore): apps/<id>/ holds
// config.json (name, short_desc, description, port: the host port of the
// web UI, categories, supported_architectures, form_fields), and either
// docker-compose.json ("dynamic compose": a list of services with isMain and
// internalPort) or a classic docker-compose.yml that publishes
// ${APP_PORT}:<web port> and carries Traefik labels, plus
// metadata/description.md, metadata/logo.jpg and an optional data/ folder
// copied into the app's data folder at install.

// ReadRuntipi reads the Runtipi app in folder dir of fsys.
func ReadRuntipi(fsys fs.FS, dir string) (App, error) {
	config, err := readLimited(fsys, path.Join(dir, "config.json"))
	if err != nil {
		return App{}, fmt.Errorf("read %s: %w", path.Join(dir, "config.json"), err)
	}
	dyn, err := readLimited(fsys, path.Join(dir, "docker-compose.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return App{}, err
	}
	legacy, _, err := readFirst(fsys, dir, []string{"docker-compose.yml", "docker-compose.yaml"})
	if err != nil && dyn == nil {
		return App{}, errors.New("no docker-compose.json nor docker-compose.yml")
	}
	desc, _ := readLimited(fsys, path.Join(dir, "metadata", "description.md"))
	app, err := convertRuntipi(context.Background(), config, dyn, legacy, desc, path.Base(dir))
	if err != nil {
		return app, fmt.Errorf("%s: %w", dir, err)
	}
	if err := addReferencedFiles(&app, fsys, dir); err != nil { // appfiles.go
		return App{}, err
	}
	files, err := readFiles(fsys, dir, "config.json")
	if err != nil {
		return App{}, err
	}
	for name, b := range files {
		switch {
		case strings.HasPrefix(name, "data/"):
			if app.Seed == nil {
				app.Seed = map[string][]byte{}
			}
			app.Seed[name] = b
		case strings.HasPrefix(name, "metadata/logo."):
			if app.Files == nil {
				app.Files = map[string][]byte{}
			}
			app.Files[name] = b
			if app.Icon == "" {
				app.Icon = name
			}
		}
	}
	return app, nil
}

// flexString is a JSON value read as text: Runtipi's files hold numbers,
// booleans and strings where one would expect either.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case nil:
		*f = ""
	case string:
		*f = flexString(t)
	case float64:
		*f = flexString(strconv.FormatFloat(t, 'f', -1, 64))
	case bool:
		*f = flexString(strconv.FormatBool(t))
	default:
		return fmt.Errorf("want text, number or boolean, got %s", bytes.TrimSpace(b))
	}
	return nil
}

func (f flexString) int() int {
	n, err := strconv.ParseFloat(string(f), 64)
	if err != nil || n != float64(int(n)) {
		return 0
	}
	return int(n)
}

type runtipiConfig struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Port        flexString `json:"port"`
	Available   *bool      `json:"available"`
	Deprecated  bool       `json:"deprecated"`
	Version     flexString `json:"version"`
	Categories  []string   `json:"categories"`
	Description string     `json:"description"`
	ShortDesc   string     `json:"short_desc"`
	Author      string     `json:"author"`
	Source      string     `json:"source"`
	Website     string     `json:"website"`
	HTTPS       bool       `json:"https"`
	NoGUI       bool       `json:"no_gui"`
	FormFields  []struct {
		Type        string     `json:"type"`
		Label       string     `json:"label"`
		Hint        string     `json:"hint"`
		Placeholder string     `json:"placeholder"`
		Min         flexString `json:"min"`
		Max         flexString `json:"max"`
		Required    bool       `json:"required"`
		Default     flexString `json:"default"`
		EnvVariable string     `json:"env_variable"`
		Options     []struct {
			Label string     `json:"label"`
			Value flexString `json:"value"`
		} `json:"options"`
	} `json:"form_fields"`
	SupportedArchitectures []string `json:"supported_architectures"`
}

func convertRuntipi(ctx context.Context, config, dynCompose, legacyCompose, descMD []byte, folder string) (App, error) {
	var cfg runtipiConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return App{ID: sanitizeID(folder), Name: folder}, fmt.Errorf("config.json: invalid JSON: %w", err)
	}
	app := App{Name: cfg.Name, Tagline: cfg.ShortDesc, Description: cfg.Description,
		Version: string(cfg.Version), Website: cfg.Website, Source: cfg.Source,
		Categories: cfg.Categories, Architectures: cfg.SupportedArchitectures}
	for _, cand := range []string{cfg.ID, folder} {
		if id := sanitizeID(cand); ValidID(id) {
			app.ID = id
			break
		}
	}
	if app.ID == "" {
		return App{}, fmt.Errorf("cannot make an app id of %q", cfg.ID)
	}
	if app.Name == "" {
		app.Name = folder
	}
	if md := strings.TrimSpace(string(descMD)); md != "" && len(md) <= 64<<10 {
		app.Description = md
	}
	if cfg.HTTPS {
		app.MainScheme = "https"
	}

	// Form fields: env_variable is the compose variable.
	baseURLVars := map[string]bool{}
	for i, ff := range cfg.FormFields {
		key := ff.EnvVariable
		if ff.Type == "app_base_url" {
			baseURLVars[key] = true // Runtipi fills it with the app's URL
			continue
		}
		if !validVarName(key) {
			return app, fmt.Errorf("config.json: form_fields[%d]: env_variable %q is not a variable name", i, key)
		}
		if isInstallVariable(key) {
			continue
		}
		f := Field{Key: key, Label: ff.Label, Type: FieldText, Required: ff.Required, Default: string(ff.Default), Hint: ff.Hint}
		if f.Label == "" {
			f.Label = key
		}
		switch ff.Type {
		case "password":
			f.Type, f.Secret = FieldPassword, true
		case "random":
			f.Type, f.Secret, f.Random = FieldPassword, true, true
			f.RandomLength = ff.Min.int()
			if f.RandomLength <= 0 {
				f.RandomLength = 32
			}
			f.Required = false // generated when left empty
		case "email":
			f.Type = FieldEmail
		case "number":
			f.Type = FieldNumber
		case "url":
			f.Type = FieldURL
		case "boolean":
			f.Type = FieldBool
		case "fqdn":
			f.Hint = joinHint(f.Hint, "a domain name")
		case "ip":
			f.Hint = joinHint(f.Hint, "an IP address")
		case "fqdnip":
			f.Hint = joinHint(f.Hint, "a domain name or an IP address")
		}
		if len(ff.Options) > 0 {
			f.Type = FieldSelect
			for _, o := range ff.Options {
				f.Options = append(f.Options, string(o.Value))
			}
		}
		if ff.Type != "random" && (ff.Min != "" || ff.Max != "") && (f.Type == FieldText || f.Type == FieldPassword) {
			switch {
			case ff.Min != "" && ff.Max != "":
				f.Hint = joinHint(f.Hint, fmt.Sprintf("%s to %s characters", ff.Min, ff.Max))
			case ff.Min != "":
				f.Hint = joinHint(f.Hint, fmt.Sprintf("at least %s characters", ff.Min))
			default:
				f.Hint = joinHint(f.Hint, fmt.Sprintf("at most %s characters", ff.Max))
			}
		}
		if ff.Placeholder != "" && f.Hint == "" {
			f.Hint = "e.g. " + ff.Placeholder
		}
		app.Fields = append(app.Fields, f)
	}

	var doc map[string]any
	resolvePort := runtipiPortResolver(cfg.Port.int(), app.Fields)
	if len(bytes.TrimSpace(dynCompose)) > 0 {
		d, main, port, warns, err := runtipiDynamic(dynCompose, cfg.Port.int(), resolvePort)
		if err != nil {
			return app, fmt.Errorf("docker-compose.json: %w", err)
		}
		doc, app.MainService, app.MainPort = d, main, port
		app.Warnings = append(app.Warnings, warns...)
	} else {
		d, err := decodeYAML(legacyCompose)
		if err != nil {
			return app, fmt.Errorf("docker-compose.yml: %w", err)
		}
		doc = d
		if len(serviceMap(doc)) == 0 {
			return app, errors.New("docker-compose.yml: no services")
		}
		if isXRuntipi(doc) {
			main, port, headless, warns, err := runtipiXMain(doc, resolvePort)
			if err != nil {
				return app, fmt.Errorf("docker-compose.yml: %w", err)
			}
			app.MainService, app.MainPort, app.NoWebUI = main, port, headless
			app.Warnings = append(app.Warnings, warns...)
		} else {
			app.MainService, app.MainPort = runtipiLegacyMain(doc, cfg.Port.int())
		}
	}
	services := serviceMap(doc)
	if cfg.NoGUI {
		// Runtipi shows no link to the app: whatever port it has is for
		// other programs (a game, a relay, a node), published as written.
		// Runtipi publishes the main service's internal port on the app's
		// port itself: so does the converted file.
		if svc, ok := services[app.MainService]; ok && app.MainPort > 0 && cfg.Port.int() > 0 && !publishesTarget(svc, app.MainPort) {
			svc["ports"] = append(asList(svc["ports"]), fmt.Sprintf("%d:%d", cfg.Port.int(), app.MainPort))
		}
		app.NoWebUI, app.MainPort = true, 0
		if _, ok := services[app.MainService]; !ok {
			app.MainService = principalService(services)
		}
	}
	if !app.NoWebUI && (app.MainService == "" || app.MainPort == 0) {
		return app, errors.New("cannot tell the web UI's service and port (no isMain service with internalPort, no x-runtipi is_main service, no ${APP_PORT} publication)")
	}
	if !app.NoWebUI {
		// The web UI's publication (${APP_PORT}:port) becomes the platform's route.
		for _, svc := range services {
			dropAppPortPublications(svc)
		}
		dropPublication(services[app.MainService], app.MainPort)
	}

	translateBindSources(doc, func(src string) string {
		for _, p := range []string{"${ROOT_FOLDER_HOST}/media", "$ROOT_FOLDER_HOST/media"} {
			if rest, ok := strings.CutPrefix(src, p); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
				return "${APP_DATA_DIR}/shared" + rest
			}
		}
		return src
	})
	mainPort := strconv.Itoa(app.MainPort)
	if app.NoWebUI {
		// ${APP_PORT} is then the host port users connect to.
		mainPort = strconv.Itoa(cfg.Port.int())
	}
	var warnRoot bool
	walkStrings(doc, func(s string) string {
		return rewriteVars(s, func(name string) (varRewrite, bool) {
			if baseURLVars[name] {
				return renameVar("APP_URL"), true
			}
			switch name {
			case "APP_DATA_DIR", "APP_DOMAIN", "APP_ID", "APP_URL", "TZ":
				return varRewrite{}, false
			case "APP_HOST", "APP_PUBLIC_HOSTNAME", "APP_EXPOSED_DOMAIN", "APP_LOCAL_DOMAIN", "APP_BASE_HOST", "APP_INTERNAL_AUTHORITY":
				return renameVar("APP_DOMAIN"), true
			case "APP_BASE_URL", "APP_PUBLIC_URL":
				return renameVar("APP_URL"), true
			case "LOCAL_DOMAIN", "DOMAIN":
				return renameVar("BASE_DOMAIN"), true
			case "APP_PROTOCOL", "APP_SCHEME":
				return literalVar("https"), true
			case "APP_PORT":
				return literalVar(mainPort), true
			case "APP_EXPOSED":
				return literalVar("true"), true
			case "APP_NAME":
				return renameVar("APP_ID"), true
			case "APP_IMAGE_TAG":
				return literalVar(app.Version), true
			case "DNS_IP":
				return literalVar("9.9.9.9"), true
			case "NETWORK_INTERFACE", "APP_HOSTNAME":
				return literalVar("0.0.0.0"), true
			case "ROOT_FOLDER_HOST":
				warnRoot = true
				return exprVar("${APP_DATA_DIR}/runtipi-root"), true
			}
			return varRewrite{}, false
		})
	})
	if warnRoot {
		app.Warnings = append(app.Warnings, "${ROOT_FOLDER_HOST} (Runtipi's own folder) is ${APP_DATA_DIR}/runtipi-root here")
	}
	app.Warnings = append(app.Warnings, cleanupCompose(doc, cleanupOptions{
		dropLabel: func(l string) bool {
			return strings.HasPrefix(l, "traefik.") || strings.HasPrefix(l, "runtipi.")
		},
		dropNetwork: func(n string) bool { return n == "tipi_main_network" },
	})...)
	ensureCreateHostPath(doc)
	if cfg.Available != nil && !*cfg.Available {
		app.Unavailable = "the store marks this app unavailable"
	}
	if cfg.Deprecated {
		app.Warnings = append(app.Warnings, "the store marks this app deprecated")
	}
	unavailable := app.Unavailable
	finishForeign(ctx, doc, &app, "a Runtipi variable with no StackHub meaning; set it if the app needs it", nil)
	if unavailable != "" {
		app.Unavailable = unavailable
	}
	return app, nil
}

// publishesTarget reports whether svc publishes container port target.
func publishesTarget(svc map[string]any, target int) bool {
	for _, p := range asList(svc["ports"]) {
		if e, ok := parsePort(p); ok && portNumber(e.Target) == target {
			return true
		}
	}
	return false
}

func joinHint(a, b string) string {
	if a == "" {
		return b
	}
	return strings.TrimSuffix(a, ".") + " (" + b + ")"
}

// runtipiLegacyMain finds the web UI of a classic Runtipi compose file: the
// service publishing ${APP_PORT}, else the one whose Traefik labels name
// the port.
func runtipiLegacyMain(doc map[string]any, configPort int) (string, int) {
	services := serviceMap(doc)
	for _, name := range sortedKeys(services) {
		for _, p := range asList(services[name]["ports"]) {
			e, ok := parsePort(p)
			if !ok || !strings.Contains(e.Published, "APP_PORT") {
				continue
			}
			if n := portNumber(e.Target); n > 0 {
				return name, n
			}
			if strings.Contains(e.Target, "APP_PORT") && configPort > 0 {
				return name, configPort
			}
		}
	}
	for _, name := range sortedKeys(services) {
		labels := asMap(services[name]["labels"])
		for k, v := range labels {
			if strings.HasPrefix(k, "traefik.http.services.") && strings.HasSuffix(k, ".loadbalancer.server.port") {
				if n := portNumber(scalarString(v)); n > 0 {
					return name, n
				}
			}
		}
		for _, l := range asList(services[name]["labels"]) {
			k, v, _ := strings.Cut(scalarString(l), "=")
			if strings.HasPrefix(k, "traefik.http.services.") && strings.HasSuffix(k, ".loadbalancer.server.port") {
				if n := portNumber(v); n > 0 {
					return name, n
				}
			}
		}
	}
	if len(services) == 1 && configPort > 0 {
		for n, svc := range services {
			if scalarString(svc["network_mode"]) == "host" {
				return n, configPort
			}
		}
	}
	return "", 0
}

// dropAppPortPublications removes the publications of ${APP_PORT}: Runtipi's
// port for the web UI, which StackHub routes instead.
func dropAppPortPublications(svc map[string]any) {
	ports := asList(svc["ports"])
	if ports == nil {
		return
	}
	var kept []any
	for _, p := range ports {
		if e, ok := parsePort(p); ok && strings.Contains(e.Published, "APP_PORT") {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		delete(svc, "ports")
	} else {
		svc["ports"] = kept
	}
}

// runtipiService is one service of Runtipi's dynamic compose format
// (schemas.runtipi.io dynamic-compose.json, versions 1 and 2).
type runtipiService struct {
	Name         string          `json:"name"`
	Image        string          `json:"image"`
	IsMain       bool            `json:"isMain"`
	InternalPort flexString      `json:"internalPort"`
	Environment  json.RawMessage `json:"environment"`
	Volumes      []struct {
		HostPath      string `json:"hostPath"`
		ContainerPath string `json:"containerPath"`
		ReadOnly      bool   `json:"readOnly"`
		Shared        bool   `json:"shared"`
		Private       bool   `json:"private"`
		Bind          *struct {
			Propagation string `json:"propagation"`
		} `json:"bind"`
	} `json:"volumes"`
	AddPorts []struct {
		ContainerPort flexString `json:"containerPort"`
		HostPort      flexString `json:"hostPort"`
		UDP           *bool      `json:"udp"`
		TCP           *bool      `json:"tcp"`
		Interface     string     `json:"interface"`
	} `json:"addPorts"`
	// Settings copied to compose keys as they are (same shape).
	Command     json.RawMessage `json:"command"`
	Entrypoint  json.RawMessage `json:"entrypoint"`
	NetworkMode string          `json:"networkMode"`
	ExtraHosts  []string        `json:"extraHosts"`
	Ulimits     json.RawMessage `json:"ulimits"`
	HealthCheck *struct {
		Test          json.RawMessage `json:"test"`
		Interval      string          `json:"interval"`
		Timeout       string          `json:"timeout"`
		Retries       flexString      `json:"retries"`
		StartInterval string          `json:"startInterval"`
		StartPeriod   string          `json:"startPeriod"`
	} `json:"healthCheck"`
	DependsOn       json.RawMessage `json:"dependsOn"`
	CapAdd          []string        `json:"capAdd"`
	CapDrop         []string        `json:"capDrop"`
	Deploy          json.RawMessage `json:"deploy"`
	Hostname        string          `json:"hostname"`
	Devices         []string        `json:"devices"`
	Pid             string          `json:"pid"`
	Privileged      bool            `json:"privileged"`
	TTY             bool            `json:"tty"`
	User            flexString      `json:"user"`
	WorkingDir      string          `json:"workingDir"`
	ShmSize         flexString      `json:"shmSize"`
	Logging         json.RawMessage `json:"logging"`
	ReadOnly        bool            `json:"readOnly"`
	SecurityOpt     []string        `json:"securityOpt"`
	StopSignal      string          `json:"stopSignal"`
	StopGracePeriod string          `json:"stopGracePeriod"`
	StdinOpen       bool            `json:"stdinOpen"`
	ExtraLabels     map[string]any  `json:"extraLabels"`
	DNS             json.RawMessage `json:"dns"`
	Sysctls         map[string]any  `json:"sysctls"`
	Restart         string          `json:"restart"`
	AddToMain       bool            `json:"addToMainNetwork"`
}

// runtipiDynamic converts a dynamic compose file into a compose document.
// configPort (config.json's port) is the main port of a main service
// without internalPort (one on the host's network).
func runtipiDynamic(b []byte, configPort int, resolvePort func(string) int) (doc map[string]any, main string, port int, warns []string, err error) {
	var dc struct {
		Services  []json.RawMessage `json:"services"`
		Overrides []json.RawMessage `json:"overrides"`
	}
	if err := json.Unmarshal(b, &dc); err != nil {
		return nil, "", 0, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if len(dc.Services) == 0 {
		return nil, "", 0, nil, errors.New("no services")
	}
	if len(dc.Overrides) > 0 {
		warns = append(warns, "per-architecture overrides of docker-compose.json are not applied")
	}
	known := map[string]bool{}
	for _, k := range []string{"name", "image", "isMain", "internalPort", "environment", "volumes", "addPorts", "command", "entrypoint", "networkMode", "extraHosts", "ulimits", "healthCheck", "dependsOn", "capAdd", "capDrop", "deploy", "hostname", "devices", "pid", "privileged", "tty", "user", "workingDir", "shmSize", "logging", "readOnly", "securityOpt", "stopSignal", "stopGracePeriod", "stdinOpen", "extraLabels", "dns", "sysctls", "restart", "addToMainNetwork"} {
		known[k] = true
	}
	services := map[string]any{}
	firstPort := ""
	for i, raw := range dc.Services {
		var s runtipiService
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, "", 0, nil, fmt.Errorf("services[%d]: %w", i, err)
		}
		var keys map[string]json.RawMessage
		json.Unmarshal(raw, &keys)
		for _, k := range sortedKeys(keys) {
			if !known[k] {
				warns = append(warns, fmt.Sprintf("service %s: setting %q of docker-compose.json is not understood and left out", s.Name, k))
			}
		}
		if s.Name == "" || s.Image == "" {
			return nil, "", 0, nil, fmt.Errorf("services[%d] needs a name and an image", i)
		}
		if _, dup := services[s.Name]; dup {
			return nil, "", 0, nil, fmt.Errorf("two services are named %q", s.Name)
		}
		svc := map[string]any{"image": s.Image}
		restart := s.Restart
		if restart == "" {
			restart = "unless-stopped"
		}
		svc["restart"] = restart
		if env, err := runtipiEnv(s.Environment); err != nil {
			return nil, "", 0, nil, fmt.Errorf("service %s: environment: %w", s.Name, err)
		} else if len(env) > 0 {
			svc["environment"] = env
		}
		var vols []any
		for _, v := range s.Volumes {
			if v.HostPath == "" || v.ContainerPath == "" {
				return nil, "", 0, nil, fmt.Errorf("service %s: a volume needs hostPath and containerPath", s.Name)
			}
			m := map[string]any{"source": v.HostPath, "target": v.ContainerPath}
			if isHostPath(v.HostPath) {
				m["type"] = "bind"
				bind := map[string]any{"create_host_path": true}
				switch {
				case v.Bind != nil && v.Bind.Propagation != "":
					bind["propagation"] = v.Bind.Propagation
				case v.Shared:
					bind["propagation"] = "shared"
				case v.Private:
					bind["propagation"] = "private"
				}
				m["bind"] = bind
			} else {
				m["type"] = "volume"
				if doc == nil {
					doc = map[string]any{}
				}
				vs := asMap(doc["volumes"])
				if vs == nil {
					vs = map[string]any{}
					doc["volumes"] = vs
				}
				vs[v.HostPath] = nil
			}
			if v.ReadOnly {
				m["read_only"] = true
			}
			vols = append(vols, m)
		}
		if len(vols) > 0 {
			svc["volumes"] = vols
		}
		var ports []any
		for _, p := range s.AddPorts {
			udp := p.UDP != nil && *p.UDP
			tcp := p.TCP == nil || *p.TCP || !udp
			if p.TCP == nil && udp {
				tcp = false
			}
			for _, proto := range []string{"tcp", "udp"} {
				if (proto == "tcp" && !tcp) || (proto == "udp" && !udp) {
					continue
				}
				if p.ContainerPort.int() == 0 {
					// A range ("25500-25600") or a variable: the short
					// syntax takes both, the long one wants a number.
					short := string(p.HostPort) + ":" + string(p.ContainerPort) + "/" + proto
					if p.Interface != "" {
						short = p.Interface + ":" + short
					}
					ports = append(ports, short)
					continue
				}
				m := map[string]any{"target": p.ContainerPort.int(), "published": string(p.HostPort), "protocol": proto}
				if p.Interface != "" {
					m["host_ip"] = p.Interface
				}
				ports = append(ports, m)
			}
		}
		if len(ports) > 0 {
			svc["ports"] = ports
		}
		setRaw := func(key string, raw json.RawMessage) error {
			if len(raw) == 0 || string(raw) == "null" {
				return nil
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			svc[key] = v
			return nil
		}
		for _, r := range []struct {
			key string
			raw json.RawMessage
		}{{"command", s.Command}, {"entrypoint", s.Entrypoint}, {"ulimits", s.Ulimits}, {"depends_on", s.DependsOn}, {"logging", s.Logging}, {"dns", s.DNS}} {
			if err := setRaw(r.key, r.raw); err != nil {
				return nil, "", 0, nil, fmt.Errorf("service %s: %s: %w", s.Name, r.key, err)
			}
		}
		if len(s.Deploy) > 0 && string(s.Deploy) != "null" {
			var d any
			if err := json.Unmarshal(s.Deploy, &d); err != nil {
				return nil, "", 0, nil, fmt.Errorf("service %s: deploy: %w", s.Name, err)
			}
			renameKeys(d, map[string]string{"deviceIds": "device_ids"})
			svc["deploy"] = d
		}
		if h := s.HealthCheck; h != nil {
			hc := map[string]any{}
			var test any
			if err := json.Unmarshal(h.Test, &test); err == nil && test != nil {
				hc["test"] = test
			}
			for k, v := range map[string]string{"interval": h.Interval, "timeout": h.Timeout, "start_interval": h.StartInterval, "start_period": h.StartPeriod} {
				if v != "" {
					hc[k] = v
				}
			}
			if n := h.Retries.int(); n > 0 {
				hc["retries"] = n
			}
			if hc["test"] != nil {
				svc["healthcheck"] = hc
			}
		}
		strs := map[string]string{"network_mode": s.NetworkMode, "hostname": s.Hostname, "pid": s.Pid,
			"user": string(s.User), "working_dir": s.WorkingDir, "shm_size": string(s.ShmSize),
			"stop_signal": s.StopSignal, "stop_grace_period": s.StopGracePeriod}
		for k, v := range strs {
			if v != "" {
				svc[k] = v
			}
		}
		bools := map[string]bool{"privileged": s.Privileged, "tty": s.TTY, "read_only": s.ReadOnly, "stdin_open": s.StdinOpen}
		for k, v := range bools {
			if v {
				svc[k] = true
			}
		}
		lists := map[string][]string{"extra_hosts": s.ExtraHosts, "cap_add": s.CapAdd, "cap_drop": s.CapDrop, "devices": s.Devices, "security_opt": s.SecurityOpt}
		for k, v := range lists {
			if len(v) > 0 {
				l := make([]any, len(v))
				for i, e := range v {
					l[i] = e
				}
				svc[k] = l
			}
		}
		if len(s.ExtraLabels) > 0 {
			labels := map[string]any{}
			for k, v := range s.ExtraLabels {
				labels[k] = scalarString(v)
			}
			svc["labels"] = labels
		}
		if len(s.Sysctls) > 0 {
			svc["sysctls"] = s.Sysctls
		}
		services[s.Name] = svc
		if s.IsMain && main == "" {
			main, port = s.Name, resolvePort(string(s.InternalPort))
			if port == 0 && s.InternalPort != "" {
				return nil, "", 0, nil, fmt.Errorf("service %s: internalPort %q is not a port number", s.Name, s.InternalPort)
			}
			if port == 0 {
				port = configPort
			}
		}
		if firstPort == "" && s.InternalPort.int() > 0 {
			firstPort = s.Name
		}
	}
	if main == "" && firstPort != "" {
		var s runtipiService
		for _, raw := range dc.Services {
			if json.Unmarshal(raw, &s) == nil && s.Name == firstPort {
				main, port = s.Name, s.InternalPort.int()
			}
		}
	}
	if doc == nil {
		doc = map[string]any{}
	}
	doc["services"] = services
	return doc, main, port, warns, nil
}

// runtipiEnv reads a dynamic compose environment: a list of {key, value}
// (version 2) or a map (version 1).
func runtipiEnv(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	env := map[string]any{}
	var list []struct {
		Key   string     `json:"key"`
		Value flexString `json:"value"`
	}
	if err := json.Unmarshal(raw, &list); err == nil {
		for _, e := range list {
			if e.Key == "" {
				return nil, errors.New("an entry has no key")
			}
			env[e.Key] = string(e.Value)
		}
		return env, nil
	}
	var m map[string]flexString
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("want a list of {key, value} or a map")
	}
	for k, v := range m {
		env[k] = string(v)
	}
	return env, nil
}

// renameKeys renames map keys anywhere in a decoded JSON tree.
func renameKeys(v any, names map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			renameKeys(t[k], names)
			if n, ok := names[k]; ok {
				t[n] = t[k]
				delete(t, k)
			}
		}
	case []any:
		for _, e := range t {
			renameKeys(e, names)
		}
	}
}
