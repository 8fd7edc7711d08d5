// Hazard lines in the page's language: what stores.Hazard.String prints
// (`service "web": cap_add: NET_ADMIN (extra kernel capabilities)
// [cap-add]`), for the install refusals the portal shows.

package portal

import (
	"strings"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/stores"
)

// hazardLine is h as a catalog message in the form of Hazard.String, its
// reason given: the stores' own English reason is not a catalog text, so
// other languages say what the setting lets the app do (plainHazard).
func hazardLine(h stores.Hazard, reason string) i18n.Msg {
	switch h.Kind {
	case "", "service":
		return i18n.M(`service "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	case "job":
		return i18n.M(`job "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	case "project":
		return i18n.M(`project "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	case "volume":
		return i18n.M(`volume "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	case "network":
		return i18n.M(`network "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	case "secret":
		return i18n.M(`secret "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	case "config":
		return i18n.M(`config "{{.Service}}": {{.Setting}} ({{.Reason}}) [{{.Name}}]`, "Service", h.Service, "Setting", h.Setting, "Reason", reason, "Name", h.Name)
	}
	return i18n.Msg{ID: h.String()}
}

// localHazard is h's line in lc's language: Hazard.String word for word in
// English.
func localHazard(lc *i18n.Localizer, h stores.Hazard) string {
	if english(lc) {
		return h.String()
	}
	return lc.Msg(hazardLine(h, lc.Msg(plainHazard(h))))
}

// localHazards are the lines of hz in lc's language, each after prefix
// and between them sep.
func localHazards(lc *i18n.Localizer, hz []stores.Hazard, prefix, sep string) string {
	lines := make([]string, len(hz))
	for i, h := range hz {
		lines[i] = prefix + localHazard(lc, h)
	}
	return strings.Join(lines, sep)
}

// localHazardError is appctl's refusal of unapproved hazards in lc's
// language, its list of hazards too.
func localHazardError(lc *i18n.Localizer, he *appctl.HazardError) string {
	m := he.Message()
	args := make(map[string]string, len(m.Args))
	for k, v := range m.Args {
		args[k] = v
	}
	args["Hazards"] = localHazards(lc, he.Hazards, "\n  - ", "")
	m.Args = args
	return lc.Msg(m)
}
