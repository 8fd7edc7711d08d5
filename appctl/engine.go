package appctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/cli/cli/command"
	cliflags "github.com/docker/cli/cli/flags"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/docker/compose/v5/pkg/compose"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/i18n"
)

// composeVersion is written into the com.docker.compose.version label. A
// library build of the Compose SDK reports "dev"; name the SDK release we
// build against instead, so `docker compose` tools see a real version.
const composeVersion = "5.6.0"

func init() {
	if api.ComposeVersion == "" || api.ComposeVersion == "dev" {
		api.ComposeVersion = composeVersion
	}
}

// Engine is what appctl needs of Docker Compose. It is small on purpose:
// the platform's lifecycle logic is written against it, and the Compose SDK
// sits behind it.
type Engine interface {
	// Load reads a compose file with the variables in env and, for the
	// variables env leaves unset, the .env file next to it. The process
	// environment is not consulted, so the host's variables never leak into
	// an app. Load sets the compose labels. It reads no file outside the
	// compose file's folder, and leaves env_file and label_file unread
	// (ResolveFiles reads them once the hazard check has seen their paths).
	Load(ctx context.Context, spec LoadSpec) (*types.Project, error)
	// Up creates and starts the project and waits until its services are
	// running, or healthy where they have a healthcheck.
	Up(ctx context.Context, p *types.Project, wait time.Duration, progress func(Event)) error
	// Down removes the project's containers and networks, and its named
	// volumes when removeVolumes is set.
	Down(ctx context.Context, name string, p *types.Project, removeVolumes bool, progress func(Event)) error
	Start(ctx context.Context, name string, p *types.Project, progress func(Event)) error
	Stop(ctx context.Context, name string, p *types.Project, progress func(Event)) error
	Restart(ctx context.Context, name string, p *types.Project, progress func(Event)) error
	Logs(ctx context.Context, name string, opts LogOptions, w io.Writer) error
	Ps(ctx context.Context, name string) ([]api.ContainerSummary, error)
	List(ctx context.Context) ([]api.Stack, error)
	// Docker is the engine's API client, for what Compose does not cover
	// (images, networks, events).
	Docker() client.APIClient
}

// LoadSpec says where a compose file is and how to interpolate it.
type LoadSpec struct {
	Name       string   // compose project name
	WorkingDir string   // relative paths resolve against it
	Files      []string // compose files, absolute or relative to WorkingDir
	Env        map[string]string
}

// LogOptions selects an app's logs.
type LogOptions struct {
	Follow   bool
	Tail     string    // number of lines from the end, or "all"
	Since    time.Time // only lines from then on, when set
	Services []string
}

// composeEngine is Engine on the Compose SDK and the moby client.
type composeEngine struct {
	docker *client.Client
	cliMu  sync.Mutex
}

// Connect opens the Docker Engine at host ("" means DOCKER_HOST or the
// default socket) and checks that it answers.
func Connect(ctx context.Context, host string) (Engine, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", describeHost(host), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, &DockerUnreachableError{Host: describeHost(host), Err: err}
	}
	return &composeEngine{docker: c}, nil
}

// DockerUnreachableError says that the Docker Engine did not answer, and where
// StackHub looked for it.
type DockerUnreachableError struct {
	Host string
	Err  error
}

func (e *DockerUnreachableError) Error() string { return e.Message().English() }

// Message is the error as a catalog message, for the portal.
func (e *DockerUnreachableError) Message() i18n.Msg {
	return i18n.M("cannot reach the Docker Engine at {{.Host}}: {{.Err}}; start Docker (e.g. `systemctl start docker`), or set `docker_host` in the stackhub block of your Caddyfile (or DOCKER_HOST) to where it listens",
		"Host", e.Host, "Err", e.Err)
}

func (e *DockerUnreachableError) Unwrap() error { return e.Err }

func describeHost(host string) string {
	if host != "" {
		return host
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h + " (from DOCKER_HOST)"
	}
	return client.DefaultDockerHost
}

