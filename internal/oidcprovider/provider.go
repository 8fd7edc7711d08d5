package oidcprovider

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
)

// Paths of the provider's endpoints, below the issuer. The portal forwards
// DiscoveryPath and everything under PathPrefix to Handler.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	PathPrefix    = "/oidc/"
	authorizePath = "/oidc/authorize"
)

// Users reads accounts; *auth.Service is one.
type Users interface {
	GetUser(name string) (auth.User, error)
}

// Options configure a Provider.
type Options struct {
	// Issuer is the provider's URL, "https://my.<domain>[:port]".
	Issuer string
	// Users is the account store.
	Users Users
	// Policy returns the access policy of an app (from the registry); an
	// app it does not know gets no tokens.
	Policy func(app string) (registry.Policy, bool)
	// LoginURL is the portal page the authorize endpoint sends the browser
	// to, with the pending request's id; the page calls Authorize.
	LoginURL func(requestID string) string
	// AllowInsecure accepts an http issuer (tests only).
	AllowInsecure bool
}

// Provider is the OpenID Connect provider.
type Provider struct {
	db     *kv.DB
	opts   Options
	issuer string
	keys   *keys
	op     *op.Provider

	lastPrune atomic.Int64 // unix seconds of the last prune (prune.go)
}

// ErrNotAllowed is returned by Authorize when the app's access policy does
// not admit the user.
var ErrNotAllowed = errors.New("your account may not use this app; ask an admin for access")

