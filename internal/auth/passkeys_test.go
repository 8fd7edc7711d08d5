package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// softKey is a software authenticator holding one discoverable ES256
// credential: enough of CTAP2 to answer the portal's ceremonies the way a
// browser would hand them on (the real browser path is tested with
// Chromium's virtual authenticator in cmd/stackhub).
type softKey struct {
	t      *testing.T
	rpID   string
	origin string
	key    *ecdsa.PrivateKey
	id     []byte
	handle []byte
	count  uint32
	uv     bool // user verified (PIN or biometric)
}

func newSoftKey(t *testing.T) *softKey {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{t: t, rpID: portal, origin: "https://" + portal, key: k, id: id, uv: true}
}

var b64u = base64.RawURLEncoding

func (k *softKey) clientData(typ string, options []byte, path string) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		k.t.Fatalf("options %s: %v", options, err)
	}
	if typ == "webauthn.create" {
		h, err := b64u.DecodeString(o.PublicKey.User.ID)
		if err != nil {
			k.t.Fatal(err)
		}
		k.handle = h
	}
	cd, _ := json.Marshal(map[string]any{"type": typ, "challenge": o.PublicKey.Challenge, "origin": k.origin, "crossOrigin": false})
	return cd
}

func (k *softKey) authData(attested bool) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	flags := byte(0x01) // user present
	if k.uv {
		flags |= 0x04
	}
	if attested {
		flags |= 0x40
	}
	k.count++
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.id)))
		out = append(out, k.id...)
		x, y := k.key.PublicKey.X.FillBytes(make([]byte, 32)), k.key.PublicKey.Y.FillBytes(make([]byte, 32))
		cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
		if err != nil {
			k.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

// create answers navigator.credentials.create(options).
func (k *softKey) create(options []byte) []byte {
	cd := k.clientData("webauthn.create", options, "")
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "attestationObject": b64u.EncodeToString(att)}})
	return b
}

// get answers navigator.credentials.get(options).
func (k *softKey) get(options []byte) []byte {
	cd := k.clientData("webauthn.get", options, "")
	ad := k.authData(false)
	h := sha256.Sum256(cd)
	sum := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, sum[:])
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "authenticatorData": b64u.EncodeToString(ad),
			"signature": b64u.EncodeToString(sig), "userHandle": b64u.EncodeToString(k.handle)}})
	return b
}

