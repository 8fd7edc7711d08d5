package auth

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestSetupToken(t *testing.T) {
	e := newEnv(t)
	if need, err := e.s.NeedsSetup(); err != nil || !need {
		t.Fatalf("fresh box: NeedsSetup = %v, %v", need, err)
	}
	old, err := e.s.SetupToken()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.s.SetupToken() // next start: a new token replaces the old one
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := e.db.Keys(keySetup); len(raw) != 1 {
		t.Fatal("no setup record")
	}
	var rec setupRecord
	if err := e.db.Get(keySetup, &rec); err != nil || strings.Contains(rec.Digest, tok) {
		t.Fatalf("setup token stored in clear: %+v, %v", rec, err)
	}
	admin := NewUser{Name: "Alice", Password: pw}
	for _, bad := range []string{"", "wrong", old} {
		if _, err := e.s.CreateFirstAdmin(bad, admin); !errors.Is(err, ErrSetupToken) {
			t.Fatalf("setup token %q: %v", bad, err)
		}
	}
	if need, _ := e.s.NeedsSetup(); !need {
		t.Fatal("failed setup attempts ended setup")
	}
	// Input errors are reported before the token is even looked at.
	if _, err := e.s.CreateFirstAdmin(tok, NewUser{Name: "a b", Password: pw}); !errors.Is(err, ErrInvalidUsername) {
		t.Fatalf("bad name: %v", err)
	}
	u, err := e.s.CreateFirstAdmin(tok, admin)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice" || u.Role != RoleAdmin {
		t.Fatalf("first admin %+v", u)
	}
	if need, _ := e.s.NeedsSetup(); need {
		t.Fatal("NeedsSetup after the first admin")
	}
	// The token is one-time: nobody can claim a second admin with it.
	if _, err := e.s.CreateFirstAdmin(tok, NewUser{Name: "mallory", Password: pw}); !errors.Is(err, ErrSetupDone) {
		t.Fatalf("token reused: %v", err)
	}
	if _, err := e.s.SetupToken(); !errors.Is(err, ErrSetupDone) {
		t.Fatalf("setup token after setup: %v", err)
	}
	if keys, _ := e.db.Keys(keySetup); len(keys) != 0 {
		t.Fatal("setup record left behind")
	}
}

func TestFirstAdminRaceHasOneWinner(t *testing.T) {
	e := newEnv(t)
	tok, err := e.s.SetupToken()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.s.CreateFirstAdmin(tok, NewUser{Name: "admin" + string(rune('a'+i)), Password: pw}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d first admins", wins)
	}
}

func TestCLICreatesAdminWithoutToken(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.SetupToken(); err != nil {
		t.Fatal(err)
	}
	// `stackhub user add --admin` calls CreateUser directly.
	e.addUser("root", RoleAdmin)
	if need, _ := e.s.NeedsSetup(); need {
		t.Fatal("NeedsSetup after the CLI created an admin")
	}
	if keys, _ := e.db.Keys(keySetup); len(keys) != 0 {
		t.Fatal("setup token still valid after an admin was created")
	}
}

func TestLastAdminProtection(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	e.addUser("bob", RoleMember)
	member, yes := RoleMember, true
	if err := e.s.DeleteUser("alice"); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("remove last admin: %v", err)
	}
	if _, err := e.s.UpdateUser("alice", UserUpdate{Role: &member}); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote last admin: %v", err)
	}
	if _, err := e.s.UpdateUser("alice", UserUpdate{Disabled: &yes}); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("disable last admin: %v", err)
	}
	if u, _ := e.s.GetUser("alice"); u.Role != RoleAdmin || u.Disabled {
		t.Fatalf("refused change applied: %+v", u)
	}
	// With a second admin, the first may go.
	admin := RoleAdmin
	if _, err := e.s.UpdateUser("bob", UserUpdate{Role: &admin}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.UpdateUser("alice", UserUpdate{Role: &member}); err != nil {
		t.Fatalf("demote one of two admins: %v", err)
	}
	if err := e.s.DeleteUser("bob"); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("remove the now last admin: %v", err)
	}
	if err := e.s.DeleteUser("alice"); err != nil {
		t.Fatalf("remove a member: %v", err)
	}
	if users, _ := e.s.Users(); len(users) != 1 || users[0].Name != "bob" {
		t.Fatalf("users = %+v", users)
	}
}

