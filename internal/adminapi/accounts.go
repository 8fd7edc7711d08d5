package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/portal"
)

// AccountsHandler serves the accounts and access part of the API, for the
// local `stackhub user …` and `stackhub access …` commands. Like the rest of
// the API it is only as reachable as Caddy's admin endpoint (loopback or a
// unix socket): whoever reaches it owns the box anyway, which is why
// creating an admin here needs no setup token.
//
//	GET    /stackhub/users                   users
//	POST   /stackhub/users                   create (UserRequest)
//	PATCH  /stackhub/users/{name}            change (UserChange)
//	DELETE /stackhub/users/{name}            remove; their sessions end at once
//	POST   /stackhub/users/{name}/password   {"password": …}; signs them out everywhere
//	POST   /stackhub/users/{name}/reset-totp remove their second factor
//	POST   /stackhub/users/{name}/signout    end every session of the user
//	PUT    /stackhub/settings/totp-required  {"required": bool}; relaxing it is logged as a warning
//	PUT    /stackhub/settings/passkeys-required  {"required": bool}: admins who have a passkey must use it
//	GET    /stackhub/routes                  the registry: host, upstream, policy
//	PUT    /stackhub/policy/{app}            set an app's access policy (registry.Policy)
func AccountsHandler(p func() *platform.Platform) http.Handler {
	return guard(&accounts{platform: p})
}

type accounts struct {
	platform func() *platform.Platform
}

