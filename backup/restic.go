// Package backup drives restic, the backup engine of StackHub: encrypted,
// deduplicated, incremental snapshots in a repository that is a local
// folder, an SFTP server, restic's REST server or S3.
//
// It runs the restic command (Debian's `restic` package) and reads its JSON
// output. The repository password, the location (a rest: URL may hold a
// password) and the credentials of S3 or a REST server reach restic through
// its environment, never its command line, so other users cannot read them
// from the process list; messages name the repository Redacted and have
// restic's words scrubbed of them. Keeper stores the repository's settings in the state database, the
// password sealed with a key that lives in a file of the data folder.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors a user can act on; each is wrapped with restic's own words.
var (
	ErrWrongPassword = errors.New("wrong repository password")
	ErrNoRepository  = errors.New("no restic repository at this location")
	ErrUnreachable   = errors.New("the repository cannot be reached")
	ErrNoSpace       = errors.New("no space left")
	ErrNoSnapshot    = errors.New("no such snapshot")
	ErrNotConfigured = errors.New("no backup repository is configured")
	ErrNoRestic      = errors.New("restic is not installed")
)

// Repo is one restic repository and how to open it.
type Repo struct {
	// URL is the repository: a local folder, sftp:user@host:/path,
	// rest:https://[user:password@]host/path, s3:https://host/bucket.
	// Messages show it Redacted.
	URL string `json:"url"`
	// Password opens the repository.
	Password string `json:"-"`
	// SFTPCommand is the ssh command restic runs for an sftp: repository
	// (restic's -o sftp.command), e.g. to choose a port or a key:
	// "ssh -p 2222 -i /root/.ssh/backup user@host -s sftp".
	SFTPCommand string `json:"sftp_command,omitempty"`
	// Env is passed to restic: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
	// for S3, RESTIC_REST_USERNAME and RESTIC_REST_PASSWORD for a REST
	// server's basic auth (location.go).
	Env map[string]string `json:"env,omitempty"`
	// Binary is the restic command; default "restic".
	Binary string `json:"-"`
	// CacheDir is restic's cache; default: restic's own (~/.cache/restic).
	CacheDir string `json:"-"`
}

// Snapshot is one snapshot in the repository.
type Snapshot struct {
	ID       string    `json:"id"`
	ShortID  string    `json:"short_id"`
	Time     time.Time `json:"time"`
	Paths    []string  `json:"paths"`
	Tags     []string  `json:"tags,omitempty"`
	Hostname string    `json:"hostname,omitempty"`
}

// Tag returns the value of the snapshot's tag "key:value", or "".
func (s Snapshot) Tag(key string) string {
	for _, t := range s.Tags {
		if k, v, ok := strings.Cut(t, ":"); ok && k == key {
			return v
		}
	}
	return ""
}

// Progress is one status line of a running backup.
type Progress struct {
	PercentDone float64 `json:"percent_done"`
	TotalFiles  int64   `json:"total_files"`
	FilesDone   int64   `json:"files_done"`
	TotalBytes  int64   `json:"total_bytes"`
	BytesDone   int64   `json:"bytes_done"`
}

// Summary is restic's report at the end of a backup.
type Summary struct {
	SnapshotID          string  `json:"snapshot_id"`
	FilesNew            int64   `json:"files_new"`
	FilesChanged        int64   `json:"files_changed"`
	FilesUnmodified     int64   `json:"files_unmodified"`
	DataAdded           int64   `json:"data_added"`
	TotalFilesProcessed int64   `json:"total_files_processed"`
	TotalBytesProcessed int64   `json:"total_bytes_processed"`
	TotalDuration       float64 `json:"total_duration"`
}

