package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/repotest"
)

// recordingRestic is a restic that writes its command line to a file
// first, so a test can check that no secret is ever on it (other users
// of the machine read command lines in the process list).
func recordingRestic(t *testing.T) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	bin = filepath.Join(dir, "restic-recorded")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '" + argsFile + "'\nexec restic \"$@\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

// noSecret fails when any of secrets is in what.
func noSecret(t *testing.T, where, what string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(what, s) {
			t.Errorf("%s shows the secret %q: %s", where, s, what)
		}
	}
}

// backupAndRestore backs up a tree with a 3 MB random file, lists it and
// restores it byte for byte; it returns the snapshot.
func backupAndRestore(t *testing.T, repo Repo) Snapshot {
	t.Helper()
	ctx := context.Background()
	if err := repo.Init(ctx); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	big := randomTree(t, src, 3<<20)
	sum, err := repo.Backup(ctx, src, []string{"."}, []string{"app:files"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := repo.Snapshots(ctx, "app:files")
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || !strings.HasPrefix(snaps[0].ID, sum.SnapshotID) {
		t.Fatalf("snapshots = %+v, want only %s", snaps, sum.SnapshotID)
	}
	sameBytes(t, repo, sum.SnapshotID, big)
	return snaps[0]
}

func TestRESTRepository(t *testing.T) {
	needRestic(t)
	srv := repotest.StartREST(t, "", "")
	repo := Repo{URL: srv.URL("repo"), Password: "pw-rest", CacheDir: t.TempDir()}
	if repo.Kind() != "rest" {
		t.Errorf("kind of %s = %q", repo.URL, repo.Kind())
	}
	roundTrip(t, repo)
	if _, err := os.Stat(filepath.Join(srv.Root, "repo", "config")); err != nil {
		t.Errorf("the repository is not on the REST server: %v", err)
	}
	fresh := Repo{URL: srv.URL("files"), Password: "pw-rest-2", CacheDir: t.TempDir()}
	backupAndRestore(t, fresh)
}

// TestRESTRepositoryBasicAuth: a REST server that asks for a user and a
// password, given in the URL (restic's way) or as RESTIC_REST_USERNAME and
// RESTIC_REST_PASSWORD; the password is on no command line and in no
// message, and a refused login says what to check.
func TestRESTRepositoryBasicAuth(t *testing.T) {
	needRestic(t)
	const user, pass = "backup", "B4sic-auth-s3cret"
	srv := repotest.StartREST(t, user, pass)
	ctx := context.Background()

	t.Run("credentials in the URL", func(t *testing.T) {
		bin, argsFile := recordingRestic(t)
		url := "rest:http://" + user + ":" + pass + "@" + srv.Addr + "/in-url/"
		repo := Repo{URL: url, Password: "pw-url", CacheDir: t.TempDir(), Binary: bin}
		want := "rest:http://" + user + ":***@" + srv.Addr + "/in-url/"
		if repo.Redacted() != want || fmt.Sprint(repo) != want || fmt.Sprintf("%v", []Repo{repo}) != "["+want+"]" {
			t.Errorf("redacted %q / %v, want %q", repo.Redacted(), repo, want)
		}
		backupAndRestore(t, repo)
		args, _ := os.ReadFile(argsFile)
		if len(args) == 0 {
			t.Fatal("the recording restic was not run")
		}
		noSecret(t, "restic's command line", string(args), pass, repo.Password)
		if _, err := os.Stat(filepath.Join(srv.Root, "in-url", "config")); err != nil {
			t.Errorf("the repository is not on the REST server: %v", err)
		}
	})

	t.Run("credentials in the environment", func(t *testing.T) {
		bin, argsFile := recordingRestic(t)
		repo := Repo{URL: srv.URL("in-env"), Password: "pw-env", CacheDir: t.TempDir(), Binary: bin,
			Env: map[string]string{EnvRESTUser: user, EnvRESTPassword: pass}}
		backupAndRestore(t, repo)
		args, _ := os.ReadFile(argsFile)
		noSecret(t, "restic's command line", string(args), pass, repo.Password)
	})

	t.Run("refused", func(t *testing.T) {
		for name, repo := range map[string]Repo{
			"no credentials":      {URL: srv.URL("in-env")},
			"wrong user password": {URL: "rest:http://" + user + ":not-" + pass + "@" + srv.Addr + "/in-env/"},
			"wrong env password":  {URL: srv.URL("in-env"), Env: map[string]string{EnvRESTUser: user, EnvRESTPassword: "not-" + pass}},
		} {
			repo.Password, repo.CacheDir = "pw-env", t.TempDir()
			_, err := repo.Snapshots(ctx)
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "credentials") {
				t.Errorf("%s: %v, want ErrUnreachable naming the credentials", name, err)
				continue
			}
			noSecret(t, name+": the error", err.Error(), "not-"+pass, pass)
			if err := repo.Init(ctx); !errors.Is(err, ErrUnreachable) {
				t.Errorf("%s: init: %v, want ErrUnreachable (and no new repository)", name, err)
			}
		}
	})
}

// TestRESTRepositoryErrors: a wrong repository password, a missing
// repository and a server that is down give the errors a local folder
// gives.
func TestRESTRepositoryErrors(t *testing.T) {
	needRestic(t)
	ctx := context.Background()
	srv := repotest.StartREST(t, "", "")
	good := Repo{URL: srv.URL("repo"), Password: "right", CacheDir: t.TempDir()}
	snap := backupAndRestore(t, good)

	wrong := good
	wrong.Password = "wrong"
	if _, err := wrong.Snapshots(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v, want ErrWrongPassword", err)
	}
	if err := wrong.Init(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("init with a wrong password: %v, want ErrWrongPassword", err)
	}
	if err := wrong.Restore(ctx, snap.ID, t.TempDir()); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("restore with a wrong password: %v, want ErrWrongPassword", err)
	}
	if snaps, _ := good.Snapshots(ctx); len(snaps) != 1 {
		t.Errorf("failed runs changed the repository: %d snapshots", len(snaps))
	}

	missing := Repo{URL: srv.URL("nothing-here"), Password: "x", CacheDir: t.TempDir()}
	if _, err := missing.Snapshots(ctx); !errors.Is(err, ErrNoRepository) {
		t.Errorf("missing repository: %v, want ErrNoRepository", err)
	}

	down := Repo{URL: fmt.Sprintf("rest:http://u:down-s3cret@127.0.0.1:%d/repo/", repotest.FreePort(t)), Password: "x", CacheDir: t.TempDir()}
	err := down.Init(ctx)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("REST server down: %v, want ErrUnreachable", err)
	} else {
		noSecret(t, "the error", err.Error(), "down-s3cret")
	}
}

