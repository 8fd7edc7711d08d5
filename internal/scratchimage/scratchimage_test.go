package scratchimage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/scratchimage"
)

// Build makes an image of the binary, labelled with its digest; a second
// Build of the same binary keeps that image, and a changed binary gets a
// new one under the same tag.
func TestBuildKeepsAnImageOfTheSameBinary(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	tag := fmt.Sprintf("stackhub-scratchimage-test:%d", time.Now().UnixNano())
	t.Cleanup(func() {
		c.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})
	id := func() string {
		t.Helper()
		img, err := c.ImageInspect(ctx, tag)
		if err != nil {
			t.Fatalf("inspect %s: %v", tag, err)
		}
		return img.ID
	}
	if err := scratchimage.Build(ctx, c, "probe", []byte("first binary"), tag); err != nil {
		t.Fatal(err)
	}
	first := id()
	// The second binary's build takes the tag; the first image goes too.
	t.Cleanup(func() { c.ImageRemove(context.Background(), first, client.ImageRemoveOptions{Force: true}) })
	img, _ := c.ImageInspect(ctx, tag)
	if img.Config == nil || len(img.Config.Entrypoint) != 1 || img.Config.Entrypoint[0] != "/probe" || img.Config.Labels["dev.stackhub.probe"] == "" {
		t.Errorf("image config: %+v", img.Config)
	}
	if err := scratchimage.Build(ctx, c, "probe", []byte("first binary"), tag); err != nil || id() != first {
		t.Errorf("a second build of the same binary made a new image (%v)", err)
	}
	if err := scratchimage.Build(ctx, c, "probe", []byte("second binary"), tag); err != nil || id() == first {
		t.Errorf("a changed binary kept the old image (%v)", err)
	}
}
