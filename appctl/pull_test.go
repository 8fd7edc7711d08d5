package appctl

import (
	"context"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/dockertest"
)

// TestInstallPullsMissingImagesWithLayerProgress pulls an image that is not
// on the engine from a registry on loopback and checks that progress comes
// per layer, in bytes.
func TestInstallPullsMissingImagesWithLayerProgress(t *testing.T) {
	h := newHarness(t)
	ref := dockertest.Registry(t, h.docker, testImage, "stackhub-pulltest", "1", 8<<20)
	app, err := writeApp(t, "pulled", simpleApp(ref, ""))
	if err != nil {
		t.Fatal(err)
	}
	var layerBytes []Event
	done := false
	_, err = h.m.Install(context.Background(), app, InstallOptions{}, func(e Event) {
		if e.Phase == PhaseImage && e.Total > 0 && e.Current > 0 && strings.HasPrefix(e.Resource, ref+" ") {
			layerBytes = append(layerBytes, e)
		}
		if e.Phase == PhaseImage && strings.Contains(e.Status, "Downloaded newer image") {
			done = true
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	downloading := 0
	for _, e := range layerBytes {
		if e.Status == "Downloading" {
			downloading++
		}
	}
	if downloading == 0 || !done {
		t.Fatalf("pull progress: %d per-layer byte events (%d downloading), finished %v", len(layerBytes), downloading, done)
	}
	last := layerBytes[len(layerBytes)-1]
	t.Logf("last layer event: %s %s %d/%d", last.Resource, last.Status, last.Current, last.Total)
	if got := h.get(t, "pulled.test.localhost", "/"); !strings.HasPrefix(got, "hello from") {
		t.Errorf("pulled app answers %q", got)
	}
	if err := h.m.Remove(context.Background(), "pulled", false, nil); err != nil {
		t.Fatal(err)
	}
}
