package appctl

import (
	"crypto/rand"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/stackhub/stackhub/stores"
)

// resolveValues checks the user's values against the app's form and fills
// in defaults and generated secrets.
func resolveValues(app stores.App, given map[string]string) (map[string]string, []string, error) {
	out := map[string]string{}
	var secrets []string
	known := map[string]bool{}
	for _, f := range app.Fields {
		known[f.Key] = true
		v, ok := given[f.Key]
		if !ok || v == "" {
			switch {
			case f.Random:
				v = randomString(f.RandomLength)
			default:
				v = f.Default
			}
		}
		if v == "" && f.Required {
			return nil, nil, fmt.Errorf("app %s needs a value for %s (%s): install with --set %s=VALUE", app.ID, f.Key, f.Label, f.Key)
		}
		if v != "" {
			if err := checkFieldValue(f, v); err != nil {
				return nil, nil, fmt.Errorf("app %s, %s: %w", app.ID, f.Key, err)
			}
		}
		if v != "" {
			// A field left empty stays unset, so the compose file's own
			// default applies: ${VAR-default} as well as ${VAR:-default}.
			out[f.Key] = v
		}
		// Only fields marked secret are masked: some stores generate a
		// password the user must read (Umbrel's APP_PASSWORD).
		if f.Secret {
			secrets = append(secrets, f.Key)
		}
	}
	var unknown []string
	for k, v := range given {
		if known[k] {
			continue
		}
		if len(app.Fields) > 0 {
			unknown = append(unknown, k)
			continue
		}
		// An app without a form (a user's own compose file) takes any
		// variable its compose file interpolates.
		out[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		keys := make([]string, 0, len(app.Fields))
		for _, f := range app.Fields {
			keys = append(keys, f.Key)
		}
		return nil, nil, fmt.Errorf("app %s has no setting %s (its settings: %s)", app.ID, strings.Join(unknown, ", "), strings.Join(keys, ", "))
	}
	return out, secrets, nil
}

func checkFieldValue(f stores.Field, v string) error {
	switch f.Type {
	case stores.FieldNumber:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	case stores.FieldBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
	case stores.FieldEmail:
		if _, err := mail.ParseAddress(v); err != nil {
			return fmt.Errorf("%q is not an e-mail address", v)
		}
	case stores.FieldURL:
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("%q is not a URL (like https://example.com)", v)
		}
	case stores.FieldSelect:
		if len(f.Options) > 0 && !slices.Contains(f.Options, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(f.Options, ", "))
		}
	}
	return nil
}

const randomAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns n (default 32) random letters and digits: safe in
// URLs, shells and config files alike.
func randomString(n int) string {
	if n <= 0 {
		n = 32
	}
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never fails (crypto/rand panics instead)
		for _, c := range buf {
			// Reject the top of the byte range so every letter is equally likely.
			if int(c) < 256/len(randomAlphabet)*len(randomAlphabet) && len(out) < n {
				out = append(out, randomAlphabet[int(c)%len(randomAlphabet)])
			}
		}
	}
	return string(out)
}

// platformValues are the values of old that StackHub set itself rather
// than the app's form (single sign-on settings, values a required app
// provides): keys of no field of fields and not given again by the user.
// A change of settings, an update or a declared change keeps them.
func platformValues(fields []stores.Field, old, given map[string]string) map[string]string {
	if len(fields) == 0 {
		return nil // every value is the form's
	}
	known := map[string]bool{}
	for _, f := range fields {
		known[f.Key] = true
	}
	out := map[string]string{}
	for k, v := range old {
		if _, again := given[k]; !known[k] && !again {
			out[k] = v
		}
	}
	return out
}

// withValues returns values with extra added (extra wins nothing: a key
// values has stays).
func withValues(values, extra map[string]string) map[string]string {
	for k, v := range extra {
		if _, ok := values[k]; !ok {
			values[k] = v
		}
	}
	return values
}
