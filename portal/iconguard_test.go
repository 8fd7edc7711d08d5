package portal

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/stores"
)

// A store names icon URLs on this machine: the portal connects only to the
// store's own origin (a store served from this box), never to another
// local port, and not at all for a store in a folder.
func TestIconFetchIsGuardedLikeTheStoreFetcher(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	storeHits, internalHits := 0, 0
	storeSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storeHits++
		w.Write(png)
	}))
	defer storeSrv.Close()
	// Stands for an internal service (Caddy's admin API, a router's page).
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits++
		w.Write(png)
	}))
	defer internal.Close()

	web, err := stores.NewArchiveSource("web", storeSrv.URL+"/store.zip", stores.FormatAuto, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	folder := stores.NewFSSource("folder", stores.FormatAuto, nil)
	plat := &platform.Platform{Config: platform.Config{DataDir: t.TempDir()}, Catalog: stores.NewCatalog(web, folder)}
	p := &Portal{cfg: Config{Platform: plat, Logf: t.Logf}}

	for _, app := range []stores.App{
		{Store: "web", ID: "probe", Icon: internal.URL + "/admin/config"},
		{Store: "folder", ID: "probe", Icon: internal.URL + "/icon.png"},
		{Store: "folder", ID: "meta", Icon: "http://169.254.169.254/latest/meta-data/icon.png"},
	} {
		if b, ok := p.iconBytes(app); ok {
			t.Errorf("icon %s of store %s served (%d bytes): want it refused", app.Icon, app.Store, len(b))
		}
	}
	if internalHits != 0 {
		t.Fatalf("%d requests reached the internal service", internalHits)
	}

	// The store's own origin serves its icon, once: then from the cache.
	for i := 0; i < 2; i++ {
		b, ok := p.iconBytes(stores.App{Store: "web", ID: "ok", Icon: storeSrv.URL + "/icons/ok.png"})
		if !ok || string(b) != string(png) {
			t.Fatalf("icon from the store's origin (visit %d): %v %q", i+1, ok, b)
		}
	}
	if storeHits != 1 {
		t.Errorf("the store's icon was fetched %d times, want once", storeHits)
	}
}
