package stores

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

// TestFindAcrossStores resolves the names `apps install` and `store info`
// take: STORE/ID picks that store's app, a bare id only when one store has
// it; otherwise the error lists the STORE/ID forms to choose from.
func TestFindAcrossStores(t *testing.T) {
	folder := func(name string, apps ...string) Source {
		fsys := fstest.MapFS{}
		for _, id := range apps {
			fsys[id+"/compose.yaml"] = &fstest.MapFile{Data: []byte(nativeApp(name+" "+id, "nginx:1.27.0"))}
		}
		return FolderSource(name, fsys)
	}
	cat := NewCatalog(folder("one", "vault", "only"), folder("two", "vault"))
	if err := cat.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"one/vault": "one vault", "two/vault": "two vault", "only": "one only", "one/only": "one only"} {
		if a, err := cat.Find(ref); err != nil || a.Name != want {
			t.Errorf("Find(%q) = %q, %v; want %q", ref, a.Name, err, want)
		}
	}
	_, err := cat.Find("vault")
	if err == nil || !strings.Contains(err.Error(), "one/vault, two/vault") {
		t.Errorf("Find(vault) = %v, want the choices one/vault, two/vault", err)
	}
	if _, err := cat.Find("three/vault"); err == nil || !strings.Contains(err.Error(), `no store named "three"`) {
		t.Errorf("Find(three/vault) = %v", err)
	}
	if _, err := cat.Find("two/only"); err == nil || !strings.Contains(err.Error(), `no app "two/only"`) {
		t.Errorf("Find(two/only) = %v", err)
	}
}
