package appctl

import "github.com/stackhub/stackhub/internal/i18n"

// RefuseManaged refuses a change (e.g. "change its settings", "remove
// it") to an app declared in the config, saying where it is declared and
// what to do instead; nil for an app that is not declared. The portal
// checks with it before starting an operation, so the refusal is a plain
// 409 rather than a failed stream. change is a catalog text: the portal
// says it in the page's language.
func RefuseManaged(rec Record, change string) error {
	if rec.Managed == "" {
		return nil
	}
	return errorf(ErrManaged, "managed by the config: app {{.App}} is declared in the config ({{.File}}): {{.Change}} there and run `stackhub reload`",
		"App", rec.ID, "File", rec.Managed, "Change", i18n.Word(change))
}
