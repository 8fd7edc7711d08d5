package appctl

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/i18n"
)

// ImageMissingError says an app's image is not on this machine and could
// not be pulled.
type ImageMissingError struct {
	Image  string
	Reason string
}

func (e *ImageMissingError) Error() string { return e.Message().English() }

// Message is the error as a catalog message, for the portal.
func (e *ImageMissingError) Message() i18n.Msg {
	return i18n.M("image {{.Image}} is not on this machine and cannot be pulled ({{.Reason}}): check that this machine reaches the image's registry, or load the image by hand (`docker load -i FILE`) and install again",
		"Image", e.Image, "Reason", e.Reason)
}

// ensureImages makes sure every image of p is on the engine, pulling what
// is missing, and reports progress per layer: pulled bytes for pulled
// layers, and the size of each layer already present, so the user sees the
// same kind of report either way.
func ensureImages(ctx context.Context, docker client.APIClient, p *types.Project, progress func(Event)) error {
	seen := map[string]string{} // image → pull policy
	for _, svc := range p.Services {
		if svc.Image == "" {
			continue
		}
		if _, ok := seen[svc.Image]; !ok || svc.PullPolicy == types.PullPolicyAlways {
			seen[svc.Image] = svc.PullPolicy
		}
	}
	images := make([]string, 0, len(seen))
	for img := range seen {
		images = append(images, img)
	}
	sort.Strings(images)
	for _, img := range images {
		policy := seen[img]
		_, err := docker.ImageInspect(ctx, img)
		present := err == nil
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("inspect image %s: %w", img, err)
		}
		if present && policy != types.PullPolicyAlways {
			reportPresent(ctx, docker, img, progress)
			continue
		}
		if !present && policy == types.PullPolicyNever {
			return &ImageMissingError{Image: img, Reason: "its pull_policy is never"}
		}
		if err := pull(ctx, docker, img, progress); err != nil {
			if present {
				// pull_policy: always, offline: the copy we have will do.
				progress(Event{Phase: PhaseImage, Resource: img, Status: "pull failed, using the local copy", Message: err.Error()})
				reportPresent(ctx, docker, img, progress)
				continue
			}
			return &ImageMissingError{Image: img, Reason: err.Error()}
		}
	}
	// Every image is now present: Compose must not try to pull again (an
	// offline "always" would fail after all).
	for name, svc := range p.Services {
		if svc.Image != "" {
			svc.PullPolicy = types.PullPolicyMissing
			p.Services[name] = svc
		}
	}
	return nil
}

func reportPresent(ctx context.Context, docker client.APIClient, img string, progress func(Event)) {
	hist, err := docker.ImageHistory(ctx, img)
	if err != nil || len(hist.Items) == 0 {
		progress(Event{Phase: PhaseImage, Resource: img, Status: "present"})
		return
	}
	var total int64
	for _, h := range hist.Items {
		total += h.Size
	}
	var done int64
	// History lists the newest layer first; report in build order.
	for i := len(hist.Items) - 1; i >= 0; i-- {
		h := hist.Items[i]
		if h.Size == 0 {
			continue
		}
		done += h.Size
		id := strings.TrimPrefix(h.ID, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		} else if id == "" || id == "<missing>" {
			id = fmt.Sprintf("layer-%d", len(hist.Items)-i)
		}
		progress(Event{Phase: PhaseImage, Resource: img + " " + id, Status: "present", Current: h.Size, Total: h.Size})
	}
	progress(Event{Phase: PhaseImage, Resource: img, Status: "present", Current: done, Total: total})
}

func pull(ctx context.Context, docker client.APIClient, img string, progress func(Event)) error {
	resp, err := docker.ImagePull(ctx, img, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if msg.Error != nil {
			return fmt.Errorf("%s", msg.Error.Message)
		}
		ev := Event{Phase: PhaseImage, Resource: img, Status: msg.Status}
		if msg.ID != "" && msg.ID != img && !strings.Contains(img, msg.ID) {
			ev.Resource = img + " " + msg.ID
		}
		if msg.Progress != nil {
			ev.Current, ev.Total = msg.Progress.Current, msg.Progress.Total
		}
		progress(ev)
	}
	return nil
}
