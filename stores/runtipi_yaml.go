package stores

import (
	"fmt"
	"strconv"
	"strings"
)

// Runtipi's newer app format is an ordinary docker-compose.yml (no
// docker-compose.json) whose services carry an x-runtipi block, read by
// Runtipi's compose builder (runtipi/runtipi, schemas/compose-yaml.ts):
//
//	services:
//	  web:
//	    image: example/app:1.0.0
//	    x-runtipi:
//	      is_main: true            # the service Traefik routes to (one)
//	      internal_port: 8080      # its container port (a number; some apps
//	                               # write a variable such as ${APP_PORT})
//	      add_to_main_network: true  # joins Runtipi's network shared by all apps
//	x-runtipi:
//	  schema_version: 2
//	  overrides:                   # per-architecture service overrides
//	    - architecture: arm64
//	      services: {web: {image: example/app-arm64:1.0.0}}
//
// Runtipi publishes ${APP_PORT}:<internal_port> on the main service and
// adds its Traefik labels and network itself. An app without an is_main
// service is headless (no web UI).

// isXRuntipi reports whether a Runtipi docker-compose.yml is in the
// x-runtipi format.
func isXRuntipi(doc map[string]any) bool {
	if _, ok := doc["x-runtipi"]; ok {
		return true
	}
	for _, svc := range serviceMap(doc) {
		if _, ok := svc["x-runtipi"]; ok {
			return true
		}
	}
	return false
}

// runtipiXMain reads and removes the x-runtipi blocks of doc. It returns
// the main service and its port; noWebUI is true when no service is
// is_main (main is then the app's principal service, port 0). port
// resolves an internal_port written as a variable.
func runtipiXMain(doc map[string]any, port func(string) int) (main string, mainPort int, noWebUI bool, warns []string, err error) {
	if top := asMap(doc["x-runtipi"]); top != nil && len(asList(top["overrides"])) > 0 {
		warns = append(warns, "per-architecture overrides (x-runtipi.overrides) are not applied")
	}
	delete(doc, "x-runtipi")
	services := serviceMap(doc)
	var shared []string
	rawPort := ""
	for _, name := range sortedKeys(services) {
		x := asMap(services[name]["x-runtipi"])
		delete(services[name], "x-runtipi")
		if x == nil {
			continue
		}
		if x["add_to_main_network"] == true {
			shared = append(shared, name)
		}
		if x["is_main"] == true && main == "" {
			main, rawPort = name, scalarString(x["internal_port"])
		}
	}
	if len(shared) > 0 {
		warns = append(warns, fmt.Sprintf("Runtipi puts %s on a network shared by all apps (add_to_main_network); here each app has its own network", strings.Join(shared, ", ")))
	}
	if main == "" {
		return principalService(services), 0, true, warns, nil
	}
	if rawPort == "" {
		// As with docker-compose.json: a main service without a port of
		// its own (on the host's network) serves on the app's port.
		rawPort = "${APP_PORT}"
	}
	mainPort = port(rawPort)
	if mainPort == 0 {
		return "", 0, false, warns, fmt.Errorf("service %s: x-runtipi.internal_port %q is not a port number", main, rawPort)
	}
	return main, mainPort, false, warns, nil
}

// principalService picks the service of an app without a web UI that
// users deal with: the first (alphabetically) publishing a port, else the
// first.
func principalService(services map[string]map[string]any) string {
	names := sortedKeys(services)
	for _, n := range names {
		if len(asList(services[n]["ports"])) > 0 {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// runtipiPortResolver resolves a Runtipi port value (internalPort,
// internal_port) that may be a variable: ${APP_PORT} is the app's port of
// config.json (Runtipi sets APP_PORT to it, and such apps listen on it in
// their container too), a form field is its default, ${X:-N} is N.
func runtipiPortResolver(configPort int, fields []Field) func(string) int {
	defaults := map[string]string{}
	for _, f := range fields {
		defaults[f.Key] = f.Default
	}
	return func(s string) int {
		s = strings.TrimSpace(s)
		if n, err := strconv.Atoi(s); err == nil {
			if n > 0 && n <= 65535 {
				return n
			}
			return 0
		}
		v := rewriteVars(s, func(name string) (varRewrite, bool) {
			switch {
			case name == "APP_PORT" && configPort > 0:
				return literalVar(strconv.Itoa(configPort)), true
			case defaults[name] != "":
				return literalVar(defaults[name]), true
			}
			return literalVar(""), true
		})
		return portNumber(v)
	}
}
