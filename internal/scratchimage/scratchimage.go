// Package scratchimage builds Docker images that hold one static binary
// and nothing else (FROM scratch), through the engine's build API: nothing
// is pulled and no registry is needed. StackHub builds its swarm relay
// this way (swarm.BuildRelayImage), and the tests their test app
// (internal/dockertest.TestImage).
package scratchimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/moby/moby/client"
)

// Build builds the image tagged tag whose only file, and entrypoint, is
// /name, a copy of binary, unless the image tagged tag holds this binary
// already. The image's label dev.stackhub.<name> is the binary's digest,
// which is how an image of the same binary is known.
func Build(ctx context.Context, docker client.APIClient, name string, binary []byte, tag string) error {
	label := "dev.stackhub." + name
	sum := sha256.Sum256(binary)
	digest := hex.EncodeToString(sum[:8])
	if img, err := docker.ImageInspect(ctx, tag); err == nil && img.Config != nil && img.Config.Labels[label] == digest {
		return nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY %s /%s\nLABEL %s=%s\nENTRYPOINT [\"/%s\"]\n", name, name, label, digest, name)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {name, 0o755, binary}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body))}); err != nil {
			return fmt.Errorf("build %s image: %w", name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return fmt.Errorf("build %s image: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("build %s image: %w", name, err)
	}
	res, err := docker.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		return fmt.Errorf("build %s image: %w", name, err)
	}
	defer res.Body.Close()
	// The build's answer is a stream of JSON messages; a failed step is a
	// message with an error, not an error of the call.
	dec := json.NewDecoder(res.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			break
		}
		if msg.Error != "" {
			return fmt.Errorf("build %s image: %s", name, msg.Error)
		}
	}
	if _, err := docker.ImageInspect(ctx, tag); err != nil {
		return fmt.Errorf("build %s image: %s missing after the build: %w", name, tag, err)
	}
	return nil
}
