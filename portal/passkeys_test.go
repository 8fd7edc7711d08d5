package portal

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/auth"
)

func withPasskeys(e *env) {
	e.t.Helper()
	pk, err := auth.NewPasskeys(e.a, auth.PasskeyConfig{RPID: "my." + domain, Origin: "https://my." + domain + ":8443"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.p.MountPasskeys(pk)
}

func TestPasskeyPages(t *testing.T) {
	e := newEnv(t)
	withPasskeys(e)
	if _, err := e.a.CreateUser(auth.NewUser{Name: "zed", Role: auth.RoleAdmin, Password: "zed-password-1"}); err != nil {
		t.Fatal(err)
	}
	// Signed out: the account page leads to the sign-in, the sign-in page
	// offers passkeys, and the passkey page starts a usernameless ceremony
	// bound to this portal (rp id my.<domain>, user verification required).
	if r := e.do("GET", "/account/passkeys", nil); r.status != 302 || r.header.Get("Location") != "/login" {
		t.Fatalf("signed-out account page: %d %q", r.status, r.header.Get("Location"))
	}
	if r := e.do("GET", "/login?rd=%2Foidc%2Flogin%3Fid%3Dx", nil); !strings.Contains(r.body, `href="/login/passkey?rd=/oidc/login?id=x"`) &&
		!strings.Contains(r.body, `href="/login/passkey?rd=%2foidc%2flogin%3fid%3dx"`) {
		t.Errorf("login page has no passkey link keeping rd:\n%s", r.body)
	}
	page := e.do("GET", "/login/passkey", nil)
	if page.status != 200 || !strings.Contains(page.body, `id="passkey-go"`) {
		t.Fatalf("passkey page: %d", page.status)
	}
	if r := e.do("POST", "/login/passkey/begin", url.Values{"csrf": {"forged"}}); r.status != 403 {
		t.Fatalf("begin without the CSRF token: %d", r.status)
	}
	r := e.do("POST", "/login/passkey/begin", url.Values{"csrf": {csrf(t, page.body)}})
	var c struct {
		Options struct {
			PublicKey struct {
				RPID             string `json:"rpId"`
				UserVerification string `json:"userVerification"`
			} `json:"publicKey"`
		} `json:"options"`
		Token string `json:"token"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &c) != nil || c.Token == "" ||
		c.Options.PublicKey.RPID != "my."+domain || c.Options.PublicKey.UserVerification != "required" {
		t.Fatalf("begin: %d %s", r.status, r.body)
	}
	// A made-up answer signs nobody in.
	r = e.do("POST", "/login/passkey/finish", url.Values{"csrf": {csrf(t, page.body)}, "token": {c.Token}, "credential": {`{"id":"x","type":"public-key"}`}})
	if r.status < 400 || e.jar[SessionCookie] != "" {
		t.Fatalf("forged assertion: %d, session cookie %q", r.status, e.jar[SessionCookie])
	}

	// Signed in: the account page; registration options exclude nothing
	// yet and require a resident key with user verification.
	e.signIn()
	acct := e.do("GET", "/account/passkeys", nil)
	if acct.status != 200 || !strings.Contains(acct.body, `id="passkey-none"`) || !strings.Contains(acct.body, `id="passkey-required"`) {
		t.Fatalf("passkeys page: %d\n%s", acct.status, acct.body)
	}
	tok := csrf(t, acct.body)
	if r := e.do("POST", "/account/passkeys/begin", url.Values{}); r.status != 403 {
		t.Fatalf("registration without the CSRF token: %d", r.status)
	}
	r = e.do("POST", "/account/passkeys/begin", url.Values{}, "X-CSRF-Token", tok)
	if r.status != 200 || !strings.Contains(r.body, `"residentKey":"required"`) || !strings.Contains(r.body, `"userVerification":"required"`) {
		t.Fatalf("registration options: %d %s", r.status, r.body)
	}
	// The admin switch.
	if r := e.do("POST", "/account/passkeys/require", url.Values{"csrf": {tok}, "required": {"on"}}); r.status != 303 {
		t.Fatalf("require: %d", r.status)
	}
	if on, _ := e.a.PasskeysRequiredForAdmins(); !on {
		t.Fatal("requirement not saved")
	}
}

func TestPasskeyRequirementIsForAdmins(t *testing.T) {
	e := newEnv(t)
	withPasskeys(e)
	for _, u := range []auth.NewUser{{Name: "zed", Role: auth.RoleAdmin, Password: "zed-password-1"}, {Name: "max", Password: "max-password-1"}} {
		if _, err := e.a.CreateUser(u); err != nil {
			t.Fatal(err)
		}
	}
	e.signInAs("max", "max-password-1")
	page := e.do("GET", "/account/passkeys", nil)
	if page.status != 200 || strings.Contains(page.body, `id="passkey-required"`) {
		t.Fatalf("member's passkeys page: %d, admin switch shown: %v", page.status, strings.Contains(page.body, `id="passkey-required"`))
	}
	r := e.do("POST", "/account/passkeys/require", url.Values{"csrf": {csrf(t, page.body)}, "required": {"on"}})
	if r.status != 403 {
		t.Fatalf("member switching the requirement: %d", r.status)
	}
	if on, _ := e.a.PasskeysRequiredForAdmins(); on {
		t.Fatal("a member turned the requirement on")
	}
}
