package portal

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
)

// The passkey sign-in of a locked-out user says the lockout in the page's
// language, as the password sign-in does (TestLockoutMessageInChinese),
// and signs nobody in.
func TestPasskeyLockoutInChinese(t *testing.T) {
	db, err := kv.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := auth.New(db, auth.Options{Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New()
	e := &env{t: t, p: New(Config{Auth: a, Registry: reg, Policies: registryPolicies{reg}, Domain: domain, HTTPSPort: 8443}), a: a, reg: reg, jar: map[string]string{}}
	withPasskeys(e)
	if _, err := a.CreateUser(auth.NewUser{Name: "ann", Role: auth.RoleAdmin, Password: "ann-password-1"}); err != nil {
		t.Fatal(err)
	}
	// ann's passkey user handle, as a registration stores it.
	handle := []byte("ann-handle-0001")
	if err := db.Put("auth/passkey-handle/"+hex.EncodeToString(handle), "ann"); err != nil {
		t.Fatal(err)
	}
	// Lock ann out with wrong passwords.
	locked := false
	for i := 0; i < 30 && !locked; i++ {
		page := e.do("GET", "/login", nil, "Accept-Language", zhAccept)
		r := e.do("POST", "/login", url.Values{"csrf": {csrf(t, page.body)}, "username": {"ann"}, "password": {"wrong-password-1"}}, "Accept-Language", zhAccept)
		locked = strings.Contains(r.body, "失败次数过多")
	}
	if !locked {
		t.Fatal("ann is not locked out")
	}
	page := e.do("GET", "/login/passkey", nil, "Accept-Language", zhAccept)
	r := e.do("POST", "/login/passkey/begin", url.Values{"csrf": {csrf(t, page.body)}})
	var c struct{ Token string }
	if r.status != 200 || json.Unmarshal([]byte(r.body), &c) != nil || c.Token == "" {
		t.Fatalf("begin: %d %s", r.status, r.body)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	client := b64([]byte(`{"type":"webauthn.get","challenge":"AAAA","origin":"https://my.` + domain + `:8443"}`))
	authData := b64(append(make([]byte, 32), 0x05, 0, 0, 0, 1))
	cred := `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"` + client +
		`","authenticatorData":"` + authData + `","signature":"AAAA","userHandle":"` + b64(handle) + `"}}`
	for _, lang := range []string{zhAccept, "en"} {
		r = e.do("POST", "/login/passkey/finish", url.Values{"csrf": {csrf(t, page.body)}, "token": {c.Token}, "credential": {cred}}, "Accept-Language", lang)
		if lang == zhAccept {
			if r.status != 429 || !strings.Contains(r.body, "失败次数过多：请在 ") || strings.Contains(r.body, "too many failed attempts") {
				t.Errorf("zh-CN passkey lockout: %d %s", r.status, r.body)
			}
		} else if r.status != 429 || !strings.Contains(r.body, "too many failed attempts: try again in ") {
			t.Errorf("en passkey lockout: %d %s", r.status, r.body)
		}
		if e.jar[SessionCookie] != "" {
			t.Fatal("a locked-out user signed in with a passkey")
		}
		// The token is used up: a new ceremony for the next try.
		r = e.do("POST", "/login/passkey/begin", url.Values{"csrf": {csrf(t, page.body)}})
		if json.Unmarshal([]byte(r.body), &c) != nil {
			t.Fatal(r.body)
		}
	}
}