// Retention says which snapshots forget keeps; zero fields keep none of
// that kind. Last keeps the newest N whatever their age.
type Retention struct {
	Last    int `json:"last,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
}

// DefaultRetention keeps 7 daily, 4 weekly and 6 monthly snapshots.
var DefaultRetention = Retention{Daily: 7, Weekly: 4, Monthly: 6}

// Init creates the repository. An existing repository that the password
// opens is not an error.
func (r Repo) Init(ctx context.Context) error {
	if _, err := r.run(ctx, "", nil, "cat", "config"); err == nil {
		return nil
	} else if !errors.Is(err, ErrNoRepository) {
		return fmt.Errorf("open repository %s: %w", r.Redacted(), err)
	}
	if _, err := r.run(ctx, "", nil, "init"); err != nil {
		return fmt.Errorf("create repository %s: %w", r.Redacted(), err)
	}
	return nil
}

// Check opens the repository: it answers, exists and takes the password.
func (r Repo) Check(ctx context.Context) error {
	if _, err := r.run(ctx, "", nil, "cat", "config"); err != nil {
		return fmt.Errorf("open repository %s: %w", r.Redacted(), err)
	}
	return nil
}

// Backup snapshots paths, read relative to dir (relative paths are stored
// relative: "." puts dir's contents at the snapshot's root), with tags.
// progress, when set, receives restic's status lines.
func (r Repo) Backup(ctx context.Context, dir string, paths, tags []string, progress func(Progress)) (Summary, error) {
	return r.BackupExcluding(ctx, dir, paths, nil, tags, progress)
}

// BackupExcluding is Backup leaving out the excluded paths (restic's
// --exclude patterns; absolute paths name exactly one file or folder).
func (r Repo) BackupExcluding(ctx context.Context, dir string, paths, exclude, tags []string, progress func(Progress)) (Summary, error) {
	args := []string{"backup", "--json"}
	for _, e := range exclude {
		args = append(args, "--exclude", e)
	}
	for _, t := range tags {
		args = append(args, "--tag", t)
	}
	args = append(args, "--")
	args = append(args, paths...)
	var sum Summary
	_, err := r.run(ctx, dir, func(line []byte) {
		var msg struct {
			Type string `json:"message_type"`
		}
		if json.Unmarshal(line, &msg) != nil {
			return
		}
		switch msg.Type {
		case "status":
			var p Progress
			if json.Unmarshal(line, &p) == nil && progress != nil {
				progress(p)
			}
		case "summary":
			json.Unmarshal(line, &sum)
		}
	}, args...)
	if err != nil {
		return sum, fmt.Errorf("back up to %s: %w", r.Redacted(), err)
	}
	if sum.SnapshotID == "" {
		return sum, fmt.Errorf("back up to %s: restic reported no snapshot", r.Redacted())
	}
	return sum, nil
}

// Snapshots lists the snapshots that carry every tag, oldest first.
func (r Repo) Snapshots(ctx context.Context, tags ...string) ([]Snapshot, error) {
	args := []string{"snapshots", "--json"}
	if len(tags) > 0 {
		args = append(args, "--tag", strings.Join(tags, ","))
	}
	out, err := r.run(ctx, "", nil, args...)
	if err != nil {
		return nil, fmt.Errorf("list snapshots of %s: %w", r.Redacted(), err)
	}
	var snaps []Snapshot
	if err := json.Unmarshal(out, &snaps); err != nil {
		return nil, fmt.Errorf("list snapshots of %s: read restic's answer: %w", r.Redacted(), err)
	}
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].Time.Before(snaps[j].Time) })
	return snaps, nil
}

// Snapshot finds one snapshot by its id or a prefix of it.
func (r Repo) Snapshot(ctx context.Context, id string, tags ...string) (Snapshot, error) {
	snaps, err := r.Snapshots(ctx, tags...)
	if err != nil {
		return Snapshot{}, err
	}
	var found []Snapshot
	for _, s := range snaps {
		if id != "" && strings.HasPrefix(s.ID, strings.ToLower(id)) {
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return Snapshot{}, fmt.Errorf("%w: %q names %d snapshots: give more of its id", ErrNoSnapshot, id, len(found))
	}
	return Snapshot{}, fmt.Errorf("%w: %q is not a snapshot in %s (with tags %s)", ErrNoSnapshot, id, r.Redacted(), strings.Join(tags, ","))
}

// Restore writes snapshot id into target (created if needed).
func (r Repo) Restore(ctx context.Context, id, target string) error {
	if err := os.MkdirAll(target, 0o700); err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	if _, err := r.run(ctx, "", nil, "restore", id, "--target", target); err != nil {
		return fmt.Errorf("restore snapshot %s from %s: %w", id, r.Redacted(), err)
	}
	return nil
}

// Forget removes the snapshots carrying tags that keep does not keep, and
// prunes the data only they used. Each set of paths is a group of its own.
func (r Repo) Forget(ctx context.Context, tags []string, keep Retention) error {
	args := []string{"forget", "--prune", "--group-by", "tags"}
	if len(tags) > 0 {
		args = append(args, "--tag", strings.Join(tags, ","))
	}
	for _, k := range []struct {
		flag string
		n    int
	}{{"--keep-last", keep.Last}, {"--keep-daily", keep.Daily}, {"--keep-weekly", keep.Weekly}, {"--keep-monthly", keep.Monthly}} {
		if k.n > 0 {
			args = append(args, k.flag, strconv.Itoa(k.n))
		}
	}
	if keep == (Retention{}) {
		return errors.New("forget: a retention that keeps nothing would delete every snapshot")
	}
	if _, err := r.run(ctx, "", nil, args...); err != nil {
		return fmt.Errorf("forget old snapshots in %s: %w", r.Redacted(), err)
	}
	return nil
}

// repoLocks serialises restic runs on one repository from this process:
// restic locks the repository itself, but a second run would fail at once
// instead of waiting.
var repoLocks sync.Map

func (r Repo) run(ctx context.Context, dir string, onLine func([]byte), args ...string) ([]byte, error) {
	if r.URL == "" {
		return nil, ErrNotConfigured
	}
	bin := r.Binary
	if bin == "" {
		bin = "restic"
	}
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("%w: install it (`apt-get install restic`, or `make deps`): %v", ErrNoRestic, err)
	}
	l, _ := repoLocks.LoadOrStore(r.URL, &sync.Mutex{})
	l.(*sync.Mutex).Lock()
	defer l.(*sync.Mutex).Unlock()

	// The location goes through the environment, like the password: a
	// rest: URL may carry a password of its own.
	var full []string
	if r.SFTPCommand != "" {
		full = append(full, "-o", "sftp.command="+r.SFTPCommand)
	}
	if r.CacheDir != "" {
		full = append(full, "--cache-dir", r.CacheDir)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Dir = dir
	env := []string{"RESTIC_REPOSITORY=" + r.resticURL(), "RESTIC_PASSWORD=" + r.Password, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 64 << 10}
	var out bytes.Buffer
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run restic: %w", err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if onLine != nil && len(line) > 0 && line[0] == '{' {
			onLine(line)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classify(stderr.String(), err, r.scrub)
	}
	return out.Bytes(), nil
}

// classify turns restic's error output into one of the package's errors,
// keeping restic's words for the details, with scrub hiding the secrets
// in them (after the classification: a password may be any word).
func classify(stderr string, err error, scrub func(string) string) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		msg = err.Error()
	}
	// The last lines say why; restic prints its progress before them.
	lines := strings.Split(msg, "\n")
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	detail := scrub(strings.Join(lines, "; "))
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "wrong password"):
		return fmt.Errorf("%w: check the password you were shown when the repository was set up (restic: %s)", ErrWrongPassword, detail)
	case strings.Contains(low, "no space left on device"), strings.Contains(low, "disk quota exceeded"):
		return fmt.Errorf("%w on the repository's or the target's disk: free space or choose another repository (restic: %s)", ErrNoSpace, detail)
	case strings.Contains(low, "no matching id found"), strings.Contains(low, "no snapshot found"), strings.Contains(low, "invalid id"):
		return fmt.Errorf("%w: `stackhub apps backups APP` lists the snapshots (restic: %s)", ErrNoSnapshot, detail)
	case refusedCredentials(low):
		return fmt.Errorf("%w: the server refused the credentials: check the user and password of a REST server, or the access key (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) of S3 (restic: %s)", ErrUnreachable, detail)
	case strings.Contains(low, "is there a repository at the following location"):
		if strings.Contains(low, "no such file or directory") || strings.Contains(low, "does not exist") || strings.Contains(low, "404") {
			return fmt.Errorf("%w (restic: %s)", ErrNoRepository, detail)
		}
		return fmt.Errorf("%w: check the address, the network and the credentials (restic: %s)", ErrUnreachable, detail)
	case strings.Contains(low, "connection refused"), strings.Contains(low, "no route to host"), strings.Contains(low, "unable to start the sftp session"),
		strings.Contains(low, "connection closed"), strings.Contains(low, "i/o timeout"), strings.Contains(low, "no such host"), strings.Contains(low, "ssh command exited"):
		return fmt.Errorf("%w: check the address, the network and the credentials (restic: %s)", ErrUnreachable, detail)
	}
	return fmt.Errorf("restic: %s", detail)
}

// refusedCredentials tells restic's words for a login the server refused:
// a REST server's HTTP 401/403, S3's access key errors.
func refusedCredentials(low string) bool {
	for _, w := range []string{"(401)", "(403)", "401 unauthorized", "403 forbidden", "access denied",
		"access key id you provided does not exist", "signature we calculated does not match",
		"invalidaccesskeyid", "signaturedoesnotmatch"} {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.b.Len() > l.max {
		// Keep the end: that is where restic says why it failed.
		tail := l.b.Bytes()[l.b.Len()-l.max/2:]
		l.b.Reset()
		l.b.Write(tail)
	}
	return l.b.Write(p)
}
