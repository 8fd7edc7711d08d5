package adminapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/stackhub/stackhub/declare"
	"github.com/stackhub/stackhub/internal/platform"
)

// DeclaredCheck is the body of POST /stackhub/declared/check: the apps a
// config declares, and the data folder that config names. The running
// StackHub checks them against its catalog and installed apps, as a
// reload would, and changes nothing. `stackhub validate` asks it, since a
// second process cannot open the data folder while StackHub runs.
//
// Values are not expanded ({env.X}, {file.…}): the validating process
// checks its placeholders itself.
type DeclaredCheck struct {
	Data string        `json:"data"`
	Apps []declare.App `json:"apps"`
}

// checkDeclared answers 200 when the declarations would load, 422 with
// the first mistake (file:line first) when not, and 409 when the config
// names another data folder than this StackHub's.
func (s *server) checkDeclared(w http.ResponseWriter, r *http.Request, p *platform.Platform) {
	var req DeclaredCheck
	if !decode(w, r, &req) {
		return
	}
	if req.Data != "" && req.Data != p.Config.DataDir {
		writeError(w, http.StatusConflict, fmt.Errorf("this StackHub serves the data folder %s, not %s", p.Config.DataDir, req.Data))
		return
	}
	if _, err := p.CheckDeclared(req.Apps, nil); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, struct {
		OK bool `json:"ok"`
	}{true})
}

// ErrNotChecked is CheckDeclared's answer when no StackHub checked the
// declarations for the data folder: none answers at the admin endpoint, it
// serves another data folder, or it is a StackHub without the check.
var ErrNotChecked = errors.New("no StackHub answers for this data folder")

// CheckDeclared asks the running StackHub to check the declared apps
// (POST /stackhub/declared/check). It returns nil when they would load,
// the first mistake when not, and an error wrapping ErrNotChecked when no
// StackHub checked them (then the caller checks them itself).
func (c Client) CheckDeclared(req DeclaredCheck) error {
	err := c.call(http.MethodPost, "/stackhub/declared/check", req, nil)
	var refused *OperationError
	if err == nil || errors.As(err, &refused) && refused.Status == http.StatusUnprocessableEntity {
		return err
	}
	return fmt.Errorf("%w: %v", ErrNotChecked, err)
}