func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	for range 5 {
		e := newEnv(t)
		e.addUser("alice", RoleAdmin)
		e.addUser("bob", RoleAdmin)
		var wg sync.WaitGroup
		for _, n := range []string{"alice", "bob"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = e.s.DeleteUser(n)
			}()
		}
		wg.Wait()
		if need, _ := e.s.NeedsSetup(); need {
			t.Fatal("concurrent removals deleted every admin")
		}
	}
}

func TestUserValidation(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	cases := []struct {
		u    NewUser
		want error
	}{
		{NewUser{Name: "", Password: pw}, ErrInvalidUsername},
		{NewUser{Name: "-bob", Password: pw}, ErrInvalidUsername},
		{NewUser{Name: "bob smith", Password: pw}, ErrInvalidUsername},
		{NewUser{Name: "bob,admin", Password: pw}, ErrInvalidUsername},
		{NewUser{Name: "böb", Password: pw}, ErrInvalidUsername},
		{NewUser{Name: "../bob", Password: pw}, ErrInvalidUsername},
		{NewUser{Name: strings.Repeat("b", 33), Password: pw}, ErrInvalidUsername},
		{NewUser{Name: "bob", Email: "bob@x\r\nX-Stackhub-User: alice", Password: pw}, ErrInvalidEmail},
		{NewUser{Name: "bob", Email: "Bob <bob@x.example>", Password: pw}, ErrInvalidEmail},
		{NewUser{Name: "bob", Email: "a@b.example,c@d.example", Password: pw}, ErrInvalidEmail},
		{NewUser{Name: "bob", Groups: []string{"a,b"}, Password: pw}, ErrInvalidGroup},
		{NewUser{Name: "bob", Role: "root", Password: pw}, ErrInvalidRole},
		{NewUser{Name: "bob", Password: "short"}, ErrWeakPassword},
		{NewUser{Name: "bobbobbobbob", Password: "BOBBOBBOBBOB"}, ErrWeakPassword},
		{NewUser{Name: "bob", Password: strings.Repeat("x", MaxPasswordBytes+1)}, ErrWeakPassword},
		{NewUser{Name: "ALICE", Password: pw}, ErrUserExists},
	}
	for _, c := range cases {
		if _, err := e.s.CreateUser(c.u); !errors.Is(err, c.want) {
			t.Errorf("CreateUser(%q, %q): %v, want %v", c.u.Name, c.u.Email, err, c.want)
		}
	}
	u, err := e.s.CreateUser(NewUser{Name: " Bob.Smith ", Email: "bob@home.example", Groups: []string{"Media", "family", "media"}, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "bob.smith" || u.Role != RoleMember || strings.Join(u.Groups, ",") != "family,media" || u.Created.IsZero() {
		t.Fatalf("created %+v", u)
	}
	if _, err := e.s.GetUser("nobody"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("GetUser(nobody): %v", err)
	}
}

func TestPasswordHashFormatAndUpgrade(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	var rec userRecord
	if err := e.db.Get(keyUser+"alice", &rec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(rec.PasswordHash, pw) {
		t.Fatalf("hash %q", rec.PasswordHash)
	}
	// Same password, other user: other salt, other hash.
	e.addUser("bob", RoleMember)
	var bob userRecord
	_ = e.db.Get(keyUser+"bob", &bob)
	if bob.PasswordHash == rec.PasswordHash {
		t.Fatal("equal passwords share a hash")
	}
	// Raise the parameters: the next successful sign-in re-hashes.
	e.s.opts.Argon2.Time = 2
	if _, err := e.s.Login("alice", pw, ipA); err != nil {
		t.Fatal(err)
	}
	_ = e.db.Get(keyUser+"alice", &rec)
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$v=19$m=64,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %q", rec.PasswordHash)
	}
	if _, err := e.s.Login("alice", pw, ipA); err != nil {
		t.Fatalf("sign in after upgrade: %v", err)
	}
	// Hashes with absurd parameters are refused, not computed.
	for _, bad := range []string{
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"plain",
	} {
		if _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) accepted", bad)
		}
	}
}
