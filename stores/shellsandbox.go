package stores

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// The sandbox runs the shell scripts of Umbrel apps (exports.sh, hooks)
// with mvdan.cc/sh's interpreter, never with a shell: no program is ever
// started, and files are a tree in memory holding the app's own folder.
// Scripts see the app's folder at sandboxAppDir; values mentioning it are
// translated back to ${APP_DATA_DIR}.
const (
	sandboxAppDir = "/stackhub-sandbox/app"
	sandboxDomain = "stackhub-sandbox-domain.invalid"
	// sandboxTimeout bounds a script's run (a loop waiting for a file that
	// never comes, say).
	sandboxTimeout = 2 * time.Second
	// sandboxMaxFile bounds one file a script writes.
	sandboxMaxFile = 1 << 20
)

// shellAction is one thing a script did or asked for, by line.
type shellAction struct {
	Line int
	// Command is the program or builtin ("mkdir", "python3" …), or "open"
	// for a file outside the app's folder.
	Command string
	Args    []string
	// Done is true for what the sandbox did itself (creating a folder or a
	// file in the app's folder, generating a secret, waiting); false for
	// what it refused.
	Done bool
}

func (a shellAction) String() string {
	s := fmt.Sprintf("line %d: %s", a.Line, strings.Join(append([]string{a.Command}, a.Args...), " "))
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// shellSandbox is one run of a script.
type shellSandbox struct {
	files   map[string][]byte // by absolute, clean path
	dirs    map[string]bool
	actions []shellAction
	line    int // of the last command, for operations without a position
	// secretPlaceholders makes `openssl rand` print a placeholder that
	// FreshSecrets replaces at install, instead of a secret every install
	// of the store's app would share.
	secretPlaceholders bool
	secrets            int
}

func newShellSandbox(appFiles map[string][]byte) *shellSandbox {
	s := &shellSandbox{files: map[string][]byte{}, dirs: map[string]bool{sandboxAppDir: true}}
	for name, b := range appFiles {
		p := path.Join(sandboxAppDir, name)
		s.files[p] = b
		for d := path.Dir(p); d != sandboxAppDir && strings.HasPrefix(d, sandboxAppDir); d = path.Dir(d) {
			s.dirs[d] = true
		}
	}
	return s
}

// inApp reports whether p (absolute, clean) is in the app's folder.
func inApp(p string) bool { return p == sandboxAppDir || strings.HasPrefix(p, sandboxAppDir+"/") }

// sandboxEnv is the environment Umbrel gives its scripts, pointing into the
// sandbox. extra (a dependency's exports, say) is added.
func sandboxEnv(appID string, extra map[string]string) expand.Environ {
	env := []string{
		"EXPORTS_APP_DIR=" + sandboxAppDir, "APP_DATA_DIR=" + sandboxAppDir,
		"EXPORTS_APP_ID=" + appID, "APP_ID=" + appID,
		"EXPORTS_TOR_DATA_DIR=" + sandboxAppDir + "/tor", "TOR_DATA_DIR=" + sandboxAppDir + "/tor",
		"UMBREL_ROOT=" + sandboxAppDir + "/umbrel-root",
		"DEVICE_DOMAIN_NAME=" + sandboxDomain, "DEVICE_HOSTNAME=" + appID,
		"NETWORK_IP=172.16.0.0",
		// PATH leads nowhere: `command -v jq` looks no program up on the host.
		"HOME=" + sandboxAppDir, "UID=1000", "EUID=1000", "GID=1000", "PATH=/stackhub-sandbox/bin",
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return expand.ListEnviron(env...)
}

// run parses and runs src. It returns the variables the script left
// exported, besides those of env.
func (s *shellSandbox) run(ctx context.Context, src, name string, env expand.Environ) (map[string]string, error) {
	f, err := syntax.NewParser().Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var procSubst bool
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ProcSubst:
			procSubst = true // the interpreter makes real FIFOs for these
		case *syntax.UnaryTest:
			// -r -w -x -O -G ask the host's kernel about the path, not
			// the sandbox: they become -e, answered by the sandbox.
			switch n.Op {
			case syntax.TsRead, syntax.TsWrite, syntax.TsExec, syntax.TsUsrOwn, syntax.TsGrpOwn:
				n.Op = syntax.TsExists
			}
		}
		return true
	})
	if procSubst {
		return nil, fmt.Errorf("%s: process substitution <(…) is not evaluated", name)
	}
	ctx, cancel := context.WithTimeout(ctx, sandboxTimeout)
	defer cancel()
	var stdout bytes.Buffer
	r, err := interp.New(
		interp.Env(env), // never nil: nil would be the host's environment
		interp.Dir("/"),
		interp.StdIO(strings.NewReader(""), &limitedWriter{w: &stdout, n: sandboxMaxFile}, io.Discard),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return s.exec }),
		interp.OpenHandler(s.open),
		interp.CallHandler(s.call),
		interp.StatHandler(s.stat),
		interp.ReadDirHandler2(s.readDir),
	)
	if err != nil {
		return nil, err
	}
	runErr := r.Run(ctx, f)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s did not finish within %s", name, sandboxTimeout)
	}
	var status interp.ExitStatus
	if runErr != nil && !errors.As(runErr, &status) {
		return nil, fmt.Errorf("%s: %w", name, runErr)
	}
	out := map[string]string{}
	for k, v := range r.Vars {
		if !v.Exported || v.Kind != expand.String {
			continue
		}
		if e := env.Get(k); e.IsSet() && e.Str == v.Str {
			continue
		}
		out[k] = v.Str
	}
	return out, nil
}

