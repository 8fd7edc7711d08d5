package declare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/stores"
)

var lookup = Lookup{
	Find: func(ref string) (stores.App, error) {
		if ref == "builtin/whoami" {
			return stores.App{ID: "whoami", Store: "builtin", Version: "1"}, nil
		}
		return stores.App{}, fmt.Errorf("no app %s", ref)
	},
	ReadPath: func(p string) (stores.App, error) { return stores.App{}, errors.New("no such folder") },
	Expand: func(s string) (string, error) {
		if s == "{file.missing}" {
			return "", errors.New("placeholder is empty")
		}
		return strings.ReplaceAll(s, "{env.WHO}", "ann"), nil
	},
}

func TestDesiredErrorsNameTheDeclaration(t *testing.T) {
	at := func(a App) App { a.File, a.Line = "/etc/Caddyfile", 12; return a }
	for _, c := range []struct {
		apps []App
		want string
	}{
		{[]App{at(App{Name: "w", From: "builtin/nope"})}, "/etc/Caddyfile:12: app w: from builtin/nope: no app builtin/nope"},
		{[]App{at(App{Name: "w", From: "builtin/whoami", Path: "/x"})}, "not both"},
		{[]App{at(App{Name: "W!", From: "builtin/whoami"})}, "DNS label"},
		{[]App{at(App{Name: "w", From: "builtin/whoami", Set: map[string]string{"K": "{file.missing}"}})}, "set K: placeholder is empty"},
		{[]App{at(App{Name: "w", From: "builtin/whoami", Access: "friends"})}, `access must be private, restricted or public, not "friends"`},
		{[]App{at(App{Name: "w", From: "builtin/whoami", Users: []string{"ann"}})}, "users and groups go with `access restricted`"},
		{[]App{at(App{Name: "w", From: "builtin/whoami", Domains: []appctl.Domain{{Name: "nodots"}}})}, "not a full domain name"},
		{[]App{at(App{Name: "w", From: "builtin/whoami", Backup: &Backup{Every: "sometimes"}})}, "write hourly, daily, weekly or off"},
		{[]App{{Name: "w", From: "builtin/whoami"}, {Name: "w", From: "builtin/whoami"}}, "app w: app w: declared twice (also at app w)"},
	} {
		_, err := Desired(c.apps, lookup)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.apps, err, c.want)
		}
	}
	ds, err := Desired([]App{{Name: "w", From: "builtin/whoami", Set: map[string]string{"USER": "{env.WHO}"}, Access: "restricted", Groups: []string{"family"}}}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[0]; d.App.ID != "w" || d.Options.Values["USER"] != "ann" || d.Options.Policy.Access != "restricted" || d.Source != "app w" || strings.Join(d.SecretKeys, ",") != "USER" {
		t.Errorf("desired = %+v", d)
	}
}

type fakeChecker struct{ err error }

func (f fakeChecker) CheckDesired(appctl.Desired) error { return f.err }

func TestCheckRefusesClashesWithTheLine(t *testing.T) {
	apps := []App{
		{Name: "a", From: "builtin/whoami", File: "Caddyfile", Line: 3},
		{Name: "b", From: "builtin/whoami", Subdomain: "a", File: "Caddyfile", Line: 7},
	}
	ds, err := Desired(apps, lookup)
	if err != nil {
		t.Fatal(err)
	}
	err = Check(apps, ds, "home.example.com", fakeChecker{})
	if err == nil || !strings.Contains(err.Error(), "Caddyfile:7: app b: a.home.example.com is also an address of the app declared at Caddyfile:3") {
		t.Errorf("clash: %v", err)
	}
	err = Check(apps[:1], ds[:1], "home.example.com", fakeChecker{errors.New("needs approval: add `approve privileged`")})
	if err == nil || !strings.Contains(err.Error(), "Caddyfile:3: app a: needs approval") {
		t.Errorf("platform check: %v", err)
	}
}

// fakeManager records what converging asked of it.
type fakeManager struct {
	mu      sync.Mutex
	recs    []appctl.Record
	changes map[string][]string
	calls   []string
}

