package backup

import (
	"errors"
	"strings"
	"testing"
)

func TestRepositoryKindAndRedacted(t *testing.T) {
	for _, c := range []struct{ url, kind, shown string }{
		{"/mnt/usb/backups", "local", "/mnt/usb/backups"},
		{"./relative", "local", "./relative"},
		{"local:/srv/repo", "local", "local:/srv/repo"},
		{"sftp:backup@nas:/srv/restic", "sftp", "sftp:backup@nas:/srv/restic"},
		{"rest:https://nas:8000/box/", "rest", "rest:https://nas:8000/box/"},
		{"rest:https://box:s3cret@nas:8000/box/", "rest", "rest:https://box:***@nas:8000/box/"},
		{"rest:http://box:p%40ss%3Aw%2Frd@127.0.0.1:8000/", "rest", "rest:http://box:***@127.0.0.1:8000/"},
		{"s3:https://s3.amazonaws.com/bucket", "s3", "s3:https://s3.amazonaws.com/bucket"},
	} {
		r := Repo{URL: c.url}
		if r.Kind() != c.kind || r.Redacted() != c.shown || r.String() != c.shown {
			t.Errorf("%s: kind %q shown %q, want %q %q", c.url, r.Kind(), r.Redacted(), c.kind, c.shown)
		}
	}
}

// TestRESTCredentialsFromEnv: RESTIC_REST_USERNAME/PASSWORD go into the
// URL restic is given (restic 0.14 reads them nowhere else), escaped; a URL
// with its own user keeps it.
func TestRESTCredentialsFromEnv(t *testing.T) {
	env := map[string]string{EnvRESTUser: "box", EnvRESTPassword: "p@ss:w/rd"}
	r := Repo{URL: "rest:https://nas:8000/box/", Env: env}
	if got, want := r.resticURL(), "rest:https://box:p%40ss%3Aw%2Frd@nas:8000/box/"; got != want {
		t.Errorf("resticURL = %q, want %q", got, want)
	}
	if r.Redacted() != "rest:https://nas:8000/box/" {
		t.Errorf("Redacted = %q", r.Redacted())
	}
	own := Repo{URL: "rest:https://me:mine@nas/", Env: env}
	if own.resticURL() != own.URL {
		t.Errorf("a URL with its own credentials became %q", own.resticURL())
	}
	if s3 := (Repo{URL: "s3:https://h/b", Env: env}); s3.resticURL() != s3.URL {
		t.Errorf("an s3 URL took REST credentials: %q", s3.resticURL())
	}
}

// TestErrorsHideSecrets: whatever restic says, the error names neither the
// repository password, nor a URL's password, nor an S3 secret (raw or
// URL-escaped), and is still classified by restic's words.
func TestErrorsHideSecrets(t *testing.T) {
	r := Repo{URL: "rest:http://u:url-pa55@h/", Password: "wrong",
		Env: map[string]string{EnvS3Secret: "s3/secret+key", EnvRESTPassword: "env-pa55"}}
	said := "Fatal: wrong password or no key found for wrong; url-pa55 s3/secret+key s3%2Fsecret%2Bkey env-pa55"
	err := classify(said, errors.New("exit status 1"), r.scrub)
	if !errors.Is(err, ErrWrongPassword) {
		t.Errorf("classified as %v, want ErrWrongPassword", err)
	}
	for _, s := range []string{"url-pa55", "s3/secret+key", "s3%2Fsecret%2Bkey", "env-pa55", "for wrong"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error shows %q: %v", s, err)
		}
	}
}
