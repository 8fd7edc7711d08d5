package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stackhub/stackhub/internal/kv"
)

// storage is op.Storage over kv. Its methods are called by the library;
// the StackHub rules (policy, user state) are enforced here, at every
// point where a token is issued or used.
type storage struct{ p *Provider }

var errInvalid = errors.New("invalid or expired")

func (s storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.p.maybePrune(time.Now())
	a := &authRequest{
		ID:           randomID(24),
		Created:      time.Now().UTC(),
		ClientID:     r.ClientID,
		RedirectURI:  r.RedirectURI,
		State:        r.State,
		Nonce:        r.Nonce,
		Scopes:       r.Scopes,
		ResponseType: string(r.ResponseType),
		ResponseMode: string(r.ResponseMode),
		Prompt:       r.Prompt,
		Challenge:    r.CodeChallenge,
	}
	if r.CodeChallenge != "" {
		a.ChallengeMeth = string(r.CodeChallengeMethod)
		if a.ChallengeMeth == "" {
			a.ChallengeMeth = string(oidc.CodeChallengeMethodPlain)
		}
	}
	if err := s.p.db.Put(prefixAuthRequest+a.ID, a); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return a, nil
}

func (s storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	return s.p.authRequest(id)
}

func (s storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	var id string
	if err := s.p.db.Get(prefixCode+digest("code", code), &id); err != nil {
		return nil, fmt.Errorf("code %w", errInvalid)
	}
	a, err := s.p.authRequest(id)
	if err != nil || !a.IsDone {
		return nil, fmt.Errorf("code %w", errInvalid)
	}
	return a, nil
}

func (s storage) SaveAuthCode(_ context.Context, id, code string) error {
	return s.p.db.Put(prefixCode+digest("code", code), id)
}

// DeleteAuthRequest is called once the code was exchanged: the request and
// its code go together, so a code works once.
func (s storage) DeleteAuthRequest(_ context.Context, id string) error {
	return s.p.db.Update(func(t *kv.Txn) error {
		for _, k := range t.Keys(prefixCode) {
			var rid string
			if t.Get(k, &rid) == nil && rid == id {
				if err := t.Delete(k); err != nil {
					return err
				}
			}
		}
		return t.Delete(prefixAuthRequest + id)
	})
}

// tokenSubject returns who and for which client a token request is, and
// the request's scopes and audience, after checking that the user may
// still get tokens for the client.
func (s storage) tokenSubject(req op.TokenRequest) (user, clientID string, err error) {
	user = req.GetSubject()
	switch r := req.(type) {
	case *authRequest:
		clientID = r.ClientID
	case refreshRequest:
		clientID = r.ClientID
	default:
		return "", "", oidc.ErrUnsupportedGrantType()
	}
	if err := s.p.mayUse(user, clientID); err != nil {
		return "", "", oidc.ErrAccessDenied().WithDescription("%s", err.Error())
	}
	return user, clientID, nil
}

