package stores

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// webCandidate is a service's container port that may serve the app's web
// UI.
type webCandidate struct {
	Service string
	Port    int
}

func (c webCandidate) String() string { return c.Service + ":" + strconv.Itoa(c.Port) }

// candidatePorts lists the distinct container ports a service offers: the
// targets of its ports entries, or, when it publishes nothing, its expose
// entries. Published ports win because that is where a plain compose file
// sends the browser.
func candidatePorts(ports, expose []any) []int {
	if found := distinctPorts(ports); len(found) > 0 {
		return found
	}
	return distinctPorts(expose)
}

func distinctPorts(entries []any) []int {
	var out []int
	seen := map[int]bool{}
	for _, e := range entries {
		if p := targetPort(e); p > 0 && p <= 65535 && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// chooseMain tells the main service and web port of a compose file where
// x-stackhub does not (service "" or port 0): the only service offering
// ports, and its only port. Several candidates are an error that lists
// them, so the user knows what to write in x-stackhub.main.
func chooseMain(doc composeDoc, service string, port int) (string, int, error) {
	names := make([]string, 0, len(doc.Services))
	for n := range doc.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	offers := func(n string) []int {
		s := doc.Services[n]
		return candidatePorts(s.Ports, s.Expose)
	}
	if service == "" {
		var publishing, exposing []string
		for _, n := range names {
			s := doc.Services[n]
			switch {
			case len(distinctPorts(s.Ports)) > 0:
				publishing = append(publishing, n)
			case len(distinctPorts(s.Expose)) > 0:
				exposing = append(exposing, n)
			}
		}
		switch {
		case len(names) == 1:
			service = names[0]
		case len(publishing) == 1:
			service = publishing[0]
		case len(publishing) == 0 && len(exposing) == 1:
			service = exposing[0]
		case len(publishing)+len(exposing) == 0:
			return "", 0, fmt.Errorf("cannot tell which service serves the web UI: no service has ports or expose; set x-stackhub.main.service and main.port, or give the web service expose: [\"PORT\"]")
		default:
			var all []string
			for _, n := range append(publishing, exposing...) {
				for _, p := range offers(n) {
					all = append(all, webCandidate{n, p}.String())
				}
			}
			return "", 0, fmt.Errorf("cannot tell which service serves the web UI among %s: set x-stackhub.main.service and main.port", strings.Join(all, ", "))
		}
	}
	if _, ok := doc.Services[service]; !ok {
		return "", 0, fmt.Errorf("x-stackhub.main.service %q is not a service of the compose file", service)
	}
	if port != 0 {
		return service, port, nil
	}
	switch ports := offers(service); len(ports) {
	case 1:
		return service, ports[0], nil
	case 0:
		return "", 0, fmt.Errorf("cannot tell which port service %q serves its web UI on: it has no ports or expose; set x-stackhub.main.port, or give it expose: [\"PORT\"]", service)
	default:
		all := make([]string, len(ports))
		for i, p := range ports {
			all[i] = webCandidate{service, p}.String()
		}
		return "", 0, fmt.Errorf("cannot tell which port service %q serves its web UI on among %s: set x-stackhub.main.port", service, strings.Join(all, ", "))
	}
}

// targetPort returns the container port of one ports or expose entry, in
// short ("8080:80", "127.0.0.1:8080:80/tcp", "80", "8000-8001": the first)
// or long ({target: 80}) form; 0 when it names none.
func targetPort(entry any) int {
	switch v := entry.(type) {
	case int:
		return v
	case string:
		s := strings.SplitN(v, "/", 2)[0]
		parts := strings.Split(s, ":")
		last := parts[len(parts)-1]
		last = strings.SplitN(last, "-", 2)[0]
		if n, err := strconv.Atoi(strings.TrimSpace(last)); err == nil {
			return n
		}
	case map[string]any:
		switch t := v["target"].(type) {
		case int:
			return t
		case string:
			if n, err := strconv.Atoi(t); err == nil {
				return n
			}
		}
	}
	return 0
}
