package swarm

import (
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"
)

// TestRecordedMovePlan: where an app with data moves from and to, on the
// recorded answers of the four-node home lab (recorded_test.go). No second
// node runs in this sandbox; the engine-facing half (PlanMove) only reads
// these same answers from the engine.
func TestRecordedMovePlan(t *testing.T) {
	nodes := recorded[[]swarm.Node](t, "recorded-nodes-3.json")
	services := recorded[[]swarm.Service](t, "recorded-services-3.json")
	tasks := recorded[[]swarm.Task](t, "recorded-tasks-3.json")
	on := AppNodes(summarize(nodes, tasks, serviceApps(services)))
	media := Placement{Constraints: []string{"node.labels.media==true"}}
	for _, c := range []struct {
		name     string
		running  []string
		from, to Placement
		want     MovePlan
		err      error
		says     string
	}{
		{name: "jellyfin, running on media-pc (rescheduled there), to the manager", running: on["jellyfin"],
			from: media, to: Placement{}, want: MovePlan{From: "media-pc", To: "hub"}},
		{name: "vault, on the manager, to the one ready media node", running: on["vault"],
			from: Placement{}, to: media, want: MovePlan{From: "hub", To: "media-pc"}},
		{name: "a stopped app pinned to the drained nas: its disk still has the data", running: nil,
			from: Placement{Node: "nas"}, to: Placement{Node: "media-pc"}, want: MovePlan{From: "nas", To: "media-pc"}},
		{name: "to the drained nas", running: on["vault"], to: Placement{Node: "nas"}, err: ErrNoPlace},
		{name: "to the node that is down", running: on["vault"], to: Placement{Node: "old-laptop"}, err: ErrNoPlace},
		{name: "to a node that does not exist", running: on["vault"], to: Placement{Node: "attic"}, err: ErrNoPlace},
		{name: "to where it runs", running: on["vault"], to: Placement{Node: "hub"}, err: ErrAlreadyThere},
		{name: "a stopped app whose node is down", running: nil, from: Placement{Node: "old-laptop"},
			to: Placement{Node: "hub"}, says: "old-laptop, which holds the app's data, is down"},
		{name: "tasks on two nodes, two copies of the data", running: []string{"hub", "media-pc"},
			to: Placement{Node: "media-pc"}, err: ErrMoveAmbiguous, says: "hub, media-pc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := planMove(nodes, c.running, c.from, c.to, "hub")
			if c.err == nil && c.says == "" {
				if err != nil || got != c.want {
					t.Fatalf("plan %+v, %v; want %+v", got, err, c.want)
				}
				return
			}
			if err == nil || (c.err != nil && !errors.Is(err, c.err)) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("plan %+v, %v; want an error %v saying %q", got, err, c.err, c.says)
			}
		})
	}

	// The same lab with the nas back in service: two media nodes, so a
	// constraint cannot say where the data goes.
	two := append([]swarm.Node(nil), nodes...)
	for i := range two {
		if two[i].Description.Hostname == "nas" {
			two[i].Spec.Availability = swarm.NodeAvailabilityActive
		}
	}
	_, err := planMove(two, on["vault"], Placement{}, media, "hub")
	if !errors.Is(err, ErrMoveAmbiguous) || !strings.Contains(err.Error(), "media-pc, nas") || !strings.Contains(err.Error(), "--node") {
		t.Errorf("move to a constraint two nodes satisfy: %v; want a refusal naming both and --node", err)
	}
	if got, err := planMove(two, on["vault"], Placement{}, Placement{Node: "nas", Constraints: media.Constraints}, "hub"); err != nil || got.To != "nas" {
		t.Errorf("move to nas by name: %+v %v", got, err)
	}
}

