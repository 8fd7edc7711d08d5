package stores

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// InstallVariables are the variables the platform sets for every app, in
// the order FORMAT.md documents them.
var InstallVariables = []string{"APP_ID", "APP_DATA_DIR", "APP_DOMAIN", "APP_URL", "BASE_DOMAIN", "TZ", "PUID", "PGID"}

func isInstallVariable(name string) bool {
	for _, v := range InstallVariables {
		if v == name {
			return true
		}
	}
	return false
}

// Example values of the install variables, as ExampleEnv sets them. The
// app's folder holds data/ (APP_DATA_DIR) and source/ (the compose file and
// Files), as appctl lays it out.
const (
	exampleAppDir     = "/var/lib/stackhub/apps/example"
	exampleDataDir    = exampleAppDir + "/data"
	exampleSourceDir  = exampleAppDir + "/source"
	exampleBaseDomain = "home.example.com"
)

// ExampleEnv returns the variables an app's compose file is loaded with in
// checks and tests: the install variables with example values (the data
// folder is /var/lib/stackhub/apps/example/data), each field's default or a
// fresh random value, and an empty value for any other variable the compose
// file references, so loading it never depends on the caller's environment.
func ExampleEnv(app App) map[string]string {
	id := app.ID
	if id == "" {
		id = "app"
	}
	env := map[string]string{
		"APP_ID":       id,
		"APP_DATA_DIR": exampleDataDir,
		"APP_DOMAIN":   id + "." + exampleBaseDomain,
		"APP_URL":      "https://" + id + "." + exampleBaseDomain,
		"BASE_DOMAIN":  exampleBaseDomain,
		"TZ":           "Etc/UTC",
		"PUID":         "1000",
		"PGID":         "1000",
	}
	var refs []string
	referencedVars(string(app.Compose), map[string]bool{}, &refs)
	for _, r := range refs {
		if _, ok := env[r]; !ok {
			env[r] = ""
		}
	}
	for _, f := range app.Fields {
		v := f.Default
		switch {
		case v != "":
		case f.Random:
			v = f.RandomValue()
		case f.Type == FieldSelect && len(f.Options) > 0:
			v = f.Options[0]
		case f.Type == FieldBool:
			v = "false"
		case f.Type == FieldNumber:
			v = "1"
		case f.Type == FieldEmail:
			v = "admin@" + exampleBaseDomain
		case f.Type == FieldURL:
			v = "https://example.com"
		case f.Required:
			v = "example"
		}
		env[f.Key] = v
	}
	return env
}

const randomAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RandomValue returns a fresh random value for the field: RandomLength
// (default 32) letters and digits, safe in URLs, shells and config files.
func (f Field) RandomValue() string {
	n := f.RandomLength
	if n <= 0 {
		n = 32
	}
	if n > 1024 {
		n = 1024
	}
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	limit := 256 / len(randomAlphabet) * len(randomAlphabet)
	for len(out) < n {
		rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, randomAlphabet[int(c)%len(randomAlphabet)])
			}
		}
	}
	return string(out)
}

// LoadProject loads an app's compose file with compose-go, as appctl does
// before installing it: env holds the install variables and field values
// (ExampleEnv gives example ones), the working folder is the app's source
// folder. The file is validated against the compose specification. A
// store's compose file may not pull in other files (extends.file, include,
// env_file are not read).
func LoadProject(ctx context.Context, app App, env map[string]string) (*types.Project, error) {
	return loadCompose(ctx, app.Compose, projectName(app.ID), env)
}

func projectName(id string) string {
	if id == "" {
		return "stackhub-app"
	}
	return "stackhub-" + id
}

func loadCompose(ctx context.Context, compose []byte, name string, env map[string]string) (p *types.Project, err error) {
	defer func() {
		// compose-go is not meant for hostile input; a store must not be able
		// to take the catalog down with a crafted file.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("compose file cannot be loaded: %v", r)
		}
	}()
	details := types.ConfigDetails{
		WorkingDir:  exampleSourceDir,
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: WithoutMeta(compose)}},
		Environment: env,
	}
	return loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(name, true)
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.SkipInclude = true
		o.ResourceLoaders = []loader.ResourceLoader{refuseFiles{}}
	})
}

// refuseFiles is the compose-go resource loader for store apps: it refuses
// every file a compose file references (extends.file), so reading a store
// never reads the host's files.
type refuseFiles struct{}

