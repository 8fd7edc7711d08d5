package appctl

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/repotest"
)

// TestBackupToRESTAndS3: an app is backed up and restored with the
// repository on a REST server with basic auth and on an S3 bucket; the
// events the admin sees name the repository without its credentials.
func TestBackupToRESTAndS3(t *testing.T) {
	needRestic(t)
	const user, pass = "apps", "app-REST-pass"
	rest := repotest.StartREST(t, user, pass)
	const keyID, secret = "APPKEYID", "app-S3-secret"
	s3 := repotest.StartS3(t, keyID, secret)
	h := newHarness(t)
	ctx := context.Background()
	h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	for _, repo := range []backup.Repo{
		{URL: "rest:http://" + user + ":" + pass + "@" + rest.Addr + "/apps/"},
		{URL: "s3:" + s3.URL + "/apps", Env: map[string]string{backup.EnvS3KeyID: keyID, backup.EnvS3Secret: secret}},
	} {
		t.Run(repo.Kind(), func(t *testing.T) {
			if _, err := h.m.BackupKeeper().Configure(ctx, repo); err != nil {
				t.Fatal(err)
			}
			want := "over " + repo.Kind()
			writeString(t, h.dataFile("keep", "note.txt"), want)
			var events []string
			record := func(e Event) { events = append(events, fmt.Sprintf("%s %s %s", e.Status, e.Resource, e.Message)) }
			if _, err := h.m.Backup(ctx, "keep", "", record); err != nil {
				t.Fatal(err)
			}
			writeString(t, h.dataFile("keep", "note.txt"), "changed")
			if _, err := h.m.Restore(ctx, "keep", "", record); err != nil {
				t.Fatal(err)
			}
			if got := readString(t, h.dataFile("keep", "note.txt")); got != want {
				t.Errorf("restored note.txt = %q, want %q", got, want)
			}
			all := strings.Join(events, "\n")
			if !strings.Contains(all, repo.Redacted()) {
				t.Errorf("the events do not name the repository %s:\n%s", repo.Redacted(), all)
			}
			for _, s := range []string{pass, secret} {
				if strings.Contains(all, s) {
					t.Errorf("an event shows the secret %q:\n%s", s, all)
				}
			}
		})
	}
	if _, err := s3.Backend.HeadObject("apps", "config"); err != nil {
		t.Errorf("no repository in the bucket: %v", err)
	}
}
