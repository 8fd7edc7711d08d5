package dockertest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// Registry serves image (an image on the engine), plus one extra layer of
// extraBytes random bytes that no engine has yet (so a pull really
// downloads something), from a read-only registry
// on loopback, speaking just enough of the registry API (v2) for the engine
// to pull it, so that pulls and their progress can be tested with no
// network. It returns the reference to pull: 127.0.0.1:PORT/<repo>:<tag>.
// The engine treats loopback registries as insecure (plain HTTP) by
// default. The pulled image is removed when the test ends.
func Registry(t testing.TB, c *client.Client, image, repo, tag string, extraBytes int) string {
	t.Helper()
	ctx := context.Background()
	res, err := c.ImageSave(ctx, []string{image})
	if err != nil {
		t.Fatalf("save %s: %v", image, err)
	}
	saved, err := io.ReadAll(res)
	res.Close()
	if err != nil {
		t.Fatalf("save %s: %v", image, err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(saved))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read saved image: %v", err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var saveManifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(files["manifest.json"], &saveManifest); err != nil || len(saveManifest) != 1 {
		t.Fatalf("saved image manifest: %v", err)
	}
	blobs := map[string][]byte{}
	digest := func(b []byte) string {
		sum := sha256.Sum256(b)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	type descriptor struct {
		MediaType string `json:"mediaType"`
		Size      int    `json:"size"`
		Digest    string `json:"digest"`
	}
	layers := make([][]byte, 0, len(saveManifest[0].Layers)+1)
	for _, l := range saveManifest[0].Layers {
		layers = append(layers, files[l])
	}
	config := files[saveManifest[0].Config]
	if extraBytes > 0 {
		var layer bytes.Buffer
		tw := tar.NewWriter(&layer)
		data := make([]byte, extraBytes)
		rand.Read(data)
		tw.WriteHeader(&tar.Header{Name: "stackhub-pull-test/data", Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
		tw.Close()
		layers = append(layers, layer.Bytes())
		var cfg map[string]any
		if err := json.Unmarshal(config, &cfg); err != nil {
			t.Fatalf("image config: %v", err)
		}
		rootfs := cfg["rootfs"].(map[string]any)
		rootfs["diff_ids"] = append(rootfs["diff_ids"].([]any), digest(layer.Bytes()))
		if hist, ok := cfg["history"].([]any); ok {
			cfg["history"] = append(hist, map[string]any{"created_by": "stackhub test layer"})
		}
		config, _ = json.Marshal(cfg)
	}
	blobs[digest(config)] = config
	manifest := struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, "application/vnd.docker.distribution.manifest.v2+json",
		descriptor{"application/vnd.docker.container.image.v1+json", len(config), digest(config)}, nil}
	for _, l := range layers {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(l)
		w.Close()
		b := gz.Bytes()
		blobs[digest(b)] = b
		manifest.Layers = append(manifest.Layers, descriptor{"application/vnd.docker.image.rootfs.diff.tar.gzip", len(b), digest(b)})
	}
	manifestJSON, _ := json.Marshal(manifest)
	manifestDigest := digest(manifestJSON)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		p := r.URL.Path
		switch {
		case p == "/v2/" || p == "/v2":
			w.Write([]byte("{}"))
		case p == path.Join("/v2", repo, "manifests", tag) || p == path.Join("/v2", repo, "manifests", manifestDigest):
			w.Header().Set("Content-Type", manifest.MediaType)
			w.Header().Set("Docker-Content-Digest", manifestDigest)
			w.Header().Set("Content-Length", fmt.Sprint(len(manifestJSON)))
			if r.Method != http.MethodHead {
				w.Write(manifestJSON)
			}
		case strings.HasPrefix(p, path.Join("/v2", repo, "blobs")+"/"):
			b, ok := blobs[path.Base(p)]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Header().Set("Docker-Content-Digest", path.Base(p))
			if r.Method != http.MethodHead {
				w.Write(b)
			}
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(l)
	ref := fmt.Sprintf("%s/%s:%s", l.Addr().String(), repo, tag)
	t.Cleanup(func() {
		srv.Close()
		c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{})
	})
	return ref
}
