package portal

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// secondBrowser signs ann in on another browser with a recovery code (the
// TOTP step of the first sign-in is taken) and returns it.
func secondBrowser(t *testing.T, e *env, password, code string) *env {
	t.Helper()
	other := newEnvSharing(e)
	page := other.do("GET", "/login", nil, "User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")
	r := other.do("POST", "/login", url.Values{"csrf": {csrf(t, page.body)}, "username": {"ann"}, "password": {password}})
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login/code") {
		t.Fatalf("second sign-in: %d %s", r.status, r.header.Get("Location"))
	}
	page = other.do("GET", r.header.Get("Location"), nil)
	if r := other.do("POST", "/login/code", url.Values{"csrf": {csrf(t, page.body)}, "recovery": {code}},
		"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"); r.status != 303 {
		t.Fatalf("recovery code: %d %s", r.status, r.body)
	}
	return other
}

func recoveryCodes(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<li>([^<]+)</li>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// A password change needs the current password, ends every other session
// and keeps this one; the new password signs in, the old one does not.
func TestAccountPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	codes := recoveryCodes(e.lastBody)
	other := secondBrowser(t, e, "ann-password-1", codes[0])

	acct := e.do("GET", "/account", nil)
	if !strings.Contains(acct.body, "Safari, iPhone") || !strings.Contains(acct.body, "192.0.2.1") {
		t.Errorf("the sessions list shows no device or address:\n%s", acct.body)
	}
	tok := csrf(t, acct.body)
	r := e.do("POST", "/account/password", url.Values{"csrf": {tok}, "current": {"wrong-password-9"}, "new": {"ann-new-password-2"}, "repeat": {"ann-new-password-2"}})
	if r.status != 400 || !strings.Contains(r.body, "current password is not right") {
		t.Fatalf("wrong current password: %d\n%s", r.status, r.body)
	}
	if other.do("GET", "/", nil).status != 200 {
		t.Fatal("a refused change signed the other browser out")
	}
	r = e.do("POST", "/account/password", url.Values{"csrf": {tok}, "current": {"ann-password-1"}, "new": {"ann-new-password-2"}, "repeat": {"ann-new-password-2"}})
	if r.status != 200 || !strings.Contains(r.body, "Password changed") {
		t.Fatalf("change: %d\n%s", r.status, r.body)
	}
	if r := other.do("GET", "/", nil); r.status != 302 {
		t.Errorf("the other session survived the password change: %d", r.status)
	}
	if r := e.do("GET", "/", nil); r.status != 200 {
		t.Errorf("this browser was signed out: %d", r.status)
	}
	if _, err := e.a.Login("ann", "ann-password-1", "192.0.2.9"); err == nil {
		t.Error("the old password still signs in")
	}
	if _, err := e.a.Login("ann", "ann-new-password-2", "192.0.2.9"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

// New recovery codes need the password; the old ones are refused after.
func TestAccountNewRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	old := recoveryCodes(e.lastBody)
	acct := e.do("GET", "/account", nil)
	if r := e.do("POST", "/account/recovery-codes", url.Values{"csrf": {csrf(t, acct.body)}, "current": {"nope-nope-nope"}}); r.status != 400 {
		t.Fatalf("without the password: %d", r.status)
	}
	r := e.do("POST", "/account/recovery-codes", url.Values{"csrf": {csrf(t, acct.body)}, "current": {"ann-password-1"}})
	fresh := recoveryCodes(r.body)
	if r.status != 200 || len(fresh) != len(old) {
		t.Fatalf("new codes: %d\n%s", r.status, r.body)
	}
	try := func(code string) int {
		b := newEnvSharing(e)
		page := b.do("GET", "/login", nil)
		lr := b.do("POST", "/login", url.Values{"csrf": {csrf(t, page.body)}, "username": {"ann"}, "password": {"ann-password-1"}})
		page = b.do("GET", lr.header.Get("Location"), nil)
		return b.do("POST", "/login/code", url.Values{"csrf": {csrf(t, page.body)}, "recovery": {code}}).status
	}
	if st := try(old[1]); st == 303 {
		t.Error("an old recovery code signed in after regeneration")
	}
	if st := try(fresh[0]); st != 303 {
		t.Errorf("a new recovery code: %d", st)
	}
}

// The e-mail changes; a new authenticator needs the password and a code
// of the new secret, and then the new secret is the one that counts.
func TestAccountEmailAndNewAuthenticator(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	acct := e.do("GET", "/account", nil)
	tok := csrf(t, acct.body)
	if r := e.do("POST", "/account/email", url.Values{"csrf": {tok}, "email": {"ann@home.example"}}); r.status != 200 {
		t.Fatalf("e-mail: %d", r.status)
	}
	if u, _ := e.a.GetUser("ann"); u.Email != "ann@home.example" {
		t.Errorf("e-mail not saved: %q", u.Email)
	}
	if r := e.do("POST", "/account/email", url.Values{"csrf": {tok}, "email": {"not an address"}}); r.status != 400 {
		t.Errorf("bad e-mail accepted: %d", r.status)
	}
	page := e.do("GET", "/account/totp", nil)
	key := regexp.MustCompile(`id="manualkey">([A-Z2-7 ]+)<`).FindStringSubmatch(page.body)
	if key == nil {
		t.Fatalf("new authenticator page:\n%s", page.body)
	}
	secret := strings.ReplaceAll(key[1], " ", "")
	code, _ := totp.GenerateCode(secret, time.Now())
	if r := e.do("POST", "/account/totp", url.Values{"csrf": {tok}, "current": {"wrong-password-0"}, "code": {code}}); r.status != 400 {
		t.Fatalf("without the password: %d", r.status)
	}
	r := e.do("POST", "/account/totp", url.Values{"csrf": {tok}, "current": {"ann-password-1"}, "code": {code}})
	if r.status != 200 || len(recoveryCodes(r.body)) == 0 {
		t.Fatalf("confirm: %d\n%s", r.status, r.body)
	}
	ch, err := e.a.Login("ann", "ann-password-1", "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if _, err := e.a.LoginTOTP(ch.Token, next, "192.0.2.9"); err != nil {
		t.Errorf("the new authenticator's code: %v", err)
	}
}

func TestDeviceOf(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36":       "Chrome, Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0":                        "Firefox, Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.1 Safari/605.1.15":       "Safari, macOS",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 EdgA/120 Edg/120.0": "Edge, Android",
		"": "",
	} {
		if got := deviceOf(ua); got != want {
			t.Errorf("deviceOf(%q) = %q, want %q", ua, got, want)
		}
	}
}
