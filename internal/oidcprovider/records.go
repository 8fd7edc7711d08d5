package oidcprovider

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/stackhub/stackhub/internal/kv"
)

const (
	prefixAuthRequest = "oidc/authreq/"
	prefixCode        = "oidc/code/"
	prefixAccess      = "oidc/access/"
	prefixRefresh     = "oidc/refresh/"

	authRequestTTL = 10 * time.Minute
	accessTokenTTL = 15 * time.Minute
	refreshTTL     = 30 * 24 * time.Hour
)

// ScopeGroups asks for the groups claim.
const ScopeGroups = "groups"

// authRequest is a pending authorization (op.AuthRequest), from the
// authorize endpoint until the code is exchanged.
type authRequest struct {
	ID            string    `json:"id"`
	Created       time.Time `json:"created"`
	ClientID      string    `json:"client_id"`
	RedirectURI   string    `json:"redirect_uri"`
	State         string    `json:"state,omitempty"`
	Nonce         string    `json:"nonce,omitempty"`
	Scopes        []string  `json:"scopes"`
	ResponseType  string    `json:"response_type"`
	ResponseMode  string    `json:"response_mode,omitempty"`
	Prompt        []string  `json:"prompt,omitempty"`
	Challenge     string    `json:"challenge,omitempty"`
	ChallengeMeth string    `json:"challenge_method,omitempty"`
	User          string    `json:"user,omitempty"`
	AMR           []string  `json:"amr,omitempty"`
	AuthTime      time.Time `json:"auth_time"`
	IsDone        bool      `json:"done,omitempty"`
}

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return a.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.User }
func (a *authRequest) Done() bool                         { return a.IsDone }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.Challenge == "" {
		return nil
	}
	// The method passes through, so the library refuses an unsupported one
	// instead of treating it as plain.
	return &oidc.CodeChallenge{Challenge: a.Challenge, Method: oidc.CodeChallengeMethod(a.ChallengeMeth)}
}

func (a *authRequest) expired(now time.Time) bool { return now.Sub(a.Created) > authRequestTTL }

// accessToken is an issued access token; the bearer value the client holds
// is the library's encryption of ID and subject.
type accessToken struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	User      string    `json:"user"`
	Scopes    []string  `json:"scopes"`
	Audience  []string  `json:"audience"`
	RefreshID string    `json:"refresh_id,omitempty"`
	Expires   time.Time `json:"expires"`
}

// refreshToken is stored under the digest of its value (ID), which the
// client holds and which is rotated at each use.
type refreshToken struct {
	ID       string    `json:"id"`
	ClientID string    `json:"client_id"`
	User     string    `json:"user"`
	Scopes   []string  `json:"scopes"`
	Audience []string  `json:"audience"`
	AMR      []string  `json:"amr,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	AccessID string    `json:"access_id,omitempty"`
	Expires  time.Time `json:"expires"`
}

// refreshRequest is op.RefreshTokenRequest over a refreshToken.
type refreshRequest struct{ *refreshToken }

func (r refreshRequest) GetAMR() []string            { return r.AMR }
func (r refreshRequest) GetAudience() []string       { return r.Audience }
func (r refreshRequest) GetAuthTime() time.Time      { return r.AuthTime }
func (r refreshRequest) GetClientID() string         { return r.ClientID }
func (r refreshRequest) GetScopes() []string         { return r.Scopes }
func (r refreshRequest) GetSubject() string          { return r.User }
func (r refreshRequest) SetCurrentScopes(s []string) { r.Scopes = s }

// deleteTokensTxn deletes every access and refresh token for which match
// (client id, user) is true.
func deleteTokensTxn(t *kv.Txn, match func(clientID, user string) bool) error {
	for _, k := range t.Keys(prefixAccess) {
		var at accessToken
		if err := t.Get(k, &at); err != nil {
			continue
		}
		if match(at.ClientID, at.User) {
			if err := t.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range t.Keys(prefixRefresh) {
		var rt refreshToken
		if err := t.Get(k, &rt); err != nil {
			continue
		}
		if match(rt.ClientID, rt.User) {
			if err := t.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is a domain-separated SHA-256 of a high-entropy secret (codes,
// refresh tokens, client secrets): a copy of the database holds none of
// them in usable form.
func digest(domain, secret string) string {
	h := sha256.Sum256([]byte("stackhub-oidc/" + domain + "\x00" + secret))
	return hex.EncodeToString(h[:])
}

func hasScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
