package stores

import (
	"fmt"
	"sort"
	"strings"
)

// composeImages lists the images of a compose document's services, sorted,
// each once.
func composeImages(doc map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, svc := range serviceMap(doc) {
		if img := scalarString(svc["image"]); img != "" && !seen[img] {
			seen[img] = true
			out = append(out, img)
		}
	}
	sort.Strings(out)
	return out
}

// InstallSummary describes what installing the app sets up, one line each:
// its images, the service and port of its web UI (or that it has none),
// the host ports it publishes and the settings that need an admin's
// approval. `stackhub store info` prints it.
func (a App) InstallSummary() []string {
	var out []string
	if len(a.Images) > 0 {
		out = append(out, "Images:   "+strings.Join(a.Images, ", "))
	}
	switch {
	case a.NoWebUI:
		main := "none: a service app, reached on its ports"
		if a.MainService != "" {
			main += " (main service " + a.MainService + ")"
		}
		out = append(out, "Web UI:   "+main)
	case a.MainService != "":
		scheme := a.MainScheme
		if scheme == "" {
			scheme = "http"
		}
		out = append(out, fmt.Sprintf("Web UI:   service %s, port %d (%s), routed at https://%s.<domain>", a.MainService, a.MainPort, scheme, a.ID))
	}
	if len(a.Ports) == 0 {
		out = append(out, "Ports:    no host port")
	}
	for _, p := range a.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		line := fmt.Sprintf("Port:     %s/%s on the host → %s:%d", p.Published, proto, p.Service, p.Target)
		if p.Description != "" {
			line += " (" + p.Description + ")"
		}
		out = append(out, line)
	}
	if len(a.Requires) > 0 {
		out = append(out, "Requires: "+strings.Join(a.Requires, ", ")+" (installed first with --with-deps)")
	}
	if len(a.Hazards) == 0 {
		out = append(out, "Hazards:  none")
	}
	for _, h := range a.Hazards {
		out = append(out, "Hazard:   "+h.String())
	}
	return out
}