func (s storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	user, clientID, err := s.tokenSubject(req)
	if err != nil {
		return "", time.Time{}, err
	}
	at := accessToken{ID: randomID(24), ClientID: clientID, User: user, Scopes: req.GetScopes(),
		Audience: req.GetAudience(), Expires: time.Now().Add(accessTokenTTL).UTC()}
	if err := s.p.db.Put(prefixAccess+at.ID, at); err != nil {
		return "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return at.ID, at.Expires, nil
}

func (s storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	user, clientID, err := s.tokenSubject(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := time.Now().UTC()
	newRefresh := randomID(32)
	at := accessToken{ID: randomID(24), ClientID: clientID, User: user, Scopes: req.GetScopes(),
		Audience: req.GetAudience(), Expires: now.Add(accessTokenTTL), RefreshID: digest("refresh", newRefresh)}
	rt := refreshToken{ID: at.RefreshID, ClientID: clientID, User: user, Scopes: req.GetScopes(),
		Audience: req.GetAudience(), AccessID: at.ID, Expires: now.Add(refreshTTL), AuthTime: now}
	switch r := req.(type) {
	case *authRequest:
		rt.AMR, rt.AuthTime = r.AMR, r.AuthTime
	case refreshRequest:
		rt.AMR, rt.AuthTime = r.AMR, r.AuthTime
	}
	err = s.p.db.Update(func(t *kv.Txn) error {
		if current != "" {
			// Rotation: the old refresh token and its access token end
			// here; a second use of the old one finds nothing.
			var old refreshToken
			k := prefixRefresh + digest("refresh", current)
			if err := t.Get(k, &old); err != nil || old.ClientID != clientID {
				return errInvalid
			}
			if err := t.Delete(k); err != nil {
				return err
			}
			if old.AccessID != "" {
				if err := t.Delete(prefixAccess + old.AccessID); err != nil {
					return err
				}
			}
		}
		if err := t.Put(prefixAccess+at.ID, at); err != nil {
			return err
		}
		return t.Put(prefixRefresh+rt.ID, rt)
	})
	if errors.Is(err, errInvalid) {
		return "", "", time.Time{}, oidc.ErrInvalidGrant()
	}
	if err != nil {
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return at.ID, newRefresh, at.Expires, nil
}

func (s storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	rt, err := s.p.refresh(token)
	if err != nil {
		return nil, err
	}
	if err := s.p.mayUse(rt.User, rt.ClientID); err != nil {
		return nil, err
	}
	return refreshRequest{rt}, nil
}

func (s storage) TerminateSession(_ context.Context, user, clientID string) error {
	return s.p.db.Update(func(t *kv.Txn) error {
		return deleteTokensTxn(t, func(c, u string) bool { return c == clientID && u == user })
	})
}

func (s storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	rt, err := s.p.refresh(token)
	if err != nil || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.User, rt.ID, nil
}

func (s storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	var oerr *oidc.Error
	err := s.p.db.Update(func(t *kv.Txn) error {
		var at accessToken
		if t.Get(prefixAccess+tokenOrID, &at) == nil {
			if at.ClientID != clientID {
				oerr = oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
				return nil
			}
			return t.Delete(prefixAccess + tokenOrID)
		}
		// A refresh token arrives by value, or by id (its digest) when the
		// library resolved it through GetRefreshTokenInfo.
		for _, id := range []string{tokenOrID, digest("refresh", tokenOrID)} {
			var rt refreshToken
			if t.Get(prefixRefresh+id, &rt) != nil {
				continue
			}
			if rt.ClientID != clientID {
				oerr = oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
				return nil
			}
			if rt.AccessID != "" {
				if err := t.Delete(prefixAccess + rt.AccessID); err != nil {
					return err
				}
			}
			return t.Delete(prefixRefresh + id)
		}
		return nil // unknown token: already not valid (RFC 7009 §2.2)
	})
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return oerr
}

func (s storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{s.p.keys}, nil
}

func (s storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.p.keys}}, nil
}

func (s storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, err := s.p.client(id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, err := s.p.client(id)
	if err != nil {
		return err
	}
	if secret == "" || !ctEqual(c.rec.SecretDigest, digest("client", secret)) {
		return errors.New("wrong client secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the library (SetUserinfoFromRequest
// replaces it).
func (s storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.p.userinfo(ui, req.GetSubject(), req.GetClientID(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint: the token must still
// exist (not revoked, not expired) and its user still be admitted.
func (s storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	at, err := s.p.access(tokenID)
	if err != nil || at.User != subject {
		return fmt.Errorf("access token %w", errInvalid)
	}
	return s.p.userinfo(ui, at.User, at.ClientID, at.Scopes)
}

func (s storage) SetIntrospectionFromToken(_ context.Context, ir *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	at, err := s.p.access(tokenID)
	if err != nil || at.User != subject {
		return fmt.Errorf("access token %w", errInvalid)
	}
	if at.ClientID != clientID {
		return errors.New("token was not issued to this client")
	}
	var ui oidc.UserInfo
	if err := s.p.userinfo(&ui, at.User, at.ClientID, at.Scopes); err != nil {
		return err
	}
	ir.SetUserInfo(&ui)
	ir.Scope = at.Scopes
	ir.ClientID = at.ClientID
	ir.Audience = at.Audience
	ir.Expiration = oidc.FromTime(at.Expires)
	return nil
}

func (s storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID serves the JWT profile grant, which StackHub does
// not offer.
func (s storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("jwt profile grant not supported")
}

func (s storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt profile grant not supported")
}

func (s storage) Health(context.Context) error { return nil }

var (
	_ op.Storage                   = storage{}
	_ op.CanSetUserinfoFromRequest = storage{}
)