func newPasskeys(t *testing.T, e *env) *Passkeys {
	p, err := NewPasskeys(e.s, PasskeyConfig{RPID: portal, Origin: "https://" + portal})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func register(t *testing.T, p *Passkeys, k *softKey, user string) PasskeyInfo {
	t.Helper()
	opts, tok, err := p.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.FinishRegistration(user, tok, "laptop", k.create(opts))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return info
}

func passkeyLogin(p *Passkeys, k *softKey) (NewSession, string, error) {
	opts, tok, err := p.BeginLogin()
	if err != nil {
		return NewSession{}, "", err
	}
	return p.FinishLogin(tok, k.get(opts), ipA)
}

func TestPasskeyRegisterAndSignIn(t *testing.T) {
	e := newEnv(t)
	e.addUser("ann", RoleAdmin)
	p := newPasskeys(t, e)
	k := newSoftKey(t)
	info := register(t, p, k, "ann")
	if list, _ := p.List("ann"); len(list) != 1 || list[0].ID != info.ID || list[0].Name != "laptop" {
		t.Fatalf("list = %+v", list)
	}
	ns, who, err := passkeyLogin(p, k)
	if err != nil || who != "ann" {
		t.Fatalf("passkey sign-in: %q %v", who, err)
	}
	if _, id, err := e.s.CheckSession(ns.Token); err != nil || id.User != "ann" {
		t.Fatalf("session from a passkey: %v %+v", err, id)
	}
	// A second passkey works alongside the first.
	k2 := newSoftKey(t)
	register(t, p, k2, "ann")
	if _, _, err := passkeyLogin(p, k2); err != nil {
		t.Fatalf("second passkey: %v", err)
	}
	// Removing one ends it, and only it.
	if err := p.Remove("ann", info.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := passkeyLogin(p, k); !errors.Is(err, ErrPasskeyFailed) {
		t.Fatalf("removed passkey: %v, want refused", err)
	}
	if _, _, err := passkeyLogin(p, k2); err != nil {
		t.Fatalf("remaining passkey: %v", err)
	}
}

func TestPasskeyRefusals(t *testing.T) {
	e := newEnv(t)
	e.addUser("ann", RoleMember)
	p := newPasskeys(t, e)
	k := newSoftKey(t)

	// Registration without user verification is refused and stores nothing.
	k.uv = false
	opts, tok, err := p.BeginRegistration("ann")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.FinishRegistration("ann", tok, "x", k.create(opts)); err == nil {
		t.Fatal("a credential without user verification was registered")
	}
	if list, _ := p.List("ann"); len(list) != 0 {
		t.Fatalf("stored after refusal: %+v", list)
	}
	k.uv = true
	register(t, p, k, "ann")

	// An assertion without user verification is one factor: refused.
	k.uv = false
	if _, _, err := passkeyLogin(p, k); err == nil {
		t.Fatal("sign-in without user verification accepted")
	}
	k.uv = true

	// Another origin (an app subdomain) is refused.
	k.origin = "https://vault.home.example"
	if _, _, err := passkeyLogin(p, k); err == nil {
		t.Fatal("assertion from another origin accepted")
	}
	k.origin = "https://" + portal

	// A ceremony token works once: a replayed answer is refused.
	opts, tok, _ = p.BeginLogin()
	answer := k.get(opts)
	if _, _, err := p.FinishLogin(tok, answer, ipA); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.FinishLogin(tok, answer, ipA); err == nil {
		t.Fatal("replayed assertion accepted")
	}
	// A counter that goes backwards (a cloned authenticator) is refused.
	k.count = 0
	if _, _, err := passkeyLogin(p, k); err == nil {
		t.Fatal("sign counter regression accepted")
	}
}

func TestPasskeyDisabledAndRemovedUsers(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", RoleMember)
	p := newPasskeys(t, e)
	k := newSoftKey(t)
	register(t, p, k, "bob")
	yes := true
	if _, err := e.s.UpdateUser("bob", UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := passkeyLogin(p, k); err == nil {
		t.Fatal("disabled user signed in with a passkey")
	}
	if err := e.s.DeleteUser("bob"); err != nil {
		t.Fatal(err)
	}
	// A new user of the same name does not inherit the old passkeys.
	e.addUser("bob", RoleMember)
	if _, _, err := passkeyLogin(p, k); err == nil {
		t.Fatal("a removed user's passkey signed in as the new user of that name")
	}
}

func TestPasskeysRequiredForAdmins(t *testing.T) {
	e := newEnv(t)
	e.addUser("ann", RoleAdmin)
	_, secret, codes := e.enrol("ann")
	p := newPasskeys(t, e)
	if err := e.s.SetPasskeysRequiredForAdmins(true); err != nil {
		t.Fatal(err)
	}
	// Without a passkey yet, password + code still work (to add one).
	e.clk.Add(30 * time.Second)
	if _, err := e.login("ann", secret, e.clk.Now()); err != nil {
		t.Fatalf("admin without passkey: %v", err)
	}
	k := newSoftKey(t)
	register(t, p, k, "ann")
	e.clk.Add(30 * time.Second)
	if _, err := e.login("ann", secret, e.clk.Now()); !errors.Is(err, ErrPasskeyRequired) {
		t.Fatalf("admin with passkey, password + code: %v, want ErrPasskeyRequired", err)
	}
	// Lost device: a recovery code still works.
	ch, err := e.s.Login("ann", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.LoginRecovery(ch.Token, codes[0], ipA); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if _, _, err := passkeyLogin(p, k); err != nil {
		t.Fatalf("passkey: %v", err)
	}
	// Off again: password + code work.
	e.s.SetPasskeysRequiredForAdmins(false)
	e.clk.Add(30 * time.Second)
	if _, err := e.login("ann", secret, e.clk.Now()); err != nil {
		t.Fatalf("requirement off: %v", err)
	}
}
