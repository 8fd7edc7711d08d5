package appctl

import (
	"time"

	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/swarm"
)

// State is where an app is in its lifecycle. It is written to kv before the
// platform acts, so that after a crash recovery knows what was meant.
type State string

const (
	// StateInstalling: the app's desired state is recorded; containers may
	// or may not exist yet. Recovery finishes the install, or rolls it back.
	StateInstalling State = "installing"
	// StateInstalled: the app is installed and published.
	StateInstalled State = "installed"
	// StateRemoving: removal started; recovery finishes it.
	StateRemoving State = "removing"
	// StateFailed: an install was interrupted and could not be finished, so
	// it was rolled back. The record stays so `apps list` can say so; its
	// data is kept. Installing again or removing clears it.
	StateFailed State = "failed"
)

// Record is an app's desired state, kept in kv under "apps/<id>".
type Record struct {
	ID         string `json:"id"`
	Store      string `json:"store"`
	Name       string `json:"name"`
	Version    string `json:"version,omitempty"`
	Host       string `json:"host"`
	URL        string `json:"url"`
	Project    string `json:"project"`
	MainSvc    string `json:"main_service"`
	MainPort   int    `json:"main_port"`
	MainScheme string `json:"main_scheme,omitempty"`

	// Compose and Files are the app's source as installed, so recovery can
	// rebuild the app folder if it was lost.
	Compose []byte            `json:"compose"`
	Files   map[string][]byte `json:"files,omitempty"`
	// Validated is the project StackHub checked at install and runs on every
	// start, restart and recovery: the compose file loaded with the install
	// variables and rewritten (YAML, project.go). Files on disk, which a
	// container might change, are never read again.
	Validated []byte `json:"validated,omitempty"`
	// Seed are files created in the data folder at install when absent.
	Seed map[string][]byte `json:"seed,omitempty"`
	// Values are the user's answers to the app's form, generated secrets
	// included.
	Values  map[string]string `json:"values,omitempty"`
	Secrets []string          `json:"secrets,omitempty"`

	Policy          registry.Policy `json:"policy"`
	ApprovedHazards bool            `json:"approved_hazards,omitempty"`
	PublishPorts    bool            `json:"publish_ports,omitempty"`
	Exposure                        // service app, host network, ports open on the LAN (exposure.go)
	Links                           // apps it requires, values it gives them (deps.go)

	// ApprovedHazardNames are the hazards approved by name (--approve).
	ApprovedHazardNames []string `json:"approved_hazard_names,omitempty"`

	// Domains are the app's custom domains (aliases of Host).
	Domains []Domain `json:"domains,omitempty"`
	// Managed, when set, says where the app is declared ("Caddyfile:12"):
	// the config owns its settings, which are read-only elsewhere.
	Managed string `json:"managed,omitempty"`

	State State `json:"state"`
	// Running is the desired run state: start/stop change it, and recovery
	// restores it.
	Running  bool `json:"running"`
	KeepData bool `json:"keep_data,omitempty"`
	// Note tells the user what recovery did, e.g. that an interrupted
	// install was finished after a restart.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`

	InstalledAt time.Time `json:"installed_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Placement pins the app on a swarm (docs/SWARM.md).
	Placement swarm.Placement `json:"placement,omitempty"`
	// Stack is set when the app was installed as a Swarm stack: it stays
	// one (and a Compose app stays a Compose app) whatever the engine's
	// mode later.
	Stack bool `json:"stack,omitempty"`
}

func recordKey(id string) string { return "apps/" + id }

// Phase names a step of a long operation, for progress output.
type Phase string

const (
	PhaseValidate Phase = "validate"
	PhaseImage    Phase = "image"   // one event per image layer: pulled bytes, or present
	PhaseCompose  Phase = "compose" // create/start/stop/remove of containers, networks, volumes
	PhaseWait     Phase = "wait"    // waiting for health
	PhasePublish  Phase = "publish"
	PhaseRecover  Phase = "recover"
	PhaseDone     Phase = "done"
	PhaseError    Phase = "error"
)

// Event is one progress report of a long operation (install, remove …). A
// CLI prints them; the portal streams them.
type Event struct {
	Time     time.Time `json:"time"`
	App      string    `json:"app,omitempty"`
	Phase    Phase     `json:"phase"`
	Resource string    `json:"resource,omitempty"` // image, layer, container …
	Status   string    `json:"status,omitempty"`
	Message  string    `json:"message,omitempty"`
	Current  int64     `json:"current,omitempty"` // bytes done
	Total    int64     `json:"total,omitempty"`   // bytes in all
	URL      string    `json:"url,omitempty"`     // with PhaseDone of an install
	// Code is set on the final error event of an operation: the HTTP status
	// that fits the error (404 not installed, 409 taken …).
	Code int `json:"code,omitempty"`
	// Evidence is what a failing service showed, on the evidence event of a
	// failed install (failure.go).
	Evidence *ServiceEvidence `json:"evidence,omitempty"`
	// MsgID and Args are Message as a catalog message (internal/i18n):
	// its English text with {{.Name}} placeholders, and their values. The
	// portal shows Message in the page's language from them; Message stays
	// English for the CLI and the logs. Set by say (messages.go).
	MsgID string            `json:"msg_id,omitempty"`
	Args  map[string]string `json:"args,omitempty"`
	// Words are the Args that are catalog words themselves (a state),
	// see i18n.Msg.Words.
	Words []string `json:"words,omitempty"`
}

// AppStatus is what `apps list` and `apps info` show of one app.
type AppStatus struct {
	Record
	// Containers are the app's containers as Docker reports them.
	Containers []ContainerStatus `json:"containers,omitempty"`
	// Health sums the containers up: running, stopped, partial, missing …
	Health string `json:"health"`
	// Update is set when the app's store has a newer version (updates.go).
	Update *UpdateInfo `json:"update,omitempty"`
	// LastBackup is the outcome of the app's last backup (updates.go).
	LastBackup *BackupStatus `json:"last_backup,omitempty"`
	// Schedule is the app's backup schedule, when it has one (schedule.go).
	Schedule *Schedule `json:"schedule,omitempty"`
}

// ContainerStatus is one container of an app.
type ContainerStatus struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	Image   string `json:"image"`
	State   string `json:"state"`
	Health  string `json:"health,omitempty"`
}
