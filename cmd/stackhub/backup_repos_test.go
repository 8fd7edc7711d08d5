package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/repotest"
)

// TestRemoteRepositoriesFromTheCLI sets the backup repository up the way
// an admin does, on an S3 bucket (the access key taken from the admin's
// environment with --env KEY) and on a REST server with basic auth (the
// password in the URL), and backs the box up there; a second box comes
// back from the bucket with `stackhub restore --env`. No command output and
// no line of the server's log shows a secret.
func TestRemoteRepositoriesFromTheCLI(t *testing.T) {
	if _, err := exec.LookPath("restic"); err != nil {
		dockertest.Unavailable(t, "restic (`make deps` installs it)", err)
	}
	const keyID, secret = "CLIKEYID", "cli-S3-secret-key"
	s3 := repotest.StartS3(t, keyID, secret)
	const user, pass = "box", "cli-REST-pass"
	rest := repotest.StartREST(t, user, pass)
	a := newInstance(t, "localhost")
	a.start()

	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	out := a.mustCLI("backup", "init", "s3:"+s3.URL+"/box", "--env", "AWS_ACCESS_KEY_ID", "--env", "AWS_SECRET_ACCESS_KEY")
	m := regexp.MustCompile(`(?m)^\s{4}(\S+)\s*$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "Repository password (shown only now)") {
		t.Fatalf("backup init on S3 did not show the password:\n%s", out)
	}
	s3Password := m[1]
	show := a.mustCLI("backup", "show")
	if !strings.Contains(show, "s3:"+s3.URL+"/box") || !strings.Contains(show, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY") {
		t.Errorf("backup show does not name the bucket and its sealed credentials:\n%s", show)
	}
	if out := a.mustCLI("backup"); !strings.Contains(out, "the box is backed up") {
		t.Errorf("stackhub backup to S3 said:\n%s", out)
	}
	if _, err := s3.Backend.HeadObject("box", "config"); err != nil {
		t.Errorf("no repository in the bucket: %v", err)
	}
	if _, err := a.cli("backup", "init", "s3:"+s3.URL+"/other", "--env", "NOT_SET_ANYWHERE_42"); err == nil {
		t.Error("--env with a variable that is not set was accepted")
	}

	// A second box comes back from the bucket, the key again from the
	// admin's environment, and keeps it (sealed) for its own backups.
	b := newInstance(t, "localhost")
	b.start()
	out = b.mustCLI("restore", "--from", "s3:"+s3.URL+"/box", "--password", s3Password, "--env", "AWS_ACCESS_KEY_ID", "--env", "AWS_SECRET_ACCESS_KEY")
	if !strings.Contains(out, "the box is back") {
		t.Errorf("stackhub restore from S3 said:\n%s", out)
	}
	if show := b.mustCLI("backup", "show"); !strings.Contains(show, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY") {
		t.Errorf("the restored box does not keep the S3 credentials:\n%s", show)
	}
	if out := b.mustCLI("backup"); !strings.Contains(out, "the box is backed up") {
		t.Errorf("stackhub backup on the restored box said:\n%s", out)
	}
	if strings.Contains(b.out.String(), secret) {
		t.Errorf("the restored box's log shows the S3 secret")
	}

	url := "rest:http://" + user + ":" + pass + "@" + rest.Addr + "/box/"
	out = a.mustCLI("backup", "init", url)
	if !strings.Contains(out, "rest:http://"+user+":***@"+rest.Addr+"/box/") {
		t.Errorf("backup init on REST does not show the URL without its password:\n%s", out)
	}
	show = a.mustCLI("backup", "show")
	if out := a.mustCLI("backup"); !strings.Contains(out, "the box is backed up") {
		t.Errorf("stackhub backup to REST said:\n%s", out)
	}
	bad, err := a.cli("backup", "init", "rest:http://"+user+":bad-pass-123@"+rest.Addr+"/box/")
	if err == nil || !strings.Contains(bad, "refused the credentials") {
		t.Errorf("a wrong REST password: %v\n%s", err, bad)
	}
	for where, text := range map[string]string{"backup show": show, "the refusal": bad, "the server log": a.out.String()} {
		for _, s := range []string{secret, pass, "bad-pass-123"} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %q:\n%s", where, s, text)
			}
		}
	}
}