func (e *composeEngine) Docker() client.APIClient { return e.docker }

// service builds a Compose service whose events go to progress. The SDK
// takes its event processor at construction, so each operation gets its own.
func (e *composeEngine) service(progress func(Event)) (api.Compose, error) {
	e.cliMu.Lock()
	defer e.cliMu.Unlock()
	dockerCli, err := command.NewDockerCli(command.WithAPIClient(e.docker), command.WithCombinedStreams(io.Discard))
	if err != nil {
		return nil, fmt.Errorf("docker cli: %w", err)
	}
	if err := dockerCli.Initialize(cliflags.NewClientOptions()); err != nil {
		return nil, fmt.Errorf("docker cli: %w", err)
	}
	opts := []compose.Option{compose.WithStreams(io.Discard, io.Discard, strings.NewReader(""))}
	if progress != nil {
		opts = append(opts, compose.WithEventProcessor(eventBridge{progress}))
	}
	return compose.NewComposeService(dockerCli, opts...)
}

func (e *composeEngine) Load(ctx context.Context, spec LoadSpec) (*types.Project, error) {
	env := make([]string, 0, len(spec.Env))
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	opts, err := cli.NewProjectOptions(spec.Files,
		cli.WithWorkingDirectory(spec.WorkingDir),
		cli.WithEnv(env),
		// The app folder's .env fills in what the install variables and
		// the user's values leave unset (they win over it).
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithName(spec.Name),
		cli.WithResolvedPaths(true),
		// Loading reads nothing of the host outside the app's source
		// folder: included and extended files must be the app's own, and
		// env_file / label_file are read by ResolveFiles, after the hazard
		// check has seen their paths.
		cli.WithResourceLoader(confinedFiles{dir: spec.WorkingDir}),
		cli.WithLoadOptions(func(o *loader.Options) {
			o.SkipResolveEnvironment = true
			o.SkipResolveLabels = true
		}),
	)
	if err != nil {
		return nil, err
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	setComposeLabels(p)
	return p.WithoutUnnecessaryResources(), nil
}

// setComposeLabels sets the labels the SDK's own loader sets: without them
// Compose finds no containers of the project afterwards (DESIGN.md, choices).
func setComposeLabels(p *types.Project) {
	for name, s := range p.Services {
		s.CustomLabels = map[string]string{
			api.ProjectLabel:     p.Name,
			api.ServiceLabel:     name,
			api.VersionLabel:     api.ComposeVersion,
			api.WorkingDirLabel:  p.WorkingDir,
			api.ConfigFilesLabel: strings.Join(p.ComposeFiles, ","),
			api.OneoffLabel:      "False",
		}
		p.Services[name] = s
	}
}

// ResolveFiles reads the env_file and label_file entries of a loaded
// project into its services' environment and labels, as compose-go's
// loader would have. Call it once the hazard check accepted their paths.
func ResolveFiles(p *types.Project) (*types.Project, error) {
	p, err := p.WithServicesEnvironmentResolved(false)
	if err != nil {
		return nil, err
	}
	return p.WithServicesLabelsResolved(false)
}

// confinedFiles is a compose-go resource loader that refuses every file
// outside dir (an include or extends of a host file), and leaves the
// others to compose-go's own loader.
type confinedFiles struct{ dir string }

func (c confinedFiles) Accept(p string) bool {
	if strings.Contains(p, "://") {
		return true // remote: refused too, an app's files are all local
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.dir, p)
	}
	rel, err := filepath.Rel(c.dir, filepath.Clean(p))
	return err != nil || rel == ".." || strings.HasPrefix(rel, "../")
}

func (c confinedFiles) Load(_ context.Context, p string) (string, error) {
	return "", fmt.Errorf("%s is outside the app's folder: an app may include or extend only its own files", p)
}

func (c confinedFiles) Dir(p string) string { return filepath.Dir(p) }

