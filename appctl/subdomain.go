package appctl

import (
	"strings"

	"github.com/stackhub/stackhub/stores"
)

// CheckSubdomain tells whether app may be served at sub.<domain>: nil when
// it may, else an error (ErrTaken) saying why not, the same rules Install
// applies. The portal's install form asks while the user types.
func (m *Manager) CheckSubdomain(app, sub string) error {
	sub = strings.ToLower(strings.TrimSpace(sub))
	if !stores.ValidID(sub) || reservedLabels[sub] {
		return errorf(ErrTaken, "subdomain taken: \"{{.Sub}}\" is reserved or not a DNS label (lower case letters, digits and '-')", "Sub", sub)
	}
	host := sub + "." + m.cfg.Domain
	if other, ok := m.hostOwner(host); ok && other != app {
		return errorf(ErrTaken, "subdomain taken: {{.Host}} is already the address of app {{.Other}}", "Host", host, "Other", other)
	}
	return nil
}