// New creates the provider, generating its keys on first use.
func New(db *kv.DB, o Options) (*Provider, error) {
	if o.Issuer == "" || o.Users == nil || o.Policy == nil || o.LoginURL == nil {
		return nil, errors.New("oidc provider: issuer, users, policy and login URL are required")
	}
	k, err := loadKeys(db)
	if err != nil {
		return nil, err
	}
	p := &Provider{db: db, opts: o, issuer: strings.TrimSuffix(o.Issuer, "/"), keys: k}
	cfg := &op.Config{
		CryptoKey:             k.crypto,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail,
			oidc.ScopeOfflineAccess, ScopeGroups},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "amr",
			"azp", "email", "email_verified", "preferred_username", "name", "groups"},
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint("oidc/authorize")),
		op.WithCustomTokenEndpoint(op.NewEndpoint("oidc/token")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("oidc/introspect")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint("oidc/userinfo")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint("oidc/revoke")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint("oidc/end_session")),
		op.WithCustomKeysEndpoint(op.NewEndpoint("oidc/keys")),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint("oidc/device_authorization")),
	}
	if o.AllowInsecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(cfg, storage{p}, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	return p, nil
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// Handler serves the protocol endpoints (discovery and /oidc/...).
func (p *Provider) Handler() http.Handler { return p.op }

// Pending describes an authorization waiting for the portal's sign-in.
type Pending struct {
	ID     string
	App    string
	Prompt []string
}

// PromptNone reports whether the client asked for no interaction.
func (q Pending) PromptNone() bool {
	for _, x := range q.Prompt {
		if x == oidc.PromptNone {
			return true
		}
	}
	return false
}

// PendingRequest returns the pending authorization with this id.
func (p *Provider) PendingRequest(id string) (Pending, error) {
	a, err := p.authRequest(id)
	if err != nil {
		return Pending{}, err
	}
	c, err := p.client(a.ClientID)
	if err != nil {
		return Pending{}, err
	}
	return Pending{ID: a.ID, App: c.rec.App, Prompt: a.Prompt}, nil
}

// Authorize completes the pending request id for the signed-in user id
// (amr says how they signed in: "pwd", "otp", "hwk" …) and returns the URL
// to send the browser to, which issues the code to the app. It returns
// ErrNotAllowed when the app's policy does not admit the user.
func (p *Provider) Authorize(requestID string, id auth.Identity, amr []string) (string, error) {
	if !id.SignedIn() {
		return "", errors.New("authorize: not signed in")
	}
	err := p.db.Update(func(t *kv.Txn) error {
		var a authRequest
		if err := t.Get(prefixAuthRequest+requestID, &a); err != nil || a.expired(time.Now()) {
			return fmt.Errorf("sign-in request %w; start again from the app", errInvalid)
		}
		if err := p.mayUse(id.User, a.ClientID); err != nil {
			return err
		}
		a.User, a.AMR, a.AuthTime, a.IsDone = id.User, amr, time.Now().UTC(), true
		return t.Put(prefixAuthRequest+requestID, a)
	})
	if err != nil {
		return "", err
	}
	return p.issuer + authorizePath + "/callback?id=" + url.QueryEscape(requestID), nil
}

// Deny ends the pending request id and returns the URL that tells the app
// so (error=access_denied, or login_required for prompt=none).
func (p *Provider) Deny(requestID string, loginRequired bool) (string, error) {
	a, err := p.authRequest(requestID)
	if err != nil {
		return "", err
	}
	if err := p.db.Delete(prefixAuthRequest + requestID); err != nil {
		return "", err
	}
	code := "access_denied"
	if loginRequired {
		code = "login_required"
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("error", code)
	if a.State != "" {
		q.Set("state", a.State)
	}
	q.Set("iss", p.issuer)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// RevokeUser deletes every token of user (call it when the user is
// disabled or removed). Tokens are also refused at each use while the user
// is disabled, so this is the clean-up, not the only guard.
func (p *Provider) RevokeUser(user string) error {
	err := p.db.Update(func(t *kv.Txn) error {
		return deleteTokensTxn(t, func(_, u string) bool { return u == user })
	})
	if err != nil {
		return fmt.Errorf("revoke oidc tokens of %s: %w", user, err)
	}
	return nil
}

// mayUse reports (nil) whether user may get or use tokens for clientID:
// the user exists and is not disabled, the client exists, and its app's
// policy admits the user (auth.Allowed, as the gate decides for "/").
func (p *Provider) mayUse(user, clientID string) error {
	c, err := p.client(clientID)
	if err != nil {
		return err
	}
	id, err := p.identity(user)
	if err != nil {
		return err
	}
	pol, ok := p.opts.Policy(c.rec.App)
	if !ok || !auth.Allowed(id, pol, "/") {
		return ErrNotAllowed
	}
	return nil
}

func (p *Provider) identity(user string) (auth.Identity, error) {
	u, err := p.opts.Users.GetUser(user)
	if err != nil {
		return auth.Identity{}, fmt.Errorf("user %s: %w", user, err)
	}
	if u.Disabled {
		return auth.Identity{}, fmt.Errorf("user %s is disabled", user)
	}
	return auth.Identity{User: u.Name, Email: u.Email, Role: u.Role, Groups: u.Groups}, nil
}

func (p *Provider) userinfo(ui *oidc.UserInfo, user, clientID string, scopes []string) error {
	if err := p.mayUse(user, clientID); err != nil {
		return err
	}
	id, err := p.identity(user)
	if err != nil {
		return err
	}
	ui.Subject = id.User
	if hasScope(scopes, oidc.ScopeEmail) && id.Email != "" {
		ui.Email = id.Email
		// Admins set e-mail addresses; StackHub sends no confirmation mail.
		ui.EmailVerified = oidc.Bool(true)
	}
	if hasScope(scopes, oidc.ScopeProfile) {
		ui.PreferredUsername = id.User
		ui.Name = id.User
	}
	if hasScope(scopes, ScopeGroups) {
		groups := append([]string{}, id.Groups...)
		if id.IsAdmin() {
			groups = append(groups, "admins")
		}
		ui.AppendClaims("groups", groups)
	}
	return nil
}

func (p *Provider) authRequest(id string) (*authRequest, error) {
	var a authRequest
	if err := p.db.Get(prefixAuthRequest+id, &a); err != nil || a.expired(time.Now()) {
		return nil, fmt.Errorf("sign-in request %w; start again from the app", errInvalid)
	}
	return &a, nil
}

func (p *Provider) client(id string) (*client, error) {
	var rec clientRecord
	if err := p.db.Get(prefixClient+id, &rec); err != nil {
		return nil, fmt.Errorf("client %q is not registered", id)
	}
	return &client{rec: rec, login: p.opts.LoginURL}, nil
}

func (p *Provider) access(id string) (*accessToken, error) {
	var at accessToken
	if err := p.db.Get(prefixAccess+id, &at); err != nil || time.Now().After(at.Expires) {
		return nil, errInvalid
	}
	return &at, nil
}

func (p *Provider) refresh(token string) (*refreshToken, error) {
	var rt refreshToken
	if err := p.db.Get(prefixRefresh+digest("refresh", token), &rt); err != nil || time.Now().After(rt.Expires) {
		return nil, op.ErrInvalidRefreshToken
	}
	return &rt, nil
}

func ctEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