func (refuseFiles) Accept(string) bool { return true }
func (refuseFiles) Load(_ context.Context, p string) (string, error) {
	return "", fmt.Errorf("a store app's compose file may not reference another file (%s)", p)
}
func (refuseFiles) Dir(p string) string { return p }

// validateApp loads the app's compose file with example values and checks
// that its main service and port are real.
func validateApp(ctx context.Context, app App) (*types.Project, error) {
	if doc, err := decodeYAML(app.Compose); err == nil && doc["include"] != nil {
		return nil, errors.New("a store app's compose file may not include other files")
	}
	p, err := LoadProject(ctx, app, ExampleEnv(app))
	if err != nil {
		return nil, fmt.Errorf("invalid compose file: %w", err)
	}
	if _, ok := p.Services[app.MainService]; !ok {
		return nil, fmt.Errorf("main service %q is not a service of the compose file", app.MainService)
	}
	for name, s := range p.Services {
		if s.Image == "" && s.Build == nil {
			return nil, fmt.Errorf("service %q has no image", name)
		}
	}
	return p, nil
}

// --- generic compose documents -------------------------------------------------

// decodeYAML decodes a YAML (or JSON) document into maps with string keys,
// lists and scalars.
func decodeYAML(b []byte) (map[string]any, error) {
	var raw any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	doc, ok := normalizeYAML(raw).(map[string]any)
	if !ok {
		return nil, errors.New("the top level is not a mapping")
	}
	return doc, nil
}