// TestS3Repository: an S3 bucket on an S3-protocol server that checks
// every request's signature: init creates the bucket, backup, snapshots
// and a byte-for-byte restore work with the access key in the
// environment, and a wrong key is refused with a clear error that does not
// show it.
func TestS3Repository(t *testing.T) {
	needRestic(t)
	ctx := context.Background()
	const keyID, secret = "STACKHUBTESTKEY", "s3-Secret/Access+Key"
	srv := repotest.StartS3(t, keyID, secret)
	bin, argsFile := recordingRestic(t)
	repo := Repo{URL: "s3:" + srv.URL + "/backups", Password: "pw-s3", CacheDir: t.TempDir(), Binary: bin,
		Env: map[string]string{EnvS3KeyID: keyID, EnvS3Secret: secret}}
	if repo.Kind() != "s3" {
		t.Errorf("kind of %s = %q", repo.URL, repo.Kind())
	}
	roundTrip(t, repo)
	backupAndRestore(t, repo)
	if _, err := srv.Backend.HeadObject("backups", "config"); err != nil {
		t.Errorf("the repository is not in the bucket: %v", err)
	}
	if srv.Refused() != 0 {
		t.Errorf("%d requests with the right key were refused", srv.Refused())
	}
	args, _ := os.ReadFile(argsFile)
	noSecret(t, "restic's command line", string(args), secret, repo.Password)

	for name, env := range map[string]map[string]string{
		"wrong secret": {EnvS3KeyID: keyID, EnvS3Secret: "not-the-secret"},
		"wrong key id": {EnvS3KeyID: "NOSUCHKEY", EnvS3Secret: secret},
	} {
		bad := repo
		bad.Env, bad.CacheDir = env, t.TempDir()
		_, err := bad.Snapshots(ctx)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "credentials") {
			t.Errorf("%s: %v, want ErrUnreachable naming the credentials", name, err)
			continue
		}
		noSecret(t, name+": the error", err.Error(), "not-the-secret", secret)
	}

	wrong := repo
	wrong.Password = "wrong"
	if _, err := wrong.Snapshots(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong repository password: %v, want ErrWrongPassword", err)
	}
	missing := repo
	missing.URL = "s3:" + srv.URL + "/backups/nothing-here"
	if _, err := missing.Snapshots(ctx); !errors.Is(err, ErrNoRepository) {
		t.Errorf("missing repository: %v, want ErrNoRepository", err)
	}
}

// TestKeeperSealsRepositoryCredentials: the REST password of a URL and the
// S3 keys are sealed with the repository password; the state database
// shows the URL without its password, and the read-back settings open the
// repository.
func TestKeeperSealsRepositoryCredentials(t *testing.T) {
	needRestic(t)
	ctx := context.Background()
	const user, pass = "keeper", "Url-Pa55word"
	rest := repotest.StartREST(t, user, pass)
	const keyID, secret = "KEEPERKEY", "keeper-s3-secret"
	s3 := repotest.StartS3(t, keyID, secret)
	for _, repo := range []Repo{
		{URL: "rest:http://" + user + ":" + pass + "@" + rest.Addr + "/kept/"},
		{URL: rest.URL("kept-env"), Env: map[string]string{EnvRESTUser: user, EnvRESTPassword: pass}},
		{URL: "s3:" + s3.URL + "/kept", Env: map[string]string{EnvS3KeyID: keyID, EnvS3Secret: secret}},
	} {
		t.Run(repo.Kind()+" "+repo.Redacted(), func(t *testing.T) {
			k := newKeeper(t)
			pw, err := k.Configure(ctx, repo)
			if err != nil {
				t.Fatal(err)
			}
			sealed, _ := k.Sealed()
			noSecret(t, "the state database", string(sealed), pass, secret, pw)
			if !strings.Contains(string(sealed), repo.Redacted()) {
				t.Errorf("the state database does not name the repository %s: %s", repo.Redacted(), sealed)
			}
			got, err := k.Repo()
			if err != nil || got.URL != repo.URL || len(got.Env) != len(repo.Env) || got.Password != pw {
				t.Fatalf("read back %+v %v", got, err)
			}
			got.CacheDir = t.TempDir()
			if err := got.Check(ctx); err != nil {
				t.Errorf("the stored settings do not open the repository: %v", err)
			}
		})
	}
}
