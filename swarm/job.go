package swarm

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Job is a one-shot Swarm job pinned to one node: how StackHub reaches an
// app's data on a node other than the manager, whose disk it cannot read
// (a restic backup, restore or clear of the data folder and named volumes
// there, docs/SWARM.md "Moving an app").
type Job struct {
	// Name is the job's service name.
	Name string
	// Node is the hostname of the node it runs on.
	Node string
	// Image runs Command (the restic image on the node).
	Image   string
	Command []string
	// Env is the job's environment (repository settings, never the
	// password: that is Secret).
	Env map[string]string
	// Secret, when set, is mounted at /run/secrets/stackhub-secret and
	// named by RESTIC_PASSWORD_FILE: it never shows in `docker service
	// inspect`.
	Secret []byte
	// Binds maps folders of the node to paths in the job.
	Binds map[string]string
	// Volumes maps named volumes of the node (created when missing) to
	// paths in the job.
	Volumes map[string]string
	// Files are small files the job reads (Swarm configs), by path.
	Files map[string][]byte
	// Labels go on the job's service, secret and configs.
	Labels map[string]string
}

// secretPath is where a job finds its secret.
const secretPath = "/run/secrets/stackhub-secret"

// spec is the job's service: replicated-job, one completion, no restart,
// pinned to Node, with its mounts, secret and configs (already created).
func (j Job) spec(secret *swarm.SecretReference, configs []*swarm.ConfigReference) swarm.ServiceSpec {
	one := uint64(1)
	env := []string{}
	for k, v := range j.Env {
		env = append(env, k+"="+v)
	}
	if secret != nil {
		env = append(env, "RESTIC_PASSWORD_FILE="+secretPath)
	}
	sort.Strings(env)
	var mounts []mount.Mount
	for _, src := range sortedKeys(j.Binds) {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: src, Target: j.Binds[src],
			BindOptions: &mount.BindOptions{CreateMountpoint: true}})
	}
	for _, name := range sortedKeys(j.Volumes) {
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: j.Volumes[name],
			VolumeOptions: &mount.VolumeOptions{Labels: j.Labels}})
	}
	cs := &swarm.ContainerSpec{Image: j.Image, Command: j.Command, Env: env, Mounts: mounts, Labels: j.Labels, Configs: configs}
	if secret != nil {
		cs.Secrets = []*swarm.SecretReference{secret}
	}
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: j.Name, Labels: j.Labels},
		Mode:        swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &one, TotalCompletions: &one}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Placement:     &swarm.Placement{Constraints: []string{"node.hostname==" + j.Node}},
		},
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RunJob runs j on its node and waits until it completed (nil) or failed
// (the task's error), at most wait. The job's service, secret and configs
// are removed afterwards, whatever happened.
func RunJob(ctx context.Context, docker client.APIClient, j Job, wait time.Duration) error {
	if err := requireManager(ctx, docker); err != nil {
		return err
	}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	var cleanup []func()
	defer func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}()
	bg := context.WithoutCancel(ctx)
	var secret *swarm.SecretReference
	if j.Secret != nil {
		res, err := docker.SecretCreate(ctx, client.SecretCreateOptions{Spec: swarm.SecretSpec{
			Annotations: swarm.Annotations{Name: j.Name + "-" + stamp, Labels: j.Labels}, Data: j.Secret}})
		if err != nil {
			return fmt.Errorf("job %s: create its secret: %w", j.Name, err)
		}
		cleanup = append(cleanup, func() { docker.SecretRemove(bg, res.ID, client.SecretRemoveOptions{}) })
		secret = &swarm.SecretReference{SecretID: res.ID, SecretName: j.Name + "-" + stamp,
			File: &swarm.SecretReferenceFileTarget{Name: "stackhub-secret", Mode: 0o400}}
	}
	var configs []*swarm.ConfigReference
	for i, path := range sortedKeys(j.Files) {
		name := fmt.Sprintf("%s-%s-%d", j.Name, stamp, i)
		res, err := docker.ConfigCreate(ctx, client.ConfigCreateOptions{Spec: swarm.ConfigSpec{
			Annotations: swarm.Annotations{Name: name, Labels: j.Labels}, Data: j.Files[path]}})
		if err != nil {
			return fmt.Errorf("job %s: create config %s: %w", j.Name, path, err)
		}
		cleanup = append(cleanup, func() { docker.ConfigRemove(bg, res.ID, client.ConfigRemoveOptions{}) })
		configs = append(configs, &swarm.ConfigReference{ConfigID: res.ID, ConfigName: name,
			File: &swarm.ConfigReferenceFileTarget{Name: path, Mode: 0o444}})
	}
	svc, err := docker.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: j.spec(secret, configs)})
	if err != nil {
		return fmt.Errorf("job %s on %s: %w", j.Name, j.Node, err)
	}
	// Before the secret and configs: they cannot go while a service uses them.
	cleanup = append(cleanup, func() {
		docker.ServiceRemove(bg, svc.ID, client.ServiceRemoveOptions{})
		for i := 0; i < 50; i++ {
			t, err := docker.TaskList(bg, client.TaskListOptions{Filters: client.Filters{}.Add("service", svc.ID)})
			if err != nil || len(t.Items) == 0 {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	deadline := time.Now().Add(wait)
	for {
		tasks, err := docker.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("service", svc.ID)})
		if err != nil {
			return fmt.Errorf("job %s: list its tasks: %w", j.Name, err)
		}
		if done, err := jobOutcome(tasks.Items); done {
			if err != nil {
				return fmt.Errorf("job %s on %s: %w", j.Name, j.Node, err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s on %s did not finish within %s: `docker service ps %s` shows why", j.Name, j.Node, wait, j.Name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// jobOutcome reads a one-shot job's tasks: done with nil when one
// completed, done with its error when one failed or was rejected (no
// restarts: the job's restart policy is none).
func jobOutcome(tasks []swarm.Task) (bool, error) {
	for _, t := range tasks {
		switch t.Status.State {
		case swarm.TaskStateComplete:
			return true, nil
		case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateOrphaned:
			msg := t.Status.Err
			if msg == "" {
				msg = t.Status.Message
			}
			if t.Status.ContainerStatus != nil && t.Status.ContainerStatus.ExitCode != 0 {
				msg = fmt.Sprintf("%s (exit code %d)", msg, t.Status.ContainerStatus.ExitCode)
			}
			return true, fmt.Errorf("task %s: %s", t.Status.State, msg)
		}
	}
	return false, nil
}
