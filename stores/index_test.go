package stores

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// copyStore copies a store fixture into a fresh folder.
func copyStore(t *testing.T, fixture string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRefreshConvertsOnlyChangedApps: a folder store's refresh converts the
// app folders that changed, and serves the others as converted before.
func TestRefreshConvertsOnlyChangedApps(t *testing.T) {
	dir := copyStore(t, "testdata/umbrel")
	src := DirSource("umbrel", dir, FormatUmbrel)
	ctx := context.Background()
	before := conversions.Load()
	apps, err := src.Load(ctx)
	if err != nil || len(apps) != 3 {
		t.Fatalf("first load: %d apps, %v", len(apps), err)
	}
	if n := conversions.Load() - before; n != 3 {
		t.Errorf("first load converted %d apps, want 3", n)
	}
	before = conversions.Load()
	again, err := src.Load(ctx)
	if err != nil || len(again) != 3 || again[1].ID != "electrs" || len(again[1].Requires) != 1 {
		t.Fatalf("second load: %+v, %v", again, err)
	}
	if n := conversions.Load() - before; n != 0 {
		t.Errorf("a refresh where nothing changed converted %d apps", n)
	}
	compose := filepath.Join(dir, "electrs", "docker-compose.yml")
	b, _ := os.ReadFile(compose)
	os.WriteFile(compose, []byte(strings.ReplaceAll(string(b), "getumbrel/electrs:v0.10.9", "getumbrel/electrs:v0.10.10")), 0o644)
	before = conversions.Load()
	changed, err := src.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := conversions.Load() - before; n != 1 {
		t.Errorf("a refresh after one app changed converted %d apps, want 1", n)
	}
	if !strings.Contains(string(changed[1].Compose), "v0.10.10") {
		t.Errorf("the changed app is not read anew:\n%s", changed[1].Compose)
	}

	// What bitcoin exports changes: the apps requiring it are read anew too.
	exports := filepath.Join(dir, "bitcoin", "exports.sh")
	b, _ = os.ReadFile(exports)
	os.WriteFile(exports, []byte(strings.ReplaceAll(string(b), `BITCOIN_RPC_USER="umbrel"`, `BITCOIN_RPC_USER="satoshi"`)), 0o644)
	before = conversions.Load()
	if _, err := src.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if n := conversions.Load() - before; n != 3 {
		t.Errorf("a change of a required app's exports converted %d apps, want 3 (it and the 2 requiring it)", n)
	}
}

// countingSource counts its loads; block, when set, holds a load until
// closed.
type countingSource struct {
	name  string
	apps  []App
	err   error
	block chan struct{}
	mu    sync.Mutex
	loads int
}

func (s *countingSource) Name() string { return s.name }
func (s *countingSource) Load(ctx context.Context) ([]App, error) {
	s.mu.Lock()
	s.loads++
	s.mu.Unlock()
	if s.block != nil {
		<-s.block
	}
	out := make([]App, len(s.apps))
	copy(out, s.apps)
	return out, s.err
}

// TestAddingAStoreReadsOnlyThatStore: RefreshStore (what adding a store
// does) loads the new store and leaves the others alone.
func TestAddingAStoreReadsOnlyThatStore(t *testing.T) {
	big := &countingSource{name: "umbrel", apps: []App{{ID: "a"}}}
	c := NewCatalog(big)
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	small := &countingSource{name: "mine", apps: []App{{ID: "b"}}}
	c.Add(small)
	if err := c.RefreshStore(context.Background(), "mine"); err != nil {
		t.Fatal(err)
	}
	if big.loads != 1 || small.loads != 1 {
		t.Errorf("loads: umbrel %d (want 1), mine %d (want 1)", big.loads, small.loads)
	}
	if _, err := c.Find("mine/b"); err != nil {
		t.Error(err)
	}
}

type memIndex struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (x *memIndex) LoadIndex(s string) ([]byte, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b, ok := x.m[s]
	return b, ok
}
func (x *memIndex) SaveIndex(s string, b []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.m[s] = b
	return nil
}

// TestLastGoodIndexServedAtStart: after a restart, a store's last good
// apps (compose files and seed files included) are served before it loads;
// a folder store that then fails to load keeps them, as an archive store
// keeps its last good copy.
func TestLastGoodIndexServedAtStart(t *testing.T) {
	dir := copyStore(t, "testdata/umbrel")
	ix := &memIndex{m: map[string][]byte{}}
	first := NewCatalog(DirSource("umbrel", dir, FormatUmbrel))
	if missing := first.UseIndex(ix); len(missing) != 1 {
		t.Fatalf("a first start has no index, missing = %v", missing)
	}
	if err := first.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, _ := first.Find("umbrel/bitcoin")

	// Restart: the store's folder is gone (a disk not mounted yet, say),
	// and its load is slow.
	os.RemoveAll(dir)
	slow := &countingSource{name: "umbrel", err: errors.New("folder missing"), block: make(chan struct{})}
	second := NewCatalog(slow)
	if missing := second.UseIndex(ix); len(missing) != 0 {
		t.Fatalf("missing = %v", missing)
	}
	got, err := second.Find("umbrel/bitcoin")
	if err != nil {
		t.Fatalf("not served from the index: %v", err)
	}
	if string(got.Compose) != string(want.Compose) || len(got.Fields) != len(want.Fields) || got.Exports["APP_BITCOIN_NODE_IP"] != "bitcoin_bitcoind_1" {
		t.Errorf("indexed app differs: %+v", got)
	}
	if st := second.Status()[0]; !st.FromIndex || st.Apps != 3 {
		t.Errorf("status = %+v", st)
	}
	done := make(chan error)
	go func() { done <- second.Refresh(context.Background()) }()
	close(slow.block)
	if err := <-done; err == nil {
		t.Fatal("the failed load reported no error")
	}
	if _, err := second.Find("umbrel/electrs"); err != nil {
		t.Errorf("the last good apps were dropped by a failed load: %v", err)
	}
	if st := second.Status()[0]; st.Error == "" || st.Apps != 3 {
		t.Errorf("status after the failed load = %+v", st)
	}
}
