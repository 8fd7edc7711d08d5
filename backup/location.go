package backup

import (
	"net/url"
	"sort"
	"strings"
)

// Credentials of the repository kinds that take them. They live in
// Repo.Env, sealed in the state database with the password.
const (
	// EnvRESTUser and EnvRESTPassword are the HTTP basic auth of a rest:
	// repository (restic ≥ 0.16 reads them itself; for older restic, run
	// puts them into the URL it hands over, never on the command line).
	EnvRESTUser     = "RESTIC_REST_USERNAME"
	EnvRESTPassword = "RESTIC_REST_PASSWORD"
	// EnvS3KeyID and EnvS3Secret are the access key of an s3: repository.
	EnvS3KeyID  = "AWS_ACCESS_KEY_ID"
	EnvS3Secret = "AWS_SECRET_ACCESS_KEY"
)

// Kind names the repository's backend: "local", "sftp", "rest", "s3" or
// the scheme restic gives any other.
func (r Repo) Kind() string {
	scheme, _, ok := strings.Cut(r.URL, ":")
	if !ok || strings.HasPrefix(r.URL, "/") || strings.HasPrefix(r.URL, ".") || scheme == "local" {
		return "local"
	}
	return scheme
}

// Redacted is the repository's location for people and logs: the password
// of a rest: URL (rest:https://user:password@host/) is replaced by ***.
// Every message of this package names the repository this way.
func (r Repo) Redacted() string {
	return redactURL(r.URL)
}

// String is Redacted, so that a Repo printed with %s or %v shows no
// password.
func (r Repo) String() string { return r.Redacted() }

// resticURL is the location restic is given (through its environment):
// the basic auth of EnvRESTUser/EnvRESTPassword goes into a rest: URL that
// has none of its own, since restic before 0.16 reads it only there.
func (r Repo) resticURL() string {
	user, pass := r.Env[EnvRESTUser], r.Env[EnvRESTPassword]
	if r.Kind() != "rest" || (user == "" && pass == "") {
		return r.URL
	}
	u, err := url.Parse(strings.TrimPrefix(r.URL, "rest:"))
	if err != nil || u.User != nil {
		return r.URL
	}
	u.User = url.UserPassword(user, pass)
	return "rest:" + u.String()
}

// redactURL hides the password of a URL-shaped repository location.
func redactURL(loc string) string {
	scheme, rest, ok := strings.Cut(loc, ":")
	if !ok || !strings.Contains(rest, "@") || !strings.Contains(rest, "://") {
		return loc
	}
	u, err := url.Parse(rest)
	if err != nil || u.User == nil {
		return loc
	}
	if _, has := u.User.Password(); !has {
		return loc
	}
	u.User = url.UserPassword(u.User.Username(), "***")
	return scheme + ":" + strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
}

// secretsOf lists what must never be shown: the repository password, the
// password in its URL and every credential in Env, longest first (so a
// secret that contains another is hidden whole).
func (r Repo) secretsOf() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 { // shorter "secrets" would mangle ordinary words
			out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	add(r.Password)
	for _, loc := range []string{r.URL, r.resticURL()} {
		if _, rest, ok := strings.Cut(loc, ":"); ok {
			if u, err := url.Parse(rest); err == nil && u.User != nil {
				if p, has := u.User.Password(); has {
					add(p)
				}
			}
		}
	}
	for k, v := range r.Env {
		if isSecretEnv(k) {
			add(v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// isSecretEnv tells the variables whose values are credentials (a key id
// is not secret on its own, but is not worth showing either).
func isSecretEnv(k string) bool {
	k = strings.ToUpper(k)
	for _, w := range []string{"SECRET", "PASSWORD", "TOKEN", "KEY", "CREDENTIAL", "SAS"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// scrub replaces every secret of r in s by ***.
func (r Repo) scrub(s string) string {
	for _, sec := range r.secretsOf() {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}
