// Package oidcprovider makes StackHub an OpenID Connect provider at
// https://my.<domain>, so apps sign users in with their StackHub account.
//
// The protocol is github.com/zitadel/oidc/v3's op package (discovery, the
// authorization code flow with PKCE, refresh tokens, userinfo,
// introspection, revocation, keys); this package is its storage over
// internal/kv plus the StackHub rules:
//
//   - Clients are registered by StackHub itself when an app that declares
//     OIDC is installed (RegisterClient) and removed with it (RemoveClient).
//     Client secrets are random 256-bit values stored only as SHA-256
//     digests; redirect URIs must match exactly (no globs).
//   - Sign-in reuses the portal session: the authorize endpoint sends the
//     browser to the portal (Options.LoginURL with the request id); the
//     portal, once it knows who is signed in, calls Authorize, which checks
//     the app's access policy with auth.Allowed (the gate's own decision)
//     and returns the URL that finishes the flow. No second password.
//   - Tokens: access tokens are opaque (the library encrypts the token id
//     with a key kept in kv) and every use looks the token up in kv, so a
//     revoked token stops working at once. Refresh tokens are random
//     256-bit values stored as digests and rotated on each use.
//   - Every token issued or used is checked against the user's current
//     state: a disabled or deleted user, or one the app's policy no longer
//     admits, gets no token and no userinfo. RevokeUser deletes a user's
//     tokens (called when an admin disables the user).
//   - Claims: sub is the user name; scope email gives email and
//     email_verified, profile gives preferred_username and name, groups
//     gives groups (the user's groups, plus "admins" for StackHub admins).
//   - The signing key (RSA 2048, RS256) and the token encryption key are
//     generated at the first start and kept in kv, so tokens and the JWKS
//     survive restarts.
package oidcprovider