// normalizeYAML turns map[any]any (YAML mappings with non-string keys) into
// map[string]any, recursively.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeYAML(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalizeYAML(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalizeYAML(e)
		}
		return t
	}
	return v
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// scalarString returns a YAML scalar as text ("" for anything else).
func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case uint64:
		return strconv.FormatUint(t, 10)
	case float64:
		if t == float64(int64(t)) {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// serviceMap returns the services of a compose document by name; entries
// that are not mappings are left out.
func serviceMap(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for name, v := range asMap(doc["services"]) {
		if m := asMap(v); m != nil {
			out[name] = m
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// portEntry is one entry of a service's ports list.
type portEntry struct {
	Published string // as written: "8080", "${WEBUI_PORT}", "" when not published
	Target    string // as written
	Protocol  string
	HostIP    string
}

// parsePort reads a ports entry in short ("[ip:][published:]target[/proto]")
// or long ({target, published, protocol, host_ip}) syntax.
func parsePort(v any) (portEntry, bool) {
	switch t := v.(type) {
	case map[string]any:
		e := portEntry{Target: scalarString(t["target"]), Published: scalarString(t["published"]),
			Protocol: scalarString(t["protocol"]), HostIP: scalarString(t["host_ip"])}
		return e, e.Target != ""
	default:
		s := scalarString(v)
		if s == "" {
			return portEntry{}, false
		}
		e := portEntry{}
		if i := strings.LastIndex(s, "/"); i >= 0 && !strings.Contains(s[i:], "}") {
			e.Protocol, s = s[i+1:], s[:i]
		}
		parts := splitPortSpec(s)
		e.Target = parts[len(parts)-1]
		if len(parts) >= 2 {
			e.Published = parts[len(parts)-2]
		}
		if len(parts) >= 3 {
			e.HostIP = strings.Join(parts[:len(parts)-2], ":")
		}
		return e, e.Target != ""
	}
}

// splitPortSpec splits "ip:published:target" at the colons that are not
// inside ${…} or [ipv6].
func splitPortSpec(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ':':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// portNumber reads the first port of "80", "8000-8010"; 0 when it is not a
// number.
func portNumber(s string) int {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '-'); i > 0 {
		s = s[:i]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

// dropPublication removes from svc the ports entries whose target is port
// (the web UI, which the platform routes instead). It reports whether any
// entry was removed.
func dropPublication(svc map[string]any, port int) bool {
	ports := asList(svc["ports"])
	if ports == nil {
		return false
	}
	kept := ports[:0:0]
	removed := false
	for _, p := range ports {
		if e, ok := parsePort(p); ok && portNumber(e.Target) == port && (e.Protocol == "" || e.Protocol == "tcp") {
			removed = true
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		delete(svc, "ports")
	} else {
		svc["ports"] = kept
	}
	return removed
}

// publishedPorts lists the host publications of a compose document.
func publishedPorts(doc map[string]any) []Port {
	var out []Port
	services := serviceMap(doc)
	for _, name := range sortedKeys(services) {
		for _, p := range asList(services[name]["ports"]) {
			e, ok := parsePort(p)
			if !ok || e.Published == "" {
				continue
			}
			proto := e.Protocol
			if proto == "" {
				proto = "tcp"
			}
			out = append(out, Port{Service: name, Target: portNumber(e.Target), Published: e.Published, Protocol: proto})
		}
	}
	return out
}

// cleanupOptions says what cleanupCompose removes from a foreign compose file.
type cleanupOptions struct {
	// dropLabel reports whether a label belongs to the foreign platform
	// (Traefik routing, runtipi.managed …).
	dropLabel func(string) bool
	// dropNetwork reports whether a network belongs to the foreign platform.
	dropNetwork func(string) bool
	// aliases are extra DNS names of each service, by service: the names
	// the foreign platform gave its containers, which other services of
	// the app use to reach it.
	aliases map[string][]string
}

// cleanupCompose turns a foreign compose document into one StackHub runs:
// no version or project name, no container_name (it would clash between
// installs; the name stays reachable as a network alias), no
// network_mode: bridge (services share the project's network), no fixed
// IP addresses, and none of the foreign platform's labels and networks.
// It returns warnings for what it changed that might matter.
func cleanupCompose(doc map[string]any, o cleanupOptions) []string {
	var warns []string
	delete(doc, "version")
	delete(doc, "name")
	if nets := asMap(doc["networks"]); nets != nil {
		for name, v := range nets {
			n := asMap(v)
			ext := n != nil && (n["external"] == true || asMap(n["external"]) != nil)
			if (o.dropNetwork != nil && o.dropNetwork(name)) || ext {
				delete(nets, name)
				if ext && (o.dropNetwork == nil || !o.dropNetwork(name)) {
					warns = append(warns, fmt.Sprintf("external network %q dropped: an app only uses its own networks", name))
				}
				continue
			}
			if n != nil {
				// A fixed network name would clash between two installs.
				delete(n, "name")
				if ipam := asMap(n["ipam"]); ipam != nil {
					delete(n, "ipam")
				}
			}
		}
		if len(nets) == 0 {
			delete(doc, "networks")
		}
	}
	// A service may only join the networks the file declares (and the
	// default one): references to dropped or undeclared networks go.
	keep := func(n string) bool {
		if n == "default" {
			return true
		}
		_, ok := asMap(doc["networks"])[n]
		return ok
	}
	services := serviceMap(doc)
	for _, name := range sortedKeys(services) {
		svc := services[name]
		aliases := append([]string(nil), o.aliases[name]...)
		if cn := scalarString(svc["container_name"]); cn != "" {
			aliases = append(aliases, cn)
		}
		delete(svc, "container_name")
		if nm := scalarString(svc["network_mode"]); nm == "bridge" || nm == "default" || nm == "" {
			delete(svc, "network_mode")
		}
		if labels := svc["labels"]; labels != nil && o.dropLabel != nil {
			svc["labels"] = filterLabels(labels, o.dropLabel)
			if svc["labels"] == nil {
				delete(svc, "labels")
			}
		}
		if _, ok := svc["network_mode"]; ok {
			continue // host, service:…, container:…: no networks of its own
		}
		svc["networks"] = serviceNetworks(svc["networks"], keep, aliases)
		if svc["networks"] == nil {
			delete(svc, "networks")
		}
	}
	return warns
}

func filterLabels(labels any, drop func(string) bool) any {
	switch t := labels.(type) {
	case map[string]any:
		for k := range t {
			if drop(k) {
				delete(t, k)
			}
		}
		if len(t) == 0 {
			return nil
		}
		return t
	case []any:
		var kept []any
		for _, l := range t {
			k, _, _ := strings.Cut(scalarString(l), "=")
			if !drop(k) {
				kept = append(kept, l)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return kept
	}
	return labels
}

// serviceNetworks rewrites a service's networks (list or map form) into map
// form with only the networks keep accepts, without fixed addresses, with aliases added
// on each network. It returns nil for "the default network only, no
// aliases".
func serviceNetworks(v any, keep func(string) bool, aliases []string) any {
	nets := map[string]any{}
	switch t := v.(type) {
	case []any:
		for _, n := range t {
			if s := scalarString(n); s != "" && keep(s) {
				nets[s] = nil
			}
		}
	case map[string]any:
		for k, n := range t {
			if !keep(k) {
				continue
			}
			if m := asMap(n); m != nil {
				delete(m, "ipv4_address")
				delete(m, "ipv6_address")
				delete(m, "link_local_ips")
				if len(m) == 0 {
					n = nil
				}
			}
			nets[k] = n
		}
	}
	if len(nets) == 0 {
		if len(aliases) == 0 {
			return nil
		}
		nets["default"] = nil
	}
	if len(aliases) > 0 {
		for k, n := range nets {
			m := asMap(n)
			if m == nil {
				m = map[string]any{}
			}
			have := map[string]bool{}
			var list []any
			for _, a := range asList(m["aliases"]) {
				have[scalarString(a)] = true
				list = append(list, a)
			}
			for _, a := range aliases {
				if a != "" && !have[a] {
					have[a] = true
					list = append(list, a)
				}
			}
			m["aliases"] = list
			nets[k] = m
		}
	}
	return nets
}

// nativeOut is the x-stackhub block written into converted compose files.
type nativeOut struct {
	ID            string   `yaml:"id,omitempty"`
	Name          string   `yaml:"name,omitempty"`
	Tagline       string   `yaml:"tagline,omitempty"`
	Description   string   `yaml:"description,omitempty"`
	Icon          string   `yaml:"icon,omitempty"`
	Version       string   `yaml:"version,omitempty"`
	Website       string   `yaml:"website,omitempty"`
	Source        string   `yaml:"source,omitempty"`
	Categories    []string `yaml:"categories,omitempty"`
	Architectures []string `yaml:"architectures,omitempty"`
	Main          struct {
		Service string `yaml:"service"`
		Port    int    `yaml:"port"`
		Scheme  string `yaml:"scheme,omitempty"`
	} `yaml:"main"`
	Fields  []Field `yaml:"fields,omitempty"`
	NoWebUI bool    `yaml:"no_web_ui,omitempty"`
	Ports   []Port  `yaml:"ports,omitempty"`
}

// writeNative encodes a converted compose document with the app's
// metadata as its x-stackhub block (first), so the result is a native app
// compose file.
func writeNative(doc map[string]any, app App) ([]byte, error) {
	meta := nativeOut{ID: app.ID, Name: app.Name, Tagline: app.Tagline, Description: app.Description,
		Icon: app.Icon, Version: app.Version, Website: app.Website, Source: app.Source,
		Categories: app.Categories, Architectures: app.Architectures, Fields: app.Fields, Ports: app.Ports, NoWebUI: app.NoWebUI}
	meta.Main.Service, meta.Main.Port, meta.Main.Scheme = app.MainService, app.MainPort, app.MainScheme
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v any) error {
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			return err
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &n)
		return nil
	}
	if err := add("x-stackhub", meta); err != nil {
		return nil, err
	}
	order := []string{"services", "networks", "volumes", "configs", "secrets"}
	done := map[string]bool{"x-stackhub": true}
	for _, k := range order {
		if v, ok := doc[k]; ok {
			if err := add(k, v); err != nil {
				return nil, err
			}
			done[k] = true
		}
	}
	for _, k := range sortedKeys(doc) {
		if !done[k] {
			if err := add(k, doc[k]); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fieldsForUnknownVars adds a text field for each variable the compose
// document references that is neither an install variable nor a field
// yet, so an admin can see and set it. why explains where such variables
// come from.
func fieldsForUnknownVars(doc map[string]any, fields []Field, why string) ([]Field, []string) {
	known := map[string]bool{}
	for _, v := range InstallVariables {
		known[v] = true
	}
	for _, f := range fields {
		known[f.Key] = true
	}
	var refs []string
	seen := map[string]bool{}
	walkStrings(doc, func(s string) string {
		referencedVars(s, seen, &refs)
		return s
	})
	var added []string
	for _, r := range refs {
		if known[r] {
			continue
		}
		known[r] = true
		fields = append(fields, Field{Key: r, Label: r, Type: FieldText, Hint: why})
		added = append(added, r)
	}
	return fields, added
}