func (e *composeEngine) Up(ctx context.Context, p *types.Project, wait time.Duration, progress func(Event)) error {
	svc, err := e.service(progress)
	if err != nil {
		return err
	}
	return svc.Up(ctx, p, api.UpOptions{
		Create: api.CreateOptions{RemoveOrphans: true, Recreate: api.RecreateDiverged, RecreateDependencies: api.RecreateDiverged, QuietPull: true},
		Start:  api.StartOptions{Project: p, Wait: wait > 0, WaitTimeout: wait},
	})
}

func (e *composeEngine) Down(ctx context.Context, name string, p *types.Project, removeVolumes bool, progress func(Event)) error {
	svc, err := e.service(progress)
	if err != nil {
		return err
	}
	return svc.Down(ctx, name, api.DownOptions{Project: p, RemoveOrphans: true, Volumes: removeVolumes})
}

func (e *composeEngine) Start(ctx context.Context, name string, p *types.Project, progress func(Event)) error {
	svc, err := e.service(progress)
	if err != nil {
		return err
	}
	return svc.Start(ctx, name, api.StartOptions{Project: p, Wait: true, WaitTimeout: 2 * time.Minute})
}

func (e *composeEngine) Stop(ctx context.Context, name string, p *types.Project, progress func(Event)) error {
	svc, err := e.service(progress)
	if err != nil {
		return err
	}
	return svc.Stop(ctx, name, api.StopOptions{Project: p})
}

func (e *composeEngine) Restart(ctx context.Context, name string, p *types.Project, progress func(Event)) error {
	svc, err := e.service(progress)
	if err != nil {
		return err
	}
	return svc.Restart(ctx, name, api.RestartOptions{Project: p})
}

func (e *composeEngine) Logs(ctx context.Context, name string, opts LogOptions, w io.Writer) error {
	svc, err := e.service(nil)
	if err != nil {
		return err
	}
	tail := opts.Tail
	if tail == "" {
		tail = "all"
	}
	since := ""
	if !opts.Since.IsZero() {
		since = opts.Since.Format(time.RFC3339Nano)
	}
	return svc.Logs(ctx, name, &logWriter{w: w}, api.LogOptions{Follow: opts.Follow, Tail: tail, Since: since, Services: opts.Services})
}

func (e *composeEngine) Ps(ctx context.Context, name string) ([]api.ContainerSummary, error) {
	svc, err := e.service(nil)
	if err != nil {
		return nil, err
	}
	return svc.Ps(ctx, name, api.PsOptions{All: true})
}

func (e *composeEngine) List(ctx context.Context) ([]api.Stack, error) {
	svc, err := e.service(nil)
	if err != nil {
		return nil, err
	}
	return svc.List(ctx, api.ListOptions{All: true})
}

// logWriter is a Compose LogConsumer that writes "service | line" lines.
type logWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logWriter) Log(containerName, message string) { l.write(containerName, message) }
func (l *logWriter) Err(containerName, message string) { l.write(containerName, message) }
func (l *logWriter) Status(container, msg string)      {}

func (l *logWriter) write(name, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s | %s\n", name, strings.TrimRight(message, "\n"))
	if f, ok := l.w.(interface{ Flush() }); ok {
		f.Flush()
	}
}

// eventBridge turns Compose's progress events into ours.
type eventBridge struct{ progress func(Event) }

func (b eventBridge) Start(ctx context.Context, operation string) {}
func (b eventBridge) Done(operation string, success bool)         {}
func (b eventBridge) On(events ...api.Resource) {
	for _, r := range events {
		ev := Event{Phase: PhaseCompose, Resource: r.ID, Status: r.Text, Message: r.Details, Current: r.Current, Total: r.Total}
		if r.Status == api.Error {
			ev.Phase = PhaseError
		}
		b.progress(ev)
	}
}

// isNotFound reports whether err is the engine's "no such object".
func isNotFound(err error) bool {
	return cerrdefs.IsNotFound(err)
}