// UserRequest creates a user.
type UserRequest struct {
	Name     string   `json:"name"`
	Email    string   `json:"email,omitempty"`
	Role     string   `json:"role,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	Password string   `json:"password"`
}

// UserChange changes the non-nil fields of a user.
type UserChange struct {
	Email    *string   `json:"email,omitempty"`
	Role     *string   `json:"role,omitempty"`
	Groups   *[]string `json:"groups,omitempty"`
	Disabled *bool     `json:"disabled,omitempty"`
}

func (s *accounts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := s.platform()
	if p == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("StackHub is starting or not configured: the stackhub app is not running"))
		return
	}
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/stackhub"), "/")
	parts := strings.Split(path, "/")
	a := p.Auth
	switch {
	case path == "users" && r.Method == http.MethodGet:
		users, err := a.Users()
		if err != nil {
			writeError(w, 500, err)
			return
		}
		writeJSON(w, users)
	case path == "users" && r.Method == http.MethodPost:
		var req UserRequest
		if !decode(w, r, &req) {
			return
		}
		u, err := a.CreateUser(auth.NewUser{Name: req.Name, Email: req.Email, Role: auth.Role(req.Role), Groups: req.Groups, Password: req.Password})
		if err != nil {
			writeAuthError(w, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
		writeJSON(w, u)
	case len(parts) == 2 && parts[0] == "users" && r.Method == http.MethodPatch:
		var req UserChange
		if !decode(w, r, &req) {
			return
		}
		ch := auth.UserUpdate{Email: req.Email, Groups: req.Groups, Disabled: req.Disabled}
		if req.Role != nil {
			role := auth.Role(*req.Role)
			ch.Role = &role
		}
		u, err := a.UpdateUser(parts[1], ch)
		if err != nil {
			writeAuthError(w, err)
			return
		}
		writeJSON(w, u)
	case len(parts) == 2 && parts[0] == "users" && r.Method == http.MethodDelete:
		noContent(w, a.DeleteUser(parts[1]))
	case len(parts) == 3 && parts[0] == "users" && r.Method == http.MethodPost:
		switch parts[2] {
		case "password":
			var req struct {
				Password string `json:"password"`
			}
			if !decode(w, r, &req) {
				return
			}
			noContent(w, a.SetPassword(parts[1], req.Password))
		case "reset-totp":
			noContent(w, a.ResetTOTP(parts[1]))
		case "signout":
			noContent(w, a.RevokeUserSessions(parts[1]))
		default:
			writeError(w, 404, fmt.Errorf("no operation %q: use password, reset-totp or signout", parts[2]))
		}
	case path == "settings/totp-required" && r.Method == http.MethodPut:
		var req struct {
			Required *bool `json:"required"`
		}
		if !decode(w, r, &req) {
			return
		}
		if req.Required == nil {
			writeError(w, 400, errors.New(`send {"required": true} or {"required": false}`))
			return
		}
		if err := a.SetTOTPRequired(*req.Required); err != nil {
			writeAuthError(w, err)
			return
		}
		if !*req.Required && p.Log != nil {
			p.Log.Warn("two-factor sign-in made OPTIONAL by the admin API: users without TOTP now sign in with a password alone")
		}
		w.WriteHeader(http.StatusNoContent)
	case path == "settings/passkeys-required" && r.Method == http.MethodPut: // issue 13
		var req struct {
			Required *bool `json:"required"`
		}
		if !decode(w, r, &req) {
			return
		}
		if req.Required == nil {
			writeError(w, 400, errors.New(`send {"required": true} or {"required": false}`))
			return
		}
		noContent(w, a.SetPasskeysRequiredForAdmins(*req.Required))
	case path == "routes" && r.Method == http.MethodGet:
		writeJSON(w, p.Registry.Entries())
	case len(parts) == 2 && parts[0] == "policy" && r.Method == http.MethodPut:
		var pol registry.Policy
		if !decode(w, r, &pol) {
			return
		}
		if err := portal.SetPolicy(p.Apps, parts[1], pol); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, 404, fmt.Errorf("no API at %s %s", r.Method, r.URL.Path))
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeError(w, 400, fmt.Errorf("read request: %w", err))
		return false
	}
	return true
}

func noContent(w http.ResponseWriter, err error) {
	if err != nil {
		writeAuthError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeAuthError answers with the error's public message (the log-only
// details of internal failures stay out of the answer).
func writeAuthError(w http.ResponseWriter, err error) {
	var ae *auth.Error
	status := 500
	switch {
	case errors.Is(err, auth.ErrUserNotFound):
		status = 404
	case errors.Is(err, auth.ErrUserExists), errors.Is(err, auth.ErrLastAdmin):
		status = 409
	case errors.As(err, &ae):
		status = 400
	}
	writeError(w, status, errors.New(auth.PublicMessage(err)))
}

// Users lists the users.
func (c Client) Users() ([]auth.User, error) {
	var out []auth.User
	err := c.call("GET", "/stackhub/users", nil, &out)
	return out, err
}

// AddUser creates a user.
func (c Client) AddUser(req UserRequest) (auth.User, error) {
	var out auth.User
	err := c.call("POST", "/stackhub/users", req, &out)
	return out, err
}

// UpdateUser changes a user.
func (c Client) UpdateUser(name string, ch UserChange) (auth.User, error) {
	var out auth.User
	err := c.call("PATCH", "/stackhub/users/"+url.PathEscape(name), ch, &out)
	return out, err
}

// RemoveUser removes a user.
func (c Client) RemoveUser(name string) error {
	return c.call("DELETE", "/stackhub/users/"+url.PathEscape(name), nil, nil)
}

// UserOp runs password, reset-totp or signout on a user.
func (c Client) UserOp(name, op string, body any) error {
	return c.call("POST", "/stackhub/users/"+url.PathEscape(name)+"/"+op, body, nil)
}

// SetTOTPRequired turns the TOTP requirement on or off.
func (c Client) SetTOTPRequired(required bool) error {
	return c.call("PUT", "/stackhub/settings/totp-required", map[string]bool{"required": required}, nil)
}

// SetPasskeysRequired turns on or off the rule that admins who have a
// passkey sign in with it.
func (c Client) SetPasskeysRequired(required bool) error {
	return c.call("PUT", "/stackhub/settings/passkeys-required", map[string]bool{"required": required}, nil)
}

// Routes lists the registry's entries.
func (c Client) Routes() ([]registry.Entry, error) {
	var out []registry.Entry
	err := c.call("GET", "/stackhub/routes", nil, &out)
	return out, err
}

// SetPolicy sets an app's access policy.
func (c Client) SetPolicy(app string, pol registry.Policy) error {
	return c.call("PUT", "/stackhub/policy/"+url.PathEscape(app), pol, nil)
}
