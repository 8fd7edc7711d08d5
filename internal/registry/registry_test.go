package registry

import (
	"sync"
	"testing"
)

func TestLookupIsCaseInsensitiveAndFollowsChanges(t *testing.T) {
	r := New()
	changes := 0
	r.OnChange(func() { changes++ })
	r.Put(Entry{App: "vault", Host: "Vault.Home.Example.", Upstream: "10.0.0.2:80"})
	e, ok := r.Lookup("VAULT.home.example")
	if !ok || e.Upstream != "10.0.0.2:80" {
		t.Fatalf("lookup after put = %+v, %v", e, ok)
	}
	r.Put(Entry{App: "wiki", Host: "wiki.home.example", Upstream: "10.0.0.3:80"})
	if got := r.Entries(); len(got) != 2 || got[0].Host != "vault.home.example" {
		t.Fatalf("entries = %+v", got)
	}
	r.DeleteApp("vault")
	if _, ok := r.Lookup("vault.home.example"); ok {
		t.Fatal("deleted app still published")
	}
	if changes != 3 || r.Version() != 3 {
		t.Fatalf("changes = %d, version = %d, want 3", changes, r.Version())
	}
}

func TestConcurrentReadersSeeWholeEntries(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if e, ok := r.Lookup("a.x"); ok && e.Upstream != "u:"+e.App {
					t.Errorf("torn entry %+v", e)
					return
				}
			}
		}()
	}
	for range 1000 {
		r.Put(Entry{App: "a", Host: "a.x", Upstream: "u:a"})
		r.Delete("a.x")
	}
	close(stop)
	wg.Wait()
}