func (f *fakeManager) Records() ([]appctl.Record, error) { return f.recs, nil }
func (f *fakeManager) Changes(r appctl.Record, d appctl.Desired) []string {
	return f.changes[r.ID]
}
func (f *fakeManager) log(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fakeManager) ApplyDeclared(_ context.Context, d appctl.Desired, _ func(appctl.Event)) (appctl.Record, error) {
	f.log("apply " + d.App.ID)
	return appctl.Record{}, nil
}
func (f *fakeManager) SetManaged(id, source, note string) error {
	f.log("managed " + id + " " + source)
	return nil
}
func (f *fakeManager) StopUndeclared(_ context.Context, id, note string, _ func(appctl.Event)) error {
	f.log("stop " + id)
	return nil
}
func (f *fakeManager) Remove(_ context.Context, id string, keep bool, _ func(appctl.Event)) error {
	f.log(fmt.Sprintf("remove %s keep=%v", id, keep))
	return nil
}

func TestConvergePlan(t *testing.T) {
	m := &fakeManager{
		recs: []appctl.Record{
			{ID: "same", State: appctl.StateInstalled, Managed: "Caddyfile:3"},
			{ID: "changed", State: appctl.StateInstalled, Managed: "Caddyfile:8"},
			{ID: "byhand", State: appctl.StateInstalled},
			{ID: "adopted", State: appctl.StateInstalled},
			{ID: "gone", State: appctl.StateInstalled, Managed: "Caddyfile:20"},
		},
		changes: map[string][]string{"changed": {"value K"}},
	}
	desired := []appctl.Desired{
		{App: stores.App{ID: "same"}, Source: "Caddyfile:3"},
		{App: stores.App{ID: "changed"}, Source: "Caddyfile:8"},
		{App: stores.App{ID: "adopted"}, Source: "Caddyfile:12"},
		{App: stores.App{ID: "new"}, Source: "Caddyfile:15"},
	}
	for _, c := range []struct {
		prune string
		last  string
	}{
		{PruneOff, "stop gone"},
		{PruneKeepData, "remove gone keep=true"},
		{PruneDeleteData, "remove gone keep=false"},
	} {
		m.calls = nil
		conv := NewConverger(m, nil)
		conv.Apply(desired, c.prune)
		conv.Wait()
		want := []string{"apply changed", "managed adopted Caddyfile:12", "apply new", c.last}
		if !slices.Equal(m.calls, want) {
			t.Errorf("prune %q: calls %v, want %v (unchanged and hand-installed apps untouched)", c.prune, m.calls, want)
		}
		st := conv.Status()
		if st.Running || len(st.Steps) != 5 || st.Steps[0].Action != ActionUnchanged || st.Steps[1].Changes[0] != "value K" {
			t.Errorf("status = %+v", st)
		}
		for _, s := range st.Steps {
			if s.State != StateDone {
				t.Errorf("step %+v not done", s)
			}
		}
	}
}

// CheckValues fails on the first value whose placeholder cannot be
// replaced, naming the declaration and the key, and passes the others.
func TestCheckValuesNamesTheDeclaration(t *testing.T) {
	bad := App{Name: "w", From: "builtin/whoami", File: "/etc/Caddyfile", Line: 7, Set: map[string]string{"K": "{file.missing}"}}
	good := App{Name: "v", From: "builtin/whoami", Set: map[string]string{"USER": "{env.WHO}"}}
	if err := CheckValues([]App{good}, lookup.Expand); err != nil {
		t.Errorf("CheckValues of a good value: %v", err)
	}
	err := CheckValues([]App{good, bad}, lookup.Expand)
	if err == nil || err.Error() != "/etc/Caddyfile:7: app w: set K: placeholder is empty" {
		t.Errorf("CheckValues of an unreadable placeholder: %v", err)
	}
	if err := CheckValues([]App{bad}, nil); err != nil {
		t.Errorf("CheckValues without an expander: %v", err)
	}
}