// lineOf is the line of the operation a handler was called for; a
// redirection has no position of its own: it is the last command's line.
func (s *shellSandbox) lineOf(ctx context.Context) int {
	if l := int(interp.HandlerCtx(ctx).Pos.Line()); l > 0 {
		return l
	}
	return s.line
}

// call notes the line of each command before it runs. It keeps `set -e`
// and `set -u` from stopping a script at the first refused program or
// missing variable, so the lines after it are analysed too.
func (s *shellSandbox) call(ctx context.Context, args []string) ([]string, error) {
	if l := int(interp.HandlerCtx(ctx).Pos.Line()); l > 0 {
		s.line = l
	}
	if args[0] == "test" || args[0] == "[" {
		for i, a := range args[1:] {
			switch a {
			case "-r", "-w", "-x", "-O", "-G": // see run: the sandbox answers -e
				args[i+1] = "-e"
			}
		}
	}
	if len(args) > 1 && args[0] == "set" {
		out := []string{"set"}
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") {
				a = strings.NewReplacer("e", "", "u", "").Replace(a)
				if a == "-" {
					continue
				}
			}
			out = append(out, a)
		}
		if len(out) == 1 {
			out = append(out, "--")
		}
		args = out
	}
	return args, nil
}

// exec runs nothing: it does itself the few commands whose effect stays in
// the app's folder or the script's output, and refuses every other one.
func (s *shellSandbox) exec(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	act := shellAction{Line: s.lineOf(ctx), Command: path.Base(args[0]), Args: args[1:]}
	done := func() error {
		act.Done = true
		s.actions = append(s.actions, act)
		return nil
	}
	abs := func(p string) string {
		if !path.IsAbs(p) {
			p = path.Join(hc.Dir, p)
		}
		return path.Clean(p)
	}
	operands := func() ([]string, bool) {
		var ps []string
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			p := abs(a)
			if !inApp(p) {
				return nil, false
			}
			ps = append(ps, p)
		}
		return ps, true
	}
	switch act.Command {
	case "mkdir":
		if ps, ok := operands(); ok {
			for _, p := range ps {
				for d := p; inApp(d) && d != sandboxAppDir; d = path.Dir(d) {
					s.dirs[d] = true
				}
			}
			return done()
		}
	case "touch":
		if ps, ok := operands(); ok {
			for _, p := range ps {
				if _, ok := s.files[p]; !ok {
					s.files[p] = nil
				}
			}
			return done()
		}
	case "chown", "chmod":
		// Ownership is the platform's: appctl gives the data folder to
		// the app's user. Modes stay as created.
		owner, paths, outside := false, 0, false // owner: the user:group or mode operand
		for _, a := range args[1:] {
			switch {
			case strings.HasPrefix(a, "-"):
			case !owner:
				owner = true
			default:
				paths++
				outside = outside || !inApp(abs(a))
			}
		}
		if paths > 0 && !outside {
			return done()
		}
	case "sleep":
		return done() // waiting for a service: the platform waits for health
	case "cat":
		if ps, ok := operands(); ok {
			for _, p := range ps {
				b, exists := s.files[p]
				if !exists {
					return interp.NewExitStatus(1)
				}
				hc.Stdout.Write(b)
			}
			return done()
		}
	case "openssl":
		// openssl rand [-hex|-base64] N: a secret.
		if len(args) >= 3 && args[1] == "rand" {
			n, err := strconv.Atoi(args[len(args)-1])
			if err == nil && n > 0 && n <= 1024 {
				b := make([]byte, n)
				rand.Read(b)
				if s.secretPlaceholders && (args[2] == "-hex" || args[2] == "-base64") {
					s.secrets++
					fmt.Fprintf(hc.Stdout, "stackhub-secret:%s:%d:%d:\n", args[2][1:], n, s.secrets)
					return done()
				}
				switch args[2] {
				case "-hex":
					fmt.Fprintln(hc.Stdout, hex.EncodeToString(b))
					return done()
				case "-base64":
					fmt.Fprintln(hc.Stdout, base64.StdEncoding.EncodeToString(b))
					return done()
				}
			}
		}
	}
	s.actions = append(s.actions, act)
	return interp.NewExitStatus(127)
}