// TestUnitJobSpec: a data job is a one-shot job pinned to its node, never
// restarted, with the password only in a secret.
func TestUnitJobSpec(t *testing.T) {
	j := Job{
		Name: "stackhub-restore-photos", Node: "media-pc", Image: "restic/restic:0.17.3",
		Command: []string{"restic", "restore", "abc"}, Env: map[string]string{"RESTIC_REPOSITORY": "rest:https://backup.lan/"},
		Secret: []byte("s3cret"), Binds: map[string]string{"/srv/stackhub/apps/photos/data": "/restore/srv/stackhub/apps/photos/data"},
		Volumes: map[string]string{"stackhub-photos_db": "/restore/stackhub-volumes/db"},
		Labels:  map[string]string{AppLabel: "photos"},
	}
	sec := &swarm.SecretReference{SecretID: "sec1", SecretName: "x", File: &swarm.SecretReferenceFileTarget{Name: "stackhub-secret"}}
	s := j.spec(sec, nil)
	if s.Mode.ReplicatedJob == nil || *s.Mode.ReplicatedJob.TotalCompletions != 1 || s.Mode.Replicated != nil {
		t.Errorf("mode %+v, want a replicated job of one completion", s.Mode)
	}
	if c := s.TaskTemplate.Placement.Constraints; len(c) != 1 || c[0] != "node.hostname==media-pc" {
		t.Errorf("constraints %v", c)
	}
	if s.TaskTemplate.RestartPolicy.Condition != swarm.RestartPolicyConditionNone {
		t.Errorf("restart policy %+v: a failed restore must not run twice", s.TaskTemplate.RestartPolicy)
	}
	cs := s.TaskTemplate.ContainerSpec
	env := strings.Join(cs.Env, " ")
	if strings.Contains(env, "s3cret") || !strings.Contains(env, "RESTIC_PASSWORD_FILE=/run/secrets/stackhub-secret") || len(cs.Secrets) != 1 {
		t.Errorf("env %v secrets %v: the password goes in a secret only", cs.Env, cs.Secrets)
	}
	if len(cs.Mounts) != 2 || cs.Mounts[0].Type != "bind" || cs.Mounts[0].Target != "/restore/srv/stackhub/apps/photos/data" ||
		cs.Mounts[1].Type != "volume" || cs.Mounts[1].Source != "stackhub-photos_db" {
		t.Errorf("mounts %+v", cs.Mounts)
	}

	// A stack scaled to 0 is quiet only once its tasks have exited (on
	// the recorded answers, jellyfin's new task on media-pc still runs);
	// the old task on the dead old-laptop, last seen running, is not
	// waited for: Swarm never hears from it again.
	nodes := recorded[[]swarm.Node](t, "recorded-nodes-3.json")
	tasks := recorded[[]swarm.Task](t, "recorded-tasks-3.json")
	var jellyfin, stale []swarm.Task
	for _, task := range tasks {
		if task.Spec.ContainerSpec.Labels[AppLabel] != "jellyfin" {
			continue
		}
		if task.DesiredState == swarm.TaskStateRunning {
			jellyfin = append(jellyfin, task)
		} else {
			stale = append(stale, task)
		}
	}
	if len(jellyfin) != 1 || len(stale) != 1 {
		t.Fatalf("recorded jellyfin tasks: %d running, %d stale", len(jellyfin), len(stale))
	}
	if quiet(append(jellyfin, stale...), nodes) {
		t.Error("jellyfin with a running task on media-pc is quiet")
	}
	if !quiet(stale, nodes) {
		t.Error("a task on a node that is down keeps the stack from being quiet")
	}
	exited := jellyfin[0]
	exited.Status.State = swarm.TaskStateShutdown
	if !quiet([]swarm.Task{exited}, nodes) {
		t.Error("an exited task is not quiet")
	}
	stopping := jellyfin[0]
	stopping.DesiredState = swarm.TaskStateShutdown
	if quiet([]swarm.Task{stopping}, nodes) {
		t.Error("a task told to shut down but still running on a ready node is quiet")
	}

	// Outcomes of its task, as Swarm reports them.
	if done, err := jobOutcome([]swarm.Task{{Status: swarm.TaskStatus{State: swarm.TaskStateRunning}}}); done || err != nil {
		t.Errorf("running: %v %v", done, err)
	}
	if done, err := jobOutcome([]swarm.Task{{Status: swarm.TaskStatus{State: swarm.TaskStateComplete}}}); !done || err != nil {
		t.Errorf("complete: %v %v", done, err)
	}
	failed := swarm.Task{Status: swarm.TaskStatus{State: swarm.TaskStateFailed, Err: "task: non-zero exit (1)", ContainerStatus: &swarm.ContainerStatus{ExitCode: 1}}}
	if done, err := jobOutcome([]swarm.Task{failed}); !done || err == nil || !strings.Contains(err.Error(), "exit code 1") {
		t.Errorf("failed: %v %v", done, err)
	}
}
