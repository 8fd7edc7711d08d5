package auth

import (
	"errors"
	"fmt"

	"github.com/stackhub/stackhub/internal/kv"
)

// Prefs are a user's choices of the portal's look: the language (a BCP 47
// tag of the portal's catalog, "" follows the browser) and the theme
// ("light", "dark", "" follows the system).
type Prefs struct {
	Lang  string `json:"lang,omitempty"`
	Theme string `json:"theme,omitempty"`
}

const keyPrefs = "prefs/"

// ErrInvalidPrefs is returned for a theme or language tag out of shape.
var ErrInvalidPrefs = &Error{"unknown language or theme: choose one of the switch"}

// PrefsOf returns name's preferences (empty when never set).
func (s *Service) PrefsOf(name string) (Prefs, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return Prefs{}, err
	}
	var p Prefs
	if err := s.db.Get(keyPrefs+n, &p); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return Prefs{}, fmt.Errorf("preferences of %s: %w", n, err)
	}
	return p, nil
}

// SetPrefs saves name's preferences. The caller checks the language is
// one it speaks; here only the shape is checked.
func (s *Service) SetPrefs(name string, p Prefs) error {
	n, err := NormalizeUsername(name)
	if err != nil {
		return err
	}
	if len(p.Lang) > 16 || !isTag(p.Lang) || (p.Theme != "" && p.Theme != "light" && p.Theme != "dark") {
		return ErrInvalidPrefs
	}
	return s.db.Update(func(t *kv.Txn) error {
		var rec userRecord
		if err := getUser(t, n, &rec); err != nil {
			return err
		}
		return t.Put(keyPrefs+n, &p)
	})
}

func isTag(s string) bool {
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