// open serves files of the app's folder from memory; /dev/null discards;
// anything else is refused.
func (s *shellSandbox) open(ctx context.Context, p string, flag int, _ os.FileMode) (io.ReadWriteCloser, error) {
	p = path.Clean(p)
	if p == "/dev/null" {
		return nullFile{}, nil
	}
	if !inApp(p) {
		s.actions = append(s.actions, shellAction{Line: s.lineOf(ctx), Command: "open", Args: []string{p}})
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	b, exists := s.files[p]
	write := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if !exists && !(write && flag&os.O_CREATE != 0) {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if !s.dirs[path.Dir(p)] {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if flag&os.O_TRUNC != 0 || !exists {
		b = nil
		s.files[p] = nil
	}
	f := &memFile{s: s, p: p, write: write, append: flag&os.O_APPEND != 0}
	if !write {
		f.r = bytes.NewReader(b)
	}
	return f, nil
}

func (s *shellSandbox) stat(_ context.Context, p string, _ bool) (fs.FileInfo, error) {
	p = path.Clean(p)
	if s.dirs[p] {
		return memInfo{name: path.Base(p), dir: true}, nil
	}
	if b, ok := s.files[p]; ok {
		return memInfo{name: path.Base(p), size: int64(len(b))}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
}

func (s *shellSandbox) readDir(_ context.Context, p string) ([]fs.DirEntry, error) {
	p = path.Clean(p)
	if !s.dirs[p] {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for f, b := range s.files {
		if path.Dir(f) == p {
			out = append(out, fs.FileInfoToDirEntry(memInfo{name: path.Base(f), size: int64(len(b))}))
		}
	}
	for d := range s.dirs {
		if path.Dir(d) == p && d != p {
			out = append(out, fs.FileInfoToDirEntry(memInfo{name: path.Base(d), dir: true}))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// refused lists what the script asked for and the sandbox did not do.
func (s *shellSandbox) refused() []shellAction {
	var out []shellAction
	for _, a := range s.actions {
		if !a.Done {
			out = append(out, a)
		}
	}
	return out
}

type memFile struct {
	s             *shellSandbox
	p             string
	r             *bytes.Reader
	write, append bool
}

func (f *memFile) Read(b []byte) (int, error) {
	if f.r == nil {
		return 0, io.EOF
	}
	return f.r.Read(b)
}

func (f *memFile) Write(b []byte) (int, error) {
	if !f.write {
		return 0, fs.ErrPermission
	}
	if len(f.s.files[f.p])+len(b) > sandboxMaxFile {
		return 0, errors.New("file too large")
	}
	f.s.files[f.p] = append(f.s.files[f.p], b...)
	return len(b), nil
}

func (f *memFile) Close() error { return nil }

type nullFile struct{}

func (nullFile) Read([]byte) (int, error)    { return 0, io.EOF }
func (nullFile) Write(b []byte) (int, error) { return len(b), nil }
func (nullFile) Close() error                { return nil }

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (m memInfo) Name() string { return m.name }
func (m memInfo) Size() int64  { return m.size }
func (m memInfo) Mode() fs.FileMode {
	if m.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (m memInfo) ModTime() time.Time { return time.Time{} }
func (m memInfo) IsDir() bool        { return m.dir }
func (m memInfo) Sys() any           { return &syscall.Stat_t{Uid: 1000, Gid: 1000} }

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if len(b) > l.n {
		return 0, errors.New("output too large")
	}
	l.n -= len(b)
	return l.w.Write(b)
}
