package oidcprovider

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stackhub/stackhub/internal/kv"
)

const prefixClient = "oidc/client/"

// clientRecord is a registered relying party: one per app that speaks OIDC.
type clientRecord struct {
	ID           string    `json:"id"`
	App          string    `json:"app"`
	SecretDigest string    `json:"secret_digest"`
	RedirectURIs []string  `json:"redirect_uris"`
	Created      time.Time `json:"created"`
}

// Credentials is what an app needs to sign users in with StackHub.
type Credentials struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURIs []string
}

// ClientID is the client id StackHub registers for an app.
func ClientID(app string) string { return "stackhub-" + app }

// RegisterClient registers (or re-registers, with a new secret) the client
// of app with the given redirect URIs, which must be absolute https URLs
// (http only on loopback hosts, for tests). The secret is returned once;
// kv keeps only its digest.
func (p *Provider) RegisterClient(app string, redirectURIs []string) (Credentials, error) {
	if app == "" {
		return Credentials{}, errors.New("register oidc client: no app name")
	}
	if len(redirectURIs) == 0 {
		return Credentials{}, fmt.Errorf("register oidc client for %s: no redirect URI", app)
	}
	for _, r := range redirectURIs {
		if err := checkRedirectURI(r); err != nil {
			return Credentials{}, fmt.Errorf("register oidc client for %s: %w", app, err)
		}
	}
	secret := randomID(32)
	rec := clientRecord{
		ID:           ClientID(app),
		App:          app,
		SecretDigest: digest("client", secret),
		RedirectURIs: append([]string(nil), redirectURIs...),
		Created:      time.Now().UTC(),
	}
	if err := p.db.Put(prefixClient+rec.ID, rec); err != nil {
		return Credentials{}, fmt.Errorf("register oidc client for %s: %w", app, err)
	}
	return Credentials{Issuer: p.issuer, ClientID: rec.ID, ClientSecret: secret, RedirectURIs: rec.RedirectURIs}, nil
}

// RemoveClient removes the client of app and every token issued to it.
// Removing a client that does not exist is not an error.
func (p *Provider) RemoveClient(app string) error {
	id := ClientID(app)
	err := p.db.Update(func(t *kv.Txn) error {
		if err := t.Delete(prefixClient + id); err != nil {
			return err
		}
		return deleteTokensTxn(t, func(clientID, _ string) bool { return clientID == id })
	})
	if err != nil {
		return fmt.Errorf("remove oidc client of %s: %w", app, err)
	}
	return nil
}

// HasClient reports whether app has a registered client.
func (p *Provider) HasClient(app string) bool {
	var rec clientRecord
	return p.db.Get(prefixClient+ClientID(app), &rec) == nil
}

func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("redirect URI %q is not an absolute URL without fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return fmt.Errorf("redirect URI %q must use https", raw)
		}
	default:
		return fmt.Errorf("redirect URI %q must use https", raw)
	}
	return nil
}

// client is op.Client for a clientRecord: a confidential web client using
// the code flow (PKCE allowed, and required when the client sends a
// challenge) and refresh tokens, with opaque access tokens.
type client struct {
	rec   clientRecord
	login func(requestID string) string
}

func (c *client) GetID() string                       { return c.rec.ID }
func (c *client) RedirectURIs() []string              { return c.rec.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string            { return c.login(id) }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return time.Hour }
func (c *client) DevMode() bool                        { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) IsScopeAllowed(scope string) bool     { return scope == ScopeGroups }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// clientSecretBasicOrPost: the library checks the method against
// AuthMethod() only for private_key_jwt and none; basic and post are both
// accepted when Config.AuthMethodPost is on.
var _ op.Client = (*client)(nil)
