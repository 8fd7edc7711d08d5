package auth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSessionIdleExpiry(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	if _, id, err := e.s.CheckSession(ns.Token); err != nil || id.User != "alice" || !id.IsAdmin() {
		t.Fatalf("fresh session: %+v, %v", id, err)
	}
	// Activity keeps it alive past one idle period…
	for range 3 {
		e.clk.Add(DefaultSessionIdle - time.Minute)
		if _, _, err := e.s.CheckSession(ns.Token); err != nil {
			t.Fatalf("active session expired: %v", err)
		}
	}
	// …and survives a restart (activity is in kv).
	e.reopen()
	e.clk.Add(DefaultSessionIdle - 2*time.Minute)
	if _, _, err := e.s.CheckSession(ns.Token); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	// Idle for the whole period: signed out.
	e.clk.Add(DefaultSessionIdle)
	if _, _, err := e.s.CheckSession(ns.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle session: %v", err)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	app := e.appToken(ns, vault)
	if ns.Session.Expires != t0.Add(DefaultSessionMax) {
		t.Fatalf("expires %v", ns.Session.Expires)
	}
	for e.clk.Now().Before(t0.Add(DefaultSessionMax - time.Hour)) {
		e.clk.Add(time.Hour)
		if _, _, err := e.s.CheckSession(ns.Token); err != nil {
			t.Fatalf("at %v: %v", e.clk.Now().Sub(t0), err)
		}
		if _, ok := e.s.CheckApp(app, vault); !ok {
			t.Fatalf("app token at %v", e.clk.Now().Sub(t0))
		}
	}
	e.clk.Add(time.Hour)
	if _, _, err := e.s.CheckSession(ns.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("past absolute expiry: %v", err)
	}
	if _, ok := e.s.CheckApp(app, vault); ok {
		t.Fatal("app token past absolute expiry")
	}
}

func TestAppActivityKeepsSessionAliveAndIdleEndsApps(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	app := e.appToken(ns, vault)
	// Use only the app for longer than the idle period.
	for range 4 {
		e.clk.Add(DefaultSessionIdle / 2)
		if _, ok := e.s.CheckApp(app, vault); !ok {
			t.Fatal("app token idle-expired while in use")
		}
	}
	// Housekeeping writes the app activity to kv, so after a restart the
	// portal session is still alive (and the app can be reopened).
	if err := e.s.Maintain(); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if _, ok := e.s.CheckApp(app, vault); ok {
		t.Fatal("app tokens are documented as lost on restart")
	}
	e.appToken(ns, vault)
	// Now nothing happens for the idle period: portal and app sessions end.
	app = e.appToken(ns, wiki)
	e.clk.Add(DefaultSessionIdle)
	if _, ok := e.s.CheckApp(app, wiki); ok {
		t.Fatal("app token alive after idle period")
	}
	if _, _, err := e.s.CheckSession(ns.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("portal session after idle period: %v", err)
	}
}

func TestRevokeOneAndAllSessions(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, secret, _ := e.enrol("alice")
	e.clk.Add(2 * totpPeriod * time.Second)
	laptop, err := e.login("alice", secret, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(totpPeriod * time.Second)
	phone, err := e.login("alice", secret, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	lv, lw := e.appToken(laptop, vault), e.appToken(laptop, wiki)
	pv := e.appToken(phone, vault)

	list, err := e.s.Sessions("alice")
	if err != nil || len(list) != 3 { // enrolment, laptop, phone
		t.Fatalf("sessions: %d, %v", len(list), err)
	}
	if list[0].CSRF != "" {
		t.Fatal("session list exposes CSRF tokens")
	}

	// Sign out on the laptop: every app of the laptop is signed out at once.
	if err := e.s.Logout(laptop.Token); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{lv, lw} {
		if _, ok := e.s.CheckApp(tok, vault); ok {
			t.Fatal("app token alive after logout")
		}
		if _, ok := e.s.CheckApp(tok, wiki); ok {
			t.Fatal("app token alive after logout")
		}
	}
	if _, _, err := e.s.CheckSession(laptop.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("portal session after logout: %v", err)
	}
	if _, ok := e.s.CheckApp(pv, vault); !ok {
		t.Fatal("logout on the laptop signed the phone out")
	}
	if err := e.s.Logout(laptop.Token); err != nil {
		t.Fatalf("second logout: %v", err)
	}

	// Revoke by ID from the sessions page; only the owner's IDs count.
	e.addUser("bob", RoleMember)
	if err := e.s.RevokeSession("bob", phone.Session.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("revoking another user's session: %v", err)
	}
	if _, ok := e.s.CheckApp(pv, vault); !ok {
		t.Fatal("another user revoked alice's session")
	}
	if err := e.s.RevokeSession("alice", phone.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(pv, vault); ok {
		t.Fatal("app token alive after its session was revoked")
	}

	// Sign out everywhere.
	e.clk.Add(totpPeriod * time.Second)
	a, _ := e.login("alice", secret, e.clk.Now())
	e.clk.Add(totpPeriod * time.Second)
	b, _ := e.login("alice", secret, e.clk.Now())
	at, bt := e.appToken(a, vault), e.appToken(b, wiki)
	if err := e.s.RevokeUserSessions("alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(at, vault); ok {
		t.Fatal("app token alive after sign out everywhere")
	}
	if _, ok := e.s.CheckApp(bt, wiki); ok {
		t.Fatal("app token alive after sign out everywhere")
	}
	for _, ns := range []NewSession{a, b} {
		if _, _, err := e.s.CheckSession(ns.Token); !errors.Is(err, ErrNoSession) {
			t.Fatalf("session after sign out everywhere: %v", err)
		}
	}
	if list, _ := e.s.Sessions("alice"); len(list) != 0 {
		t.Fatalf("%d sessions left", len(list))
	}
}

func TestLogoutFromAppSignsOutEverywhereOfThatSession(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	v, w := e.appToken(ns, vault), e.appToken(ns, wiki)
	if err := e.s.LogoutApp(v, wiki); err != nil { // wrong host: ignored
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(v, vault); !ok {
		t.Fatal("logout with a token for another host took effect")
	}
	if err := e.s.LogoutApp(v, vault); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(w, wiki); ok {
		t.Fatal("other app still signed in")
	}
	if _, _, err := e.s.CheckSession(ns.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("portal session: %v", err)
	}
}

func TestUserRemovalAndChangesReachAppTokensAtOnce(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	e.addUser("bob", RoleMember, "family")
	ns, _, _ := e.enrol("bob")
	app := e.appToken(ns, vault)
	id, ok := e.s.CheckApp(app, vault)
	if !ok || id.User != "bob" || id.Email != "bob@home.example" || !slices.Equal(id.Groups, []string{"family"}) || id.Role != RoleMember {
		t.Fatalf("identity %+v, %v", id, ok)
	}

	// Group and role changes are seen by the next request.
	groups := []string{"Media", "family"}
	admin := RoleAdmin
	if _, err := e.s.UpdateUser("bob", UserUpdate{Groups: &groups, Role: &admin}); err != nil {
		t.Fatal(err)
	}
	id, ok = e.s.CheckApp(app, vault)
	if !ok || !slices.Equal(id.Groups, []string{"family", "media"}) || !id.IsAdmin() {
		t.Fatalf("after update: %+v, %v", id, ok)
	}

	// Disabling signs out at once.
	yes, no := true, false
	if _, err := e.s.UpdateUser("bob", UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(app, vault); ok {
		t.Fatal("disabled user's app token still works")
	}
	if _, _, err := e.s.CheckSession(ns.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("disabled user's portal session: %v", err)
	}
	if _, err := e.s.UpdateUser("bob", UserUpdate{Disabled: &no}); err != nil {
		t.Fatal(err)
	}

	// Removal kills the app tokens of every session at once.
	e.clk.Add(2 * totpPeriod * time.Second)
	ch, _ := e.s.Login("bob", pw, ipA)
	if _, err := e.s.LoginRecovery(ch.Token, "not-a-code", ipA); !errors.Is(err, ErrInvalidRecoveryCode) {
		t.Fatalf("bad recovery code: %v", err)
	}
	if err := e.s.ResetTOTP("bob"); err != nil {
		t.Fatal(err)
	}
	ns2, _, _ := e.enrol("bob")
	app2 := e.appToken(ns2, wiki)
	if err := e.s.DeleteUser("bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(app2, wiki); ok {
		t.Fatal("removed user's app token still works")
	}
	if _, _, err := e.s.CheckSession(ns2.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("removed user's portal session: %v", err)
	}
	// Recreating a user of the same name does not bring anything back.
	e.addUser("bob", RoleMember)
	if _, _, err := e.s.CheckSession(ns2.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("old session of a recreated user: %v", err)
	}
}

func TestPasswordChangeSignsOutEverywhere(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	app := e.appToken(ns, vault)
	if err := e.s.SetPassword("alice", "short"); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
	if err := e.s.SetPassword("alice", "a much better passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(app, vault); ok {
		t.Fatal("app token survived a password change")
	}
	if _, err := e.s.Login("alice", pw, ipA); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if err := e.s.VerifyPassword("alice", "a much better passphrase", ipA); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestTicketSingleUseExpiryAndHostBinding(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")

	// Redeemed once, with the bound return path.
	tk, err := e.s.IssueTicket(ns.Token, "Vault.Home.Example", "/some/page?x=1", BindingOf(testNonce))
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.s.RedeemTicket(tk, "vault.home.example:443", testNonce)
	if err != nil {
		t.Fatal(err)
	}
	if as.ReturnPath != "/some/page?x=1" || as.Identity.User != "alice" || !as.Expires.Equal(ns.Session.Expires) {
		t.Fatalf("redeemed %+v", as)
	}
	if _, err := e.s.RedeemTicket(tk, vault, testNonce); !errors.Is(err, ErrTicket) {
		t.Fatalf("second redemption: %v", err)
	}

	// The app token works on its host only (case, port and trailing dot
	// do not matter), not on another app.
	for _, h := range []string{vault, "VAULT.home.example", "vault.home.example:8443", "vault.home.example."} {
		if _, ok := e.s.CheckApp(as.Token, h); !ok {
			t.Fatalf("token refused on %q", h)
		}
	}
	for _, h := range []string{wiki, portal, "", "vault.home.example.evil", "evil.vault.home.example"} {
		if _, ok := e.s.CheckApp(as.Token, h); ok {
			t.Fatalf("token accepted on %q", h)
		}
	}
	// Tampered tokens are refused.
	bad := []byte(as.Token)
	bad[len(bad)-1] ^= 1
	if _, ok := e.s.CheckApp(string(bad), vault); ok {
		t.Fatal("tampered token accepted")
	}
	if _, ok := e.s.CheckApp(as.Token[:len(as.Token)-1], vault); ok {
		t.Fatal("truncated token accepted")
	}

	// A ticket for one host cannot be redeemed on another, and the attempt
	// uses it up.
	tk, _ = e.s.IssueTicket(ns.Token, vault, "/", BindingOf(testNonce))
	if _, err := e.s.RedeemTicket(tk, wiki, testNonce); !errors.Is(err, ErrTicket) {
		t.Fatalf("redeemed on another host: %v", err)
	}
	if _, err := e.s.RedeemTicket(tk, vault, testNonce); !errors.Is(err, ErrTicket) {
		t.Fatalf("redeemed after a failed attempt: %v", err)
	}

	// Expiry: 60 s.
	tk, _ = e.s.IssueTicket(ns.Token, vault, "/", BindingOf(testNonce))
	e.clk.Add(DefaultTicketTTL)
	if _, err := e.s.RedeemTicket(tk, vault, testNonce); !errors.Is(err, ErrTicket) {
		t.Fatalf("expired ticket: %v", err)
	}
	tk, _ = e.s.IssueTicket(ns.Token, vault, "/", BindingOf(testNonce))
	e.clk.Add(DefaultTicketTTL - time.Second)
	if _, err := e.s.RedeemTicket(tk, vault, testNonce); err != nil {
		t.Fatalf("ticket within its lifetime: %v", err)
	}

	// A ticket of a revoked session is worthless.
	tk, _ = e.s.IssueTicket(ns.Token, wiki, "/", BindingOf(testNonce))
	if err := e.s.Logout(ns.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RedeemTicket(tk, wiki, testNonce); err == nil {
		t.Fatal("ticket of a revoked session redeemed")
	}
	if _, err := e.s.IssueTicket(ns.Token, wiki, "/", BindingOf(testNonce)); !errors.Is(err, ErrNoSession) {
		t.Fatalf("ticket for a revoked session: %v", err)
	}
}

func TestTicketRefusesUnsafeReturnPaths(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	for _, p := range []string{"//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/%2f%2fevil.example", "relative"} {
		if _, err := e.s.IssueTicket(ns.Token, vault, p, BindingOf(testNonce)); !errors.Is(err, ErrBadReturn) {
			t.Fatalf("return path %q: %v", p, err)
		}
	}
	if _, err := e.s.IssueTicket(ns.Token, "evil/host", "/", BindingOf(testNonce)); !errors.Is(err, ErrBadReturn) {
		t.Fatalf("bad host: %v", err)
	}
	if _, err := e.s.IssueTicket("no such session token", vault, "/", BindingOf(testNonce)); !errors.Is(err, ErrNoSession) {
		t.Fatalf("no session: %v", err)
	}
}

func TestRedeemingAgainReplacesTheAppToken(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	first := e.appToken(ns, vault)
	second := e.appToken(ns, vault)
	if _, ok := e.s.CheckApp(first, vault); ok {
		t.Fatal("replaced app token still valid")
	}
	if _, ok := e.s.CheckApp(second, vault); !ok {
		t.Fatal("new app token refused")
	}
}

func TestCSRFToken(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	sess, _, err := e.s.CheckSession(ns.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.CSRF) < 40 || sess.CSRF != ns.Session.CSRF {
		t.Fatalf("CSRF token %q", sess.CSRF)
	}
	if !sess.ValidCSRF(ns.Session.CSRF) {
		t.Fatal("right CSRF token refused")
	}
	for _, bad := range []string{"", sess.CSRF[1:], sess.CSRF + "x", ns.Token} {
		if sess.ValidCSRF(bad) {
			t.Fatalf("CSRF token %q accepted", bad)
		}
	}
	if (Session{}).ValidCSRF("") {
		t.Fatal("empty session accepted an empty CSRF token")
	}
	// Another session has another token.
	e.clk.Add(time.Minute)
	if err := e.s.SetTOTPRequired(false); err != nil {
		t.Fatal(err)
	}
	e.addUser("bob", RoleMember)
	ch, _ := e.s.Login("bob", pw, ipA)
	if ch.Session.Session.CSRF == sess.CSRF || sess.ValidCSRF(ch.Session.Session.CSRF) {
		t.Fatal("CSRF tokens shared between sessions")
	}
}

func TestMaintainDeletesExpiredSessions(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	e.appToken(ns, vault)
	e.clk.Add(DefaultSessionIdle)
	if err := e.s.Maintain(); err != nil {
		t.Fatal(err)
	}
	keys, err := e.db.Keys(keySession)
	if err != nil || len(keys) != 0 {
		t.Fatalf("session keys after expiry: %v, %v", keys, err)
	}
	if idx, _ := e.db.Keys(keyUserSession); len(idx) != 0 {
		t.Fatalf("index keys after expiry: %v", idx)
	}
	e.s.mu.Lock()
	n := len(e.s.live) + len(e.s.liveUsers)
	e.s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d live entries after expiry", n)
	}
}

func TestSessionTokenIsNotStored(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	keys, _ := e.db.Keys("auth/")
	for _, k := range keys {
		var raw map[string]any
		_ = e.db.Get(k, &raw)
		if containsString(k, ns.Token) || containsString(raw, ns.Token) {
			t.Fatalf("session token stored in %s", k)
		}
	}
}

func containsString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case map[string]any:
		for _, y := range x {
			if containsString(y, s) {
				return true
			}
		}
	case []any:
		for _, y := range x {
			if containsString(y, s) {
				return true
			}
		}
	}
	return false
}

func TestRevokedFlagAloneStopsAppTokens(t *testing.T) {
	// Revocation flips the live session's flag before the tokens are
	// removed from the map; a request in between must already fail.
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ns, _, _ := e.enrol("alice")
	app := e.appToken(ns, vault)
	e.s.mu.Lock()
	e.s.live[ns.Session.ID].revoked.Store(true)
	e.s.mu.Unlock()
	if _, ok := e.s.CheckApp(app, vault); ok {
		t.Fatal("token of a revoked session accepted")
	}
}

func TestCheckAppConcurrentWithChanges(t *testing.T) {
	// Run with -race: the hot path against user changes, new tokens and
	// revocation.
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	e.addUser("bob", RoleMember)
	ns, _, _ := e.enrol("bob")
	app := e.appToken(ns, vault)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if id, ok := e.s.CheckApp(app, vault); ok && id.User != "bob" {
					t.Errorf("identity %+v", id)
					return
				}
			}
		}()
	}
	for i := range 20 {
		g := []string{fmt.Sprintf("g%d", i)}
		if _, err := e.s.UpdateUser("bob", UserUpdate{Groups: &g}); err != nil {
			t.Fatal(err)
		}
		e.appToken(ns, wiki)
	}
	if err := e.s.Logout(ns.Token); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.CheckApp(app, vault); ok {
		t.Error("token alive after logout")
	}
	close(stop)
	wg.Wait()
}

// TestTicketRedeemsOnlyInTheBrowserThatAskedForIt is login CSRF: the
// attacker's own ticket, opened in a victim's browser (no nonce, or the
// victim's own nonce), signs nobody in, and the ticket is gone.
func TestTicketRedeemsOnlyInTheBrowserThatAskedForIt(t *testing.T) {
	e := newEnv(t)
	e.addUser("mallory", RoleMember)
	ns, _, _ := e.enrol("mallory")
	attackerNonce, victimNonce := NewBrowserNonce(), NewBrowserNonce()
	for _, nonce := range []string{"", victimNonce} {
		tk, err := e.s.IssueTicket(ns.Token, vault, "/", BindingOf(attackerNonce))
		if err != nil {
			t.Fatal(err)
		}
		if as, err := e.s.RedeemTicket(tk, vault, nonce); !errors.Is(err, ErrTicketBrowser) || as.Token != "" {
			t.Errorf("victim's browser (nonce %q) redeemed the attacker's ticket: %+v %v", nonce, as, err)
		}
		if _, err := e.s.RedeemTicket(tk, vault, attackerNonce); !errors.Is(err, ErrTicket) {
			t.Errorf("ticket survived a refused redemption: %v", err)
		}
	}
	if _, err := e.s.IssueTicket(ns.Token, vault, "/", ""); !errors.Is(err, ErrBadReturn) {
		t.Errorf("unbound ticket issued: %v", err)
	}
	u, _ := url.Parse(ReturnWithBinding("https://vault.home.example/x?y=1#old", attackerNonce))
	if u.Path != "/x" || u.RawQuery != "y=1" || ReturnBinding(u) != BindingOf(attackerNonce) {
		t.Errorf("return URL %s: binding %q", u, ReturnBinding(u))
	}
}
